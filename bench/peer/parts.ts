// One tool's part of the peer bench, measured the same way for every tool: its process (a Slipway
// worker, the Argo Rollouts controller, the Flagger controller) talks to the apiserver through its
// own counting proxy, its memory is sampled, apiserver_request_total is read before and after (less
// the bench's own requests), and `runs` models each go v1 → good v2 → bad v3. Reaction: the first
// failing sample of the gate's query in Prometheus → the first poll with the candidate serving
// nothing (routing replicas: no ready candidate pod; istio: a weight of 0 in the VirtualService).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { trackServiceName } from '../../activities/kubernetes/labels.ts';
import { workflowsPath } from '../../worker/create-worker.ts';
import { startWorkerProcess } from '../../test/helpers/worker-process.ts';
import { apiserverRequestTotal } from './apiserver-metrics.ts';
import { startArgoController } from './argo-controller.ts';
import { ArgoSide, watchRollout } from './argo-side.ts';
import { startCountingProxy, type CountingProxy, type RequestCounts } from './counting-proxy.ts';
import { startFlaggerController } from './flagger-controller.ts';
import { FlaggerSide, flaggerOverheads, flaggerQuery, watchCanary } from './flagger-side.ts';
import {
  firstFailingSample,
  queryValues,
  watchCandidatePods,
  watchCanaryWeight,
  type CandidateWatch,
} from './observe.ts';
import { sampleMemory } from './process-memory.ts';
import { BAD_STEP, GATE, GOOD_STEPS, VERSIONS, gateQuery, type Routing } from './scenario.ts';
import { SLIPWAY_BAD_STEPS, SlipwaySide } from './slipway-side.ts';

export interface ToolFigures {
  tool: string;
  version: string;
  releases: number;
  reactionMs: number[];
  overheadPerStepMs: number[];
  requests: RequestCounts;
  /** apiserver_request_total's increase during the tool's part, less the bench's own requests. */
  apiserverRequestsOtherClients: number;
  memory: { peakMiB: number; lastMiB: number; samples: number };
  durationMs: number;
  /** The tool's requests in the AFTER_MS after its last release (delayed scale-downs, resyncs, polls). */
  requestsAfter: number;
  /** Bad candidates the tool promoted instead of rolling back (no reaction for those). */
  badPromoted: number;
  /** What went otherwise than the scenario says, with the evidence. */
  anomalies: string[];
}

/** How long each part goes on after its last release, counting the tool's requests. */
export const AFTER_MS = 30_000;

export interface PartContext {
  namespace: string;
  routing: Routing;
  runs: number;
  /** The bench's own client (through `observer`). */
  kc: k8s.KubeConfig;
  observer: CountingProxy;
}

interface Launched {
  pid: number;
  version: string;
  stop(): Promise<void>;
}

type Figures = Pick<ToolFigures, 'reactionMs' | 'overheadPerStepMs' | 'badPromoted' | 'anomalies'>;

/** Runs `releases` with the tool `launch` started behind its own counting proxy, and measures it. */
async function measured(
  ctx: PartContext,
  tool: string,
  launch: (kubeconfig: string) => Promise<Launched>,
  releases: (figures: Figures) => Promise<void>,
): Promise<ToolFigures> {
  const proxy = await startCountingProxy(tool, ctx.namespace);
  const apiBefore = await apiserverRequestTotal();
  ctx.observer.reset();
  const started = Date.now();
  const launched = await launch(proxy.kubeconfig);
  const memory = sampleMemory(launched.pid);
  const figures: Figures = { reactionMs: [], overheadPerStepMs: [], badPromoted: 0, anomalies: [] };
  let requestsAfter: number;
  try {
    await releases(figures);
    const before = proxy.counts().total;
    await new Promise((resolve) => setTimeout(resolve, AFTER_MS));
    requestsAfter = proxy.counts().total - before;
  } finally {
    await launched.stop().catch(() => undefined);
  }
  const result: ToolFigures = {
    tool,
    version: launched.version,
    releases: 3 * ctx.runs,
    ...figures,
    requests: proxy.counts(),
    apiserverRequestsOtherClients: (await apiserverRequestTotal()) - apiBefore - ctx.observer.counts().total,
    memory: memory.stop(),
    durationMs: Date.now() - started,
    requestsAfter,
  };
  await proxy.close();
  return result;
}

/** Watches the bad candidate: its ready pods (replicas) or its weight in the VirtualService `model` (istio). */
function watchCandidate(ctx: PartContext, model: string): CandidateWatch {
  if (ctx.routing === 'istio')
    return watchCanaryWeight(
      ctx.kc.makeApiClient(k8s.CustomObjectsApi),
      ctx.namespace,
      model,
      trackServiceName(model, 'canary'),
    );
  return watchCandidatePods(ctx.kc.makeApiClient(k8s.CoreV1Api), ctx.namespace, model, VERSIONS.bad);
}

/** Reaction of one bad release: first failing sample → the candidate serving nothing. */
async function reaction(ctx: PartContext, model: string, startedAt: number, watch: CandidateWatch) {
  const deadline = Date.now() + 30_000;
  let failing: number | undefined;
  let gone: number | undefined;
  while (Date.now() < deadline) {
    failing ??= await firstFailingSample(
      gateQuery(ctx.namespace, model, VERSIONS.bad),
      GATE.max,
      startedAt,
      Date.now(),
    );
    gone = failing === undefined ? undefined : watch.goneAfter(failing);
    if (gone !== undefined) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await watch.stop();
  if (failing === undefined) throw new Error(`${model}: Prometheus never held a failing sample`);
  if (gone === undefined) throw new Error(`${model}: the bad candidate kept serving`);
  return gone - failing;
}

export async function slipwayPart(ctx: PartContext, client: Client): Promise<ToolFigures> {
  const bundle = join(mkdtempSync(join(tmpdir(), 'peer-bundle-')), 'workflow-bundle.js');
  writeFileSync(bundle, (await bundleWorkflowCode({ workflowsPath })).code);
  const taskQueue = `peer-bench-${process.pid}-${ctx.routing}`;
  const router = ctx.routing === 'istio' ? 'istio' : 'replica-ratio';
  const launch = async (kubeconfig: string): Promise<Launched> => {
    const worker = await startWorkerProcess(taskQueue, {
      KUBECONFIG: kubeconfig,
      SLIPWAY_WORKFLOW_BUNDLE: bundle,
      SLIPWAY_WORKER_HTTP: 'off',
    });
    return {
      pid: worker.child.pid ?? 0,
      version: `this repository (${router} router)`,
      stop: () => worker.stop(),
    };
  };
  const side = new SlipwaySide(client, taskQueue, ctx.namespace, ctx.routing);
  return measured(ctx, 'slipway', launch, async (figures) => {
    for (let i = 0; i < ctx.runs; i++) {
      const model = `slipway-${ctx.routing}-${i}`;
      const first = await side.run(model, VERSIONS.stable, undefined);
      if (first.result.outcome.result !== 'Promoted')
        throw new Error(`${model} v1: ${first.result.outcome.reason}`);
      const good = await side.run(model, VERSIONS.good, GOOD_STEPS);
      if (good.result.outcome.result !== 'Promoted')
        throw new Error(`${model} v2: ${good.result.outcome.reason}`);
      figures.overheadPerStepMs.push(...SlipwaySide.overheads(good.status));
      const watch = watchCandidate(ctx, model);
      const bad = await side.run(model, VERSIONS.bad, SLIPWAY_BAD_STEPS, true);
      if (bad.result.outcome.failureType !== 'GateFailed')
        throw new Error(`${model} v3: ${bad.result.outcome.result} ${bad.result.outcome.reason}`);
      figures.reactionMs.push(await reaction(ctx, model, bad.startedAt, watch));
    }
  });
}

export async function argoPart(ctx: PartContext): Promise<ToolFigures> {
  const side = new ArgoSide(ctx.kc, ctx.namespace, ctx.routing);
  return measured(
    ctx,
    'argo-rollouts',
    (kubeconfig) => startArgoController(ctx.namespace, kubeconfig),
    async (figures) => {
      for (let i = 0; i < ctx.runs; i++) {
        const model = `argo-${ctx.routing}-${i}`;
        await side.create(model);
        const steps = await watchRollout(ctx.kc, ctx.namespace, model);
        const patchedAt = await side.release(model, VERSIONS.good, false);
        await side.until(
          model,
          'v2 promoted',
          (s) =>
            s.phase === 'Healthy' &&
            s.currentStepIndex === 2 * GOOD_STEPS.length &&
            s.stableRS === s.currentPodHash,
        );
        steps.stop();
        GOOD_STEPS.forEach((step, k) => {
          const start = k === 0 ? (steps.seen.get(0) ?? patchedAt) : steps.seen.get(2 * k);
          const end = steps.seen.get(2 * k + 2);
          figures.overheadPerStepMs.push(
            start !== undefined && end !== undefined ? end - start - step.holdMs : NaN,
          );
        });
        const watch = watchCandidate(ctx, model);
        const badAt = await side.release(model, VERSIONS.bad, true);
        await side.until(model, 'v3 aborted', (s) => s.abort === true, BAD_STEP.holdMs);
        figures.reactionMs.push(await reaction(ctx, model, badAt, watch));
      }
    },
  );
}

export async function flaggerPart(ctx: PartContext): Promise<ToolFigures> {
  if (ctx.routing !== 'istio') throw new Error('Flagger has no replica-based canary (routing istio only)');
  const side = new FlaggerSide(ctx.kc, ctx.namespace);
  let metricsUrl = '';
  /** The last value Flagger's check of `model` read, from its flagger_canary_metric_analysis gauge. */
  const lastChecked = async (model: string) =>
    (await (await fetch(metricsUrl)).text())
      .split('\n')
      .find((l) => l.startsWith('flagger_canary_metric_analysis{') && l.includes(`name="${model}"`)) ??
    'none';
  return measured(
    ctx,
    'flagger',
    async (kubeconfig) => {
      const controller = await startFlaggerController(ctx.namespace, kubeconfig);
      metricsUrl = controller.metricsUrl;
      return controller;
    },
    async (figures) => {
      for (let i = 0; i < ctx.runs; i++) {
        const model = `flagger-${i}`;
        await side.create(model);
        const transitions = await watchCanary(ctx.kc, ctx.namespace, model);
        await side.release(model, VERSIONS.good, false);
        await side.until(model, ['Progressing']);
        await side.until(model, ['Succeeded', 'Failed']);
        transitions.stop();
        const promoted = await side.status(model);
        if (promoted.phase !== 'Succeeded') throw new Error(`${model} v2: ${JSON.stringify(promoted)}`);
        figures.overheadPerStepMs.push(...flaggerOverheads(transitions.seen));
        const watch = watchCandidate(ctx, model);
        const badAt = await side.release(model, VERSIONS.bad, true);
        await side.until(model, ['Progressing']);
        await side.until(model, ['Failed', 'Succeeded']);
        const failed = await side.status(model);
        if (failed.phase === 'Failed') {
          figures.reactionMs.push(await reaction(ctx, model, badAt, watch));
          continue;
        }
        await watch.stop();
        figures.badPromoted++;
        const values = await queryValues(flaggerQuery(ctx.namespace, model, VERSIONS.bad), badAt, Date.now());
        figures.anomalies.push(
          `${model}: Flagger promoted the bad v3 (${failed.phase ?? '?'}); its last check read ${await lastChecked(model)}; the query in Prometheus since the release, every 0.5 s: ${values}`,
        );
      }
    },
  );
}
