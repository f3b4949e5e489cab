// The replica-ratio router end to end on the real stack (Temporal dev server, kube-apiserver + KWOK,
// Prometheus, the traffic simulator): no route, the Service `<model>` spreads requests over the
// ready pods of both tracks, so each canary step's share is the candidate's ready pods against all
// ready pods. Measured through Prometheus (`model_requests_total` by version), per step:
// - a good release (stable v1 with 4 replicas; v2 at weight 25 then 50) is promoted, the candidate
//   at each step has the replicas the router computes and takes its share of the requests;
// - a bad one (v3 answering 50% errors) takes traffic, is rolled back by its gate, and leaves the
//   stable Deployment and the Services exactly as before; v3's request rate goes to 0.
//
// Why the tolerance is 2 percentage points: the simulator sends each model 50 requests per second
// (SIMULATOR_REQUESTS_PER_SECOND), split by smooth weighted round-robin over the ready replicas, so
// at any moment each track is within one request of its exact share; Prometheus scrapes both
// versions' counters in the same scrape (every 1 s), so over a window of W s the only error is that
// one request at either edge: at most 2 / (50 × (W - 1)) of the requests, 1 pp for W = 5, 2 pp for
// W = 3. Each measurement waits W + 2 s after the split last changed (a scrape of slack), so its
// window holds only traffic that followed the step's replicas, and asserts that the ready replicas
// were the same before and after the query.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { candidateReplicasFor } from '../../activities/traffic/replica-ratio.ts';
import { releaseWorkflowId } from '../../workflows/ids.ts';
import { statusQuery } from '../../workflows/messages.ts';
import { release, type ReleaseResult } from '../../workflows/release.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import {
  differences,
  pollUntil,
  readModelObjects,
  resultWithin,
  waitForStatus,
  type ModelObjects,
} from '../helpers/model-objects.ts';
import { clusterState, releaseSpec, type FixtureOptions } from '../helpers/release-fixtures.ts';
import { devServerEnv, startRealWorker, uniqueTaskQueue } from '../helpers/temporal.ts';

type Handle = WorkflowHandle<typeof release>;

const MODEL = 'ratio';
const STABLE_REPLICAS = 4;
/** Largest allowed difference between the measured and the expected share (see the top). */
const SHARE_TOLERANCE = 0.02;
/** Fewer requests than this in a window and the tolerance above no longer follows from the rate. */
const MIN_REQUESTS_PER_SECOND = 40;

let env: TestWorkflowEnvironment;
let ns: TestNamespace;
let worker: Awaited<ReturnType<typeof startRealWorker>>;
const taskQueue = uniqueTaskQueue('ratio');
const summary: string[] = [];

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('ratio');
  worker = await startRealWorker(env, taskQueue, ns.kc);
});

after(async () => {
  if (summary.length > 0) console.log(`# measured shares\n${summary.map((s) => `#   ${s}`).join('\n')}`);
  await worker?.stop();
  await ns?.delete();
  await env?.teardown();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function ratioSpec(
  o: Omit<FixtureOptions, 'namespace' | 'model'> & { failureLimit?: number },
): ReleaseSpecInput {
  const { failureLimit, ...fixture } = o;
  const base = releaseSpec({ namespace: ns.name, model: MODEL, ...fixture });
  return {
    ...base,
    serving: { ...base.serving, replicas: STABLE_REPLICAS },
    traffic: { router: 'replica-ratio' },
    gates: (base.gates ?? []).map((g) => (failureLimit === undefined ? g : { ...g, failureLimit })),
  };
}

function start(spec: ReleaseSpecInput): Promise<Handle> {
  return env.client.workflow.start(release, {
    taskQueue,
    workflowId: releaseWorkflowId(spec.namespace, spec.model),
    args: [{ spec, submittedBy: 'ci' }],
  });
}

function outcomeOf(result: ReleaseResult): string {
  return `${result.outcome.result} (${result.outcome.failureType ?? '-'}): ${result.outcome.reason}`;
}

/** One instant query, every series of the answer by `label` (one evaluation time for all of them). */
async function promByLabel(query: string, label: string): Promise<Record<string, number>> {
  const base = process.env.PROMETHEUS_URL;
  if (!base) throw new Error('PROMETHEUS_URL is not set');
  const response = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  assert.equal(body.status, 'success', `${query}: ${body.error ?? 'failed'}`);
  const result: Record<string, number> = {};
  for (const s of body.data?.result ?? []) result[s.metric[label] ?? ''] = Number(s.value[1]);
  return result;
}

const requestsByVersion = (windowSeconds: number, fn = 'increase') =>
  promByLabel(
    `sum by (version) (${fn}(model_requests_total{namespace="${ns.name}",model="${MODEL}",mirrored="false"}[${windowSeconds}s]))`,
    'version',
  );

interface Replicas {
  stable: { desired: number; ready: number; version: string | undefined };
  candidate: { desired: number; ready: number; version: string | undefined } | undefined;
}

async function replicas(): Promise<Replicas> {
  const read = async (name: string) => {
    const d = await ns.apps.readNamespacedDeployment({ name, namespace: ns.name }).catch(() => undefined);
    if (!d || d.metadata?.deletionTimestamp) return undefined;
    return {
      desired: d.spec?.replicas ?? 0,
      ready: d.status?.readyReplicas ?? 0,
      version: d.spec?.template.metadata?.labels?.['app.kubernetes.io/version'],
    };
  };
  const stable = await read(MODEL);
  assert.ok(stable, 'a stable Deployment');
  return { stable, candidate: await read(`${MODEL}-canary`) };
}

interface Share {
  measured: number;
  expected: number;
  requests: number;
  candidatePods: number;
  stablePods: number;
}

/**
 * The candidate's share of the requests over the last `windowSeconds`, measured through Prometheus,
 * against its share of the ready pods (read before and after the query: the split held throughout).
 */
async function measureShare(candidateVersion: string, windowSeconds: number): Promise<Share> {
  const pods = await replicas();
  const byVersion = await requestsByVersion(windowSeconds);
  const podsAfter = await replicas();
  assert.deepEqual(podsAfter, pods, 'the ready replicas did not change while measuring');
  assert.ok(pods.candidate, 'a candidate while measuring');
  assert.equal(pods.candidate.version, candidateVersion);
  const requests = Object.values(byVersion).reduce((a, b) => a + b, 0);
  assert.ok(
    requests >= MIN_REQUESTS_PER_SECOND * windowSeconds,
    `enough requests in ${windowSeconds} s for the tolerance: ${JSON.stringify(byVersion)}`,
  );
  const ready = pods.stable.ready + pods.candidate.ready;
  return {
    measured: (byVersion[candidateVersion] ?? 0) / requests,
    expected: pods.candidate.ready / ready,
    requests,
    candidatePods: pods.candidate.ready,
    stablePods: pods.stable.ready,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function report(t: TestContext, what: string, s: Share): void {
  const line = `${what}: measured ${pct(s.measured)} of ${s.requests.toFixed(0)} requests, expected ${pct(s.expected)} (${s.candidatePods} candidate / ${s.candidatePods + s.stablePods} ready pods)`;
  t.diagnostic(line);
  summary.push(line);
}

function assertShare(s: Share, what: string): void {
  assert.ok(
    Math.abs(s.measured - s.expected) <= SHARE_TOLERANCE,
    `${what}: ${pct(s.measured)} measured, ${pct(s.expected)} ± ${SHARE_TOLERANCE * 100} pp expected`,
  );
}

/**
 * At a weight step's hold: the candidate has the replicas the router computes from the stable's,
 * all ready; after `windowSeconds` + 2 s of that split, its share of requests is measured.
 */
async function atStep(
  t: TestContext,
  handle: Handle,
  version: string,
  index: number,
  weight: number,
  windowSeconds: number,
): Promise<Share> {
  const holding = (s: ReleaseStatus) =>
    s.stage === 'canary' && s.step?.index === index && s.weights.canary === weight;
  await waitForStatus(handle, holding, `canary step ${index} at ${weight}%`, 30_000);
  const reachedAt = Date.now();
  const pods = await replicas();
  assert.ok(pods.candidate, `a candidate at step ${index}`);
  const want = candidateReplicasFor(weight, pods.stable.desired);
  assert.equal(pods.stable.desired, STABLE_REPLICAS, 'the stable keeps its replicas');
  assert.equal(pods.stable.ready, STABLE_REPLICAS, 'the stable pods are ready');
  assert.equal(
    pods.candidate.desired,
    want,
    `candidate replicas at ${weight}% next to ${pods.stable.desired}`,
  );
  assert.equal(pods.candidate.ready, want, 'the step holds once the candidate replicas are ready');
  await sleep(Math.max(0, reachedAt + (windowSeconds + 2) * 1_000 - Date.now()));
  const share = await measureShare(version, windowSeconds);
  const status = await handle.query(statusQuery);
  assert.ok(holding(status), `still holding step ${index} after the measurement: ${status.phase}`);
  return share;
}

describe('the replica-ratio router on the real stack', { timeout: 150_000 }, () => {
  let beforeV3: ModelObjects | undefined;

  it(
    'a good release: each step sends the candidate its share of ready pods, then promotes',
    { timeout: 90_000 },
    async (t) => {
      const first = await resultWithin<ReleaseResult>(await start(ratioSpec({ version: 'v1' })), 45_000);
      assert.equal(first.outcome.result, 'Promoted', outcomeOf(first));
      const v1 = await replicas();
      assert.deepEqual(v1, {
        stable: { desired: STABLE_REPLICAS, ready: STABLE_REPLICAS, version: 'v1' },
        candidate: undefined,
      });

      // 25% next to 4 stable pods: round(4 × 25 / 75) = 1 candidate pod, 1/5 = 20% of the requests;
      // 50%: 4 candidate pods, 4/8 = 50%.
      const steps = [
        { weight: 25, candidates: 1 },
        { weight: 50, candidates: 4 },
      ];
      for (const s of steps) assert.equal(candidateReplicasFor(s.weight, STABLE_REPLICAS), s.candidates);
      const windowSeconds = 5;
      const handle = await start(
        ratioSpec({ version: 'v2', steps: steps.map((s) => ({ weight: s.weight, hold: '12s' })) }),
      );
      for (const [i, step] of steps.entries()) {
        const share = await atStep(t, handle, 'v2', i + 1, step.weight, windowSeconds);
        report(t, `v2 at weight ${step.weight}`, share);
        assert.equal(share.candidatePods, step.candidates);
        assertShare(share, `v2 at weight ${step.weight}`);
      }

      const result = await resultWithin<ReleaseResult>(handle, 45_000);
      assert.equal(result.outcome.result, 'Promoted', outcomeOf(result));
      const promoted = await pollUntil(
        replicas,
        (r) => r.stable.ready === STABLE_REPLICAS && r.candidate === undefined,
        10_000,
      );
      assert.deepEqual(promoted, {
        stable: { desired: STABLE_REPLICAS, ready: STABLE_REPLICAS, version: 'v2' },
        candidate: undefined,
      });
      const state = await clusterState(ns, ns.name, MODEL);
      assert.equal(state.stableImage, 'registry.example.com/triton:v2');
      assert.equal(state.candidateExists, false, 'the candidate is removed');
      assert.equal(state.weights, undefined, 'no HTTPRoute with the replica-ratio router');
      beforeV3 = await readModelObjects(ns, ns.name, MODEL);
    },
  );

  it(
    'a bad release takes its share, is rolled back by its gate and restores everything exactly',
    { timeout: 60_000 },
    async (t) => {
      assert.ok(beforeV3?.deployment, 'the good release promoted v2 first');
      assert.equal(beforeV3.route, undefined);
      for (const name of [MODEL, `${MODEL}-stable`, `${MODEL}-canary`])
        assert.ok(beforeV3.services[name], `Service ${name} before v3`);

      // Half of v3's answers are errors. The gate tolerates 5 failed measurements (2 s apart) so
      // that the candidate serves long enough for a clean 3 s measurement before the rollback.
      const windowSeconds = 3;
      const handle = await start(
        ratioSpec({
          version: 'v3',
          annotations: { 'sim.slipway.dev/error-rate': '0.5' },
          steps: [{ weight: 25, hold: '60s' }],
          failureLimit: 5,
        }),
      );
      const share = await atStep(t, handle, 'v3', 1, 25, windowSeconds);
      report(t, 'v3 at weight 25 (before its rollback)', share);
      assert.ok(share.measured > 0, 'v3 took traffic');
      assert.equal(share.candidatePods, 1);
      assertShare(share, 'v3 at weight 25');

      const result = await resultWithin<ReleaseResult>(handle, 45_000);
      const rolledBackAt = Date.now();
      assert.equal(result.outcome.result, 'RolledBack', outcomeOf(result));
      assert.equal(result.outcome.failureType, 'GateFailed', outcomeOf(result));
      assert.match(result.outcome.reason, /^gate error-rate failed/);

      const restored = await readModelObjects(ns, ns.name, MODEL);
      const notes: string[] = [];
      const diff = differences(beforeV3, restored, notes);
      for (const note of notes) t.diagnostic(`note: ${note}`);
      assert.deepEqual(diff, [], `not restored exactly:\n${diff.join('\n')}`);
      const state = await clusterState(ns, ns.name, MODEL);
      assert.equal(state.candidateExists, false, 'the candidate is removed');
      assert.equal(state.stableVersion, 'v2');
      const pods = await pollUntil(replicas, (r) => r.candidate === undefined, 10_000);
      assert.deepEqual(pods, {
        stable: { desired: STABLE_REPLICAS, ready: STABLE_REPLICAS, version: 'v2' },
        candidate: undefined,
      });

      // v3's series stay (the model is still there), their rate falls to 0; v2 serves everything.
      const zeroWindow = 3;
      const rates = await pollUntil(
        () => requestsByVersion(zeroWindow, 'rate'),
        (r) => r.v3 === 0,
        (zeroWindow + 5) * 1_000,
      );
      t.diagnostic(
        `v3 at 0 req/s ${Date.now() - rolledBackAt} ms after the rollback; v2 ${rates.v2?.toFixed(1)} req/s`,
      );
      summary.push(`v3 after its rollback: ${JSON.stringify(rates)} req/s over ${zeroWindow} s`);
      assert.equal(rates.v3, 0, `v3's request rate after the rollback: ${JSON.stringify(rates)}`);
      assert.ok((rates.v2 ?? 0) >= MIN_REQUESTS_PER_SECOND, `v2 serves the model: ${JSON.stringify(rates)}`);
    },
  );
});
