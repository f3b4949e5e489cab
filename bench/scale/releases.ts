// The releases of a scale run: N small models, half behind an HTTPRoute (gateway-api) and half
// split by ready pods (replica-ratio), one pod per track, some candidates bad (5xx at 50%). A first
// wave makes every model's stable version; the second wave is the canary measured. Each release's
// end is checked in the cluster, not only in Temporal.
import * as k8s from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { rejectSignal, statusQuery } from '../../workflows/messages.ts';
import { release, type ReleaseResult } from '../../workflows/release.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { clusterState, ERROR_RATE_QUERY, releaseSpec } from '../../test/helpers/release-fixtures.ts';

export type Router = 'gateway-api' | 'replica-ratio';

export interface ScaleModel {
  model: string;
  router: Router;
  /** The second wave's candidate answers 50% 5xx: its release must end RolledBack. */
  bad: boolean;
}

export interface WaveOptions {
  namespace: string;
  taskQueue: string;
  version: 'v1' | 'v2';
  hold: string;
  gateInterval: string;
  /**
   * Requests per second the simulator sends each model (its `sim.slipway.dev/requests-per-second`
   * annotation, on the pod template like every `serving.annotations` entry).
   */
  requestsPerSecond?: number;
}

export function scaleModels(count: number, badEvery: number): ScaleModel[] {
  return Array.from({ length: count }, (_, i) => ({
    model: `sc-${String(i).padStart(4, '0')}`,
    router: i % 2 === 0 ? 'gateway-api' : 'replica-ratio',
    bad: badEvery > 0 && i % badEvery === badEvery - 1,
  }));
}

export function scaleSpec(m: ScaleModel, o: WaveOptions): ReleaseSpecInput {
  const base = releaseSpec({
    namespace: o.namespace,
    model: m.model,
    version: o.version,
    annotations: {
      // The gates read error rates only; without 22 latency buckets per series the simulator's
      // /metrics for 1,000 models fits in Prometheus's 1 s scrape timeout.
      'sim.slipway.dev/latency-histogram': 'off',
      ...(o.requestsPerSecond === undefined
        ? {}
        : { 'sim.slipway.dev/requests-per-second': String(o.requestsPerSecond) }),
      ...(o.version === 'v2' && m.bad ? { 'sim.slipway.dev/error-rate': '0.5' } : {}),
    },
    steps: [{ weight: 50, hold: o.hold }],
    progressDeadlineSeconds: 600,
  });
  return {
    ...base,
    serving: { ...base.serving, replicas: 1, resources: { requests: { cpu: '10m', memory: '16Mi' } } },
    traffic: { router: m.router },
    gates: (base.gates ?? []).map((g) => ({
      ...g,
      interval: o.gateInterval,
      // The canaries' gate over 30 s (below); a first release's stays at 2 s, since a wider window
      // would reach back before its pods were ready, when the simulator answered its requests 503.
      ...('prometheus' in g && o.version === 'v2'
        ? { prometheus: { ...g.prometheus, query: SCALE_ERROR_RATE_QUERY } }
        : {}),
    })),
  };
}

/**
 * The fixtures' error rate over 30 s instead of 2 s: with hundreds of releases on two cores a
 * scrape or a gate's measurement can be seconds late, and a 2 s window then holds no samples —
 * no data, which the gate (onNoData: pass, for the first seconds after a weight change) passes.
 * At 300 releases two bad candidates were promoted that way.
 */
export const SCALE_ERROR_RATE_QUERY = ERROR_RATE_QUERY.replaceAll('[2s]', '[30s]');

export function workflowIdOf(namespace: string, m: ScaleModel, version: string): string {
  return `scale-${namespace}-${m.model}-${version}`;
}

/** Starts one wave, `parallel` starts at a time; resolves when every start was accepted. */
export async function startWave(
  client: Client,
  models: ScaleModel[],
  o: WaveOptions,
  parallel = 25,
): Promise<void> {
  let next = 0;
  const starter = async () => {
    while (next < models.length) {
      const m = models[next++]!;
      await client.workflow.start(release, {
        taskQueue: o.taskQueue,
        workflowId: workflowIdOf(o.namespace, m, o.version),
        args: [{ spec: scaleSpec(m, o), submittedBy: 'scale-bench' }],
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, starter));
}

/**
 * Waits until no release of the task queue runs (one visibility count every 2 s, not N long polls);
 * `onTick` runs before each count (e.g. to answer releases that wait for a person).
 */
export async function untilWaveEnds(
  client: Client,
  taskQueue: string,
  timeoutMs: number,
  onTick: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await onTick();
    const { count } = await client.workflow.count(
      `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"`,
    );
    if (count === 0) return;
    if (Date.now() > deadline) throw new Error(`${count} releases still running after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

/**
 * A gate that could not decide (no data in a row, errors) pauses its release for a person, as it
 * should: the bench then plays the operator and rejects it, so the release rolls back and the wave
 * ends. Found by the `GateInconclusive` Kubernetes Events on the models' Deployments (one list call,
 * not a query per release); the models rejected are added to `rejected` and reported on their own.
 */
export async function rejectInconclusive(
  client: Client,
  core: k8s.CoreV1Api,
  o: Pick<WaveOptions, 'namespace' | 'version'>,
  models: ScaleModel[],
  since: number,
  rejected: Set<string>,
): Promise<void> {
  const events = await core
    .listNamespacedEvent({ namespace: o.namespace, fieldSelector: 'reason=GateInconclusive' })
    .catch(() => undefined);
  const byName = new Map(models.map((m) => [m.model, m]));
  for (const event of events?.items ?? []) {
    const m = byName.get(event.involvedObject.name ?? '');
    const created = event.metadata.creationTimestamp?.getTime() ?? 0;
    if (!m || rejected.has(m.model) || created < since) continue;
    rejected.add(m.model);
    await client.workflow
      .getHandle(workflowIdOf(o.namespace, m, o.version))
      .signal(rejectSignal, { actor: 'scale-bench', comment: 'inconclusive gate: the bench rejects it' })
      .catch(() => undefined);
  }
}

export interface Ended {
  model: ScaleModel;
  result: ReleaseResult | undefined;
  /** Why the workflow itself failed (it should never: outcomes are results). */
  error?: string;
  status?: ReleaseStatus;
}

export async function collect(
  client: Client,
  models: ScaleModel[],
  o: Pick<WaveOptions, 'namespace' | 'version'>,
  withStatus: boolean,
  parallel = 10,
): Promise<Ended[]> {
  const out: Ended[] = [];
  let next = 0;
  const reader = async () => {
    while (next < models.length) {
      const m = models[next++]!;
      const handle = client.workflow.getHandle(workflowIdOf(o.namespace, m, o.version));
      try {
        const result = (await handle.result()) as ReleaseResult;
        out.push({ model: m, result, ...(withStatus ? { status: await handle.query(statusQuery) } : {}) });
      } catch (error) {
        out.push({
          model: m,
          result: undefined,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, reader));
  return out;
}

/** What the cluster must show for this outcome; undefined when it does. */
export async function clusterMismatch(
  clients: { apps: k8s.AppsV1Api; custom: k8s.CustomObjectsApi },
  namespace: string,
  e: Ended,
  wave: 'v1' | 'v2',
  /** Rejected by the bench after an inconclusive gate paused them: they must have rolled back. */
  rejected: ReadonlySet<string> = new Set(),
): Promise<string | undefined> {
  const wasRejected = rejected.has(e.model.model);
  const want = wasRejected || (wave === 'v2' && e.model.bad) ? 'RolledBack' : 'Promoted';
  const got = e.result?.outcome.result ?? `failed (${e.error ?? 'no result'})`;
  if (got !== want) return `${e.model.model}: ${got}, expected ${want} (${e.result?.outcome.reason ?? ''})`;
  const state = await clusterState(clients, namespace, e.model.model);
  if (wave === 'v1' && want === 'RolledBack') {
    // A first release rolled back leaves nothing behind.
    if (state.stableVersion || state.candidateExists || state.weights)
      return `${e.model.model}: a first release rolled back left ${JSON.stringify(state)}`;
    return undefined;
  }
  const version = want === 'Promoted' ? wave : 'v1';
  if (state.stableVersion !== version)
    return `${e.model.model}: stable serves ${state.stableVersion ?? 'nothing'}, expected ${version}`;
  if (state.candidateExists) return `${e.model.model}: the candidate Deployment is still there`;
  if (e.model.router === 'gateway-api' && (state.weights?.stable !== 100 || state.weights.canary !== 0))
    return `${e.model.model}: route at ${JSON.stringify(state.weights)}, expected all on stable`;
  if (e.model.router === 'replica-ratio') {
    const stable = await clients.apps.readNamespacedDeployment({ name: e.model.model, namespace });
    if (stable.spec?.replicas !== 1)
      return `${e.model.model}: stable has ${stable.spec?.replicas} replicas, expected 1`;
  }
  return undefined;
}

/** The span of each release's canary hold, from its timeline: [entered the step, left it]. */
export function holdWindow(status: ReleaseStatus | undefined): { from: number; to: number } | undefined {
  const timeline = status?.timeline ?? [];
  const i = timeline.findIndex((t) => /^canary step 1\/1/.test(t.message));
  const after = timeline[i + 1];
  if (i < 0 || !after) return undefined;
  return { from: Date.parse(timeline[i]!.at), to: Date.parse(after.at) };
}

export function clusterClients(kc: k8s.KubeConfig) {
  return { apps: kc.makeApiClient(k8s.AppsV1Api), custom: kc.makeApiClient(k8s.CustomObjectsApi) };
}
