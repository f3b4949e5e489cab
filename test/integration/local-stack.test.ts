// The local stack against itself: real kube-apiserver semantics (server-side apply, watches), the
// real Deployment, Job and scheduler controllers driven by KWOK's stages, and the traffic simulator's
// metrics as Prometheus sees them. Needs `npm test` (or `npm run stack -- up` and `env`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { simulatorScrapeHealth } from '../../bench/scale/simulator-scrapes.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';

const FIELD_MANAGER = 'slipway-local-stack-test';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run through \`npm test\` or eval "$(npm run -s stack -- env)"`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Helpers: server-side apply, waiting through a watch, PromQL.

/** Server-side apply of any object (PATCH application/apply-patch+yaml, our field manager, force). */
async function apply<T extends k8s.KubernetesObject>(ns: TestNamespace, object: T): Promise<T> {
  const client = k8s.KubernetesObjectApi.makeApiClient(ns.kc);
  const body = { ...object, metadata: { ...object.metadata, namespace: ns.name } };
  return client.patch(body, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
}

/**
 * Resolves with the first object at `listPath` (named `name`, or matching `labelSelector`) for which
 * `done` is true, as seen through a watch (no polling). A watch starting without a resourceVersion
 * first replays the current state, so nothing that already happened is missed. The watch is
 * re-opened if the server closes it; on timeout the last object seen is part of the error.
 */
async function watchUntil<T extends k8s.KubernetesObject>(
  kc: k8s.KubeConfig,
  listPath: string,
  select: { name: string } | { labelSelector: string },
  done: (object: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const watch = new k8s.Watch(kc);
  const query = 'name' in select ? { fieldSelector: `metadata.name=${select.name}` } : select;
  let last: T | undefined;
  let controller: AbortController | undefined;
  let settled = false;
  return new Promise<T>((resolve, reject) => {
    const finish = (error: Error | undefined, object?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      controller?.abort();
      if (error) reject(error);
      else resolve(object as T);
    };
    const timer = setTimeout(() => {
      const seen = last
        ? JSON.stringify({ metadata: { name: last.metadata?.name }, ...(last as { status?: unknown }) })
        : 'nothing';
      finish(
        new Error(
          `timed out after ${timeoutMs} ms watching ${listPath} ${JSON.stringify(select)}; last seen: ${seen}`,
        ),
      );
    }, timeoutMs);
    const open = () => {
      if (settled) return;
      watch
        .watch(
          listPath,
          query,
          (phase: string, object: T) => {
            if (phase !== 'ADDED' && phase !== 'MODIFIED') return;
            last = object;
            if (done(object)) finish(undefined, object);
          },
          (error: unknown) => {
            // The server ended the watch (or it timed out for inactivity): open a new one.
            if (!settled) setTimeout(open, error ? 200 : 0);
          },
        )
        .then(
          (c) => {
            controller = c;
            if (settled) c.abort();
          },
          (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
        );
    };
    open();
  });
}

function condition(
  object: { status?: { conditions?: { type: string; status: string; reason?: string }[] } },
  type: string,
): { status: string; reason?: string } | undefined {
  return object.status?.conditions?.find((c) => c.type === type);
}

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

async function promQuery(query: string): Promise<PromSample[]> {
  const url = new URL('/api/v1/query', requiredEnv('PROMETHEUS_URL'));
  url.searchParams.set('query', query);
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { status: string; error?: string; data?: { result: PromSample[] } };
  if (body.status !== 'success' || !body.data)
    throw new Error(`PromQL ${query} failed: ${body.error ?? response.status}`);
  return body.data.result;
}

/** A query whose result is one number per value of `label`. */
async function promByLabel(query: string, label: string): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const sample of await promQuery(query)) result[sample.metric[label] ?? ''] = Number(sample.value[1]);
  return result;
}

async function promScalar(query: string): Promise<number> {
  const [sample, ...rest] = await promQuery(query);
  assert.ok(sample && rest.length === 0, `expected one sample from ${query}`);
  return Number(sample.value[1]);
}

// ---------------------------------------------------------------------------------------------
// Object builders.

const DEPLOYMENTS = '/apis/apps/v1/namespaces';

function deployment(options: {
  name: string;
  labels?: Record<string, string>;
  replicas?: number;
  annotations?: Record<string, string>;
  progressDeadlineSeconds?: number;
}): k8s.V1Deployment {
  const selector = { 'app.kubernetes.io/instance': options.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: options.name, labels: { ...options.labels } },
    spec: {
      replicas: options.replicas ?? 2,
      selector: { matchLabels: selector },
      ...(options.progressDeadlineSeconds
        ? { progressDeadlineSeconds: options.progressDeadlineSeconds }
        : {}),
      template: {
        metadata: {
          labels: { ...options.labels, ...selector },
          annotations: { 'pod-ready.stage.kwok.x-k8s.io/delay': '200ms', ...options.annotations },
        },
        spec: { containers: [{ name: 'server', image: 'registry.example/model-server:1' }] },
      },
    },
  };
}

/** Stable (`m`) or canary (`m-canary`) Deployment of a model, labelled as DESIGN §6 says. */
function modelDeployment(
  model: string,
  track: 'stable' | 'canary',
  version: string,
  replicas: number,
  annotations: Record<string, string> = {},
): k8s.V1Deployment {
  const labels = {
    'app.kubernetes.io/name': model,
    'app.kubernetes.io/version': version,
    'app.kubernetes.io/managed-by': 'slipway',
    'slipway.dev/track': track,
  };
  return deployment({ name: track === 'stable' ? model : `${model}-canary`, labels, replicas, annotations });
}

function trackService(model: string, track: 'stable' | 'canary'): k8s.V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `${model}-${track}` },
    spec: {
      selector: { 'app.kubernetes.io/name': model, 'slipway.dev/track': track },
      ports: [{ name: 'http', port: 8000, targetPort: 8000 }],
    },
  };
}

function httpRoute(model: string, weights: { stable: number; canary: number }, mirrorPercent?: number) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: model },
    spec: {
      rules: [
        {
          backendRefs: [
            { name: `${model}-stable`, port: 8000, weight: weights.stable },
            { name: `${model}-canary`, port: 8000, weight: weights.canary },
          ],
          ...(mirrorPercent === undefined
            ? {}
            : {
                filters: [
                  {
                    type: 'RequestMirror',
                    requestMirror: {
                      backendRef: { name: `${model}-canary`, port: 8000 },
                      percent: mirrorPercent,
                    },
                  },
                ],
              }),
        },
      ],
    },
  };
}

function job(name: string, annotations: Record<string, string> = {}): k8s.V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { annotations: { 'pod-ready.stage.kwok.x-k8s.io/delay': '100ms', ...annotations } },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'evaluate', image: 'registry.example/evaluator:1' }],
        },
      },
    },
  };
}

const available = (d: k8s.V1Deployment) =>
  condition(d, 'Available')?.status === 'True' &&
  (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
  (d.status?.updatedReplicas ?? 0) === d.spec?.replicas &&
  (d.status?.readyReplicas ?? 0) === d.spec?.replicas;

async function waitAvailable(ns: TestNamespace, name: string, timeoutMs = 30_000): Promise<k8s.V1Deployment> {
  return watchUntil(ns.kc, `${DEPLOYMENTS}/${ns.name}/deployments`, { name }, available, timeoutMs);
}

// ---------------------------------------------------------------------------------------------

describe('local stack', { concurrency: true }, () => {
  let ns: TestNamespace;

  before(async () => {
    ns = await createTestNamespace('local-stack');
    // Pods are admitted only once the namespace's default ServiceAccount exists.
    await watchUntil(
      ns.kc,
      `/api/v1/namespaces/${ns.name}/serviceaccounts`,
      { name: 'default' },
      () => true,
      30_000,
    );
  });
  after(async () => {
    await ns?.delete();
  });

  it('Prometheus says how its scrapes of the simulator went (what the scale bench reports)', async () => {
    const to = Date.now();
    const health = await simulatorScrapeHealth(requiredEnv('PROMETHEUS_URL'), to - 20_000, to);
    assert.ok(health, 'Prometheus answered nothing about the simulator job');
    // Scraped every second: about 20 scrapes in 20 s, all of them up on a quiet stack.
    assert.ok(health.scrapes >= 10 && health.scrapes <= 21, `scrapes ${health.scrapes}`);
    assert.equal(health.up, 1);
    assert.ok(health.durationSeconds.p50 > 0 && health.durationSeconds.p50 < 1, JSON.stringify(health));
    assert.ok(health.durationSeconds.max >= health.durationSeconds.p99);
  });

  it('server-side applies a Deployment and sees it Available through a watch', async () => {
    const body = deployment({ name: 'ssa', replicas: 3 });
    const applied = await ns.apps.patchNamespacedDeployment(
      { name: 'ssa', namespace: ns.name, body, fieldManager: FIELD_MANAGER, force: true },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
    );
    const managers = applied.metadata?.managedFields?.map((f) => `${f.manager}/${f.operation}`) ?? [];
    assert.ok(managers.includes(`${FIELD_MANAGER}/Apply`), `managed fields: ${managers.join(', ')}`);

    const ready = await waitAvailable(ns, 'ssa');
    assert.equal(ready.status?.readyReplicas, 3);

    // Another manager changing a field we own conflicts unless it forces.
    const other = { ...body, spec: { ...body.spec!, replicas: 1 } };
    await assert.rejects(
      ns.apps.patchNamespacedDeployment(
        { name: 'ssa', namespace: ns.name, body: other, fieldManager: 'someone-else', force: false },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
      ),
      (error: unknown) => error instanceof k8s.ApiException && error.code === 409,
    );
  });

  it('a Deployment whose pods never become ready ends with ProgressDeadlineExceeded', async () => {
    await apply(
      ns,
      deployment({
        name: 'never-ready',
        replicas: 1,
        annotations: { 'sim.slipway.dev/never-ready': 'true' },
        progressDeadlineSeconds: 5,
      }),
    );
    const stuck = await watchUntil<k8s.V1Deployment>(
      ns.kc,
      `${DEPLOYMENTS}/${ns.name}/deployments`,
      { name: 'never-ready' },
      (d) => condition(d, 'Progressing')?.status === 'False',
      30_000,
    );
    assert.equal(condition(stuck, 'Progressing')?.reason, 'ProgressDeadlineExceeded');
    assert.equal(stuck.status?.readyReplicas ?? 0, 0);
  });

  it('Jobs complete, fail when marked, and carry a termination message', async () => {
    const jobs = `/apis/batch/v1/namespaces/${ns.name}/jobs`;
    const finished = (j: k8s.V1Job) =>
      condition(j, 'Complete')?.status === 'True' || condition(j, 'Failed')?.status === 'True';
    await Promise.all([
      apply(ns, job('succeeds', { 'sim.slipway.dev/termination-message': '{"accuracy":0.93}' })),
      apply(ns, job('fails', { 'sim.slipway.dev/job-result': 'fail' })),
    ]);
    const [ok, failed] = await Promise.all([
      watchUntil(ns.kc, jobs, { name: 'succeeds' }, finished, 30_000),
      watchUntil(ns.kc, jobs, { name: 'fails' }, finished, 30_000),
    ]);
    assert.equal(condition(ok, 'Complete')?.status, 'True');
    assert.equal(ok.status?.succeeded, 1);
    assert.equal(condition(failed, 'Failed')?.status, 'True');
    assert.equal(failed.status?.failed, 1);

    const pod = await watchUntil<k8s.V1Pod>(
      ns.kc,
      `/api/v1/namespaces/${ns.name}/pods`,
      { labelSelector: 'batch.kubernetes.io/job-name=succeeds' },
      (p) => p.status?.containerStatuses?.[0]?.state?.terminated !== undefined,
      10_000,
    );
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.exitCode, 0);
    assert.deepEqual(JSON.parse(terminated?.message ?? 'null'), { accuracy: 0.93 });
  });

  it('pods asking for more GPUs than any node has stay Pending and Unschedulable', async () => {
    // The test brings its own fake GPU node, tainted so nothing else lands on it and pinned by a
    // label, so GPUs other tests or a demo hold on the shared nodes cannot change the outcome.
    const nodeName = `kwok-gpu-test-${ns.name}`.slice(0, 63);
    const nodes = ns.kc.makeApiClient(k8s.CoreV1Api);
    const taint = { key: 'slipway.dev/test-node', value: ns.name, effect: 'NoSchedule' };
    await nodes.createNode({
      body: {
        metadata: {
          name: nodeName,
          annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
          labels: { type: 'kwok', 'kubernetes.io/hostname': nodeName, 'slipway.dev/test-node': ns.name },
        },
        spec: { taints: [taint] },
        status: {
          capacity: { cpu: '8', memory: '32Gi', pods: '10', 'nvidia.com/gpu': '4' },
          allocatable: { cpu: '8', memory: '32Gi', pods: '10', 'nvidia.com/gpu': '4' },
        },
      },
    });
    try {
      await watchUntil<k8s.V1Node>(
        ns.kc,
        '/api/v1/nodes',
        { name: nodeName },
        (n) => condition(n, 'Ready')?.status === 'True',
        30_000,
      );
      const gpuPod = (name: string, gpus: number): k8s.V1Pod => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: {
          nodeSelector: { 'slipway.dev/test-node': ns.name },
          tolerations: [{ key: taint.key, operator: 'Equal', value: taint.value, effect: 'NoSchedule' }],
          containers: [
            {
              name: 'server',
              image: 'registry.example/model-server:1',
              resources: {
                requests: { 'nvidia.com/gpu': String(gpus) },
                limits: { 'nvidia.com/gpu': String(gpus) },
              },
            },
          ],
        },
      });
      await Promise.all([apply(ns, gpuPod('gpu-16', 16)), apply(ns, gpuPod('gpu-4', 4))]);
      const pods = `/api/v1/namespaces/${ns.name}/pods`;
      const [pending, placed] = await Promise.all([
        watchUntil<k8s.V1Pod>(
          ns.kc,
          pods,
          { name: 'gpu-16' },
          (p) => condition(p, 'PodScheduled') !== undefined,
          30_000,
        ),
        watchUntil<k8s.V1Pod>(ns.kc, pods, { name: 'gpu-4' }, (p) => p.spec?.nodeName !== undefined, 30_000),
      ]);
      assert.equal(pending.status?.phase, 'Pending');
      assert.equal(condition(pending, 'PodScheduled')?.status, 'False');
      assert.equal(condition(pending, 'PodScheduled')?.reason, 'Unschedulable');
      assert.match(
        (pending.status?.conditions ?? []).map((c) => (c as { message?: string }).message ?? '').join(' '),
        /Insufficient nvidia\.com\/gpu/,
      );
      // The same request within the node's 4 GPUs lands on it: the scheduler counts GPUs for real.
      assert.equal(placed.spec?.nodeName, nodeName);
    } finally {
      await ns.core
        .deleteNamespacedPod({ name: 'gpu-4', namespace: ns.name, gracePeriodSeconds: 0 })
        .catch(() => undefined);
      await nodes.deleteNode({ name: nodeName }).catch(() => undefined);
    }
  });

  it('the simulator splits traffic as the HTTPRoute says, with errors, mirroring and replica ratios', async () => {
    // Tolerances, from how the simulator works (infra/local/simulator/traffic.ts):
    // - the split is a smooth weighted round-robin, so 80/20 is exact up to one request per track at
    //   the window's edges: ±2 percentage points covers that at 50 req/s over a 5 s window;
    // - errors are independent Bernoulli draws: 40 req/s to v1 over 15 s is ~600 requests, so the
    //   error ratio's standard deviation is sqrt(0.1 × 0.9 / 600) ≈ 0.012; ±0.05 is four of them;
    // - mirroring is deterministic too: ±0.03 around half of stable's rate.
    const SPLIT_TOLERANCE = 0.02;
    const ERROR_TOLERANCE = 0.05;
    const MIRROR_TOLERANCE = 0.03;
    const simulator = requiredEnv('SIMULATOR_URL');
    const n = ns.name;

    // Model "fraud": stable v1 (10% errors) and canary v2 behind an 80/20 route mirroring 50%.
    // Model "ratio": no route, 3 stable and 1 canary ready replicas (the replica-ratio router).
    // Model "down": a 50/50 route to a canary that never gets ready (its share answers 503).
    await Promise.all([
      apply(ns, modelDeployment('fraud', 'stable', 'v1', 2, { 'sim.slipway.dev/error-rate': '0.1' })),
      apply(ns, modelDeployment('fraud', 'canary', 'v2', 1, { 'sim.slipway.dev/latency-ms': '80' })),
      apply(ns, trackService('fraud', 'stable')),
      apply(ns, trackService('fraud', 'canary')),
      apply(ns, modelDeployment('ratio', 'stable', 'v1', 3)),
      apply(ns, modelDeployment('ratio', 'canary', 'v2', 1)),
      apply(ns, modelDeployment('down', 'stable', 'v1', 1)),
      apply(ns, modelDeployment('down', 'canary', 'v2', 1, { 'sim.slipway.dev/never-ready': 'true' })),
    ]);
    await Promise.all(
      ['fraud', 'fraud-canary', 'ratio', 'ratio-canary', 'down'].map((d) => waitAvailable(ns, d)),
    );
    await Promise.all([
      apply(ns, httpRoute('fraud', { stable: 80, canary: 20 }, 50)),
      apply(ns, httpRoute('down', { stable: 50, canary: 50 })),
    ]);
    const routedAt = Date.now();
    // The simulator picks the route up from its watch within a tick; /state says so.
    const deadline = Date.now() + 5_000;
    for (;;) {
      const state = (await (await fetch(`${simulator}/state`)).json()) as {
        models: { namespace: string; model: string; split: { source: string } }[];
      };
      const mine = state.models.filter((m) => m.namespace === n);
      if (mine.filter((m) => m.split.source === 'route').length === 2 && mine.length === 3) break;
      assert.ok(Date.now() < deadline, `simulator never showed the routes: ${JSON.stringify(mine)}`);
      await sleep(50);
    }
    // Let every window below hold only traffic that followed the routes (plus a scrape of slack).
    await sleep(Math.max(0, routedAt + 17_000 - Date.now()));

    const split = await promByLabel(
      `sum by (version) (rate(model_requests_total{namespace="${n}",model="fraud",mirrored="false"}[5s]))`,
      'version',
    );
    const v1 = split.v1 ?? 0;
    const v2 = split.v2 ?? 0;
    const total = v1 + v2;
    const stableShare = v1 / total;
    console.log(
      `fraud: ${v1.toFixed(1)} req/s v1, ${v2.toFixed(1)} req/s v2 → ${(stableShare * 100).toFixed(2)}% / ${((1 - stableShare) * 100).toFixed(2)}%`,
    );
    assert.ok(total > 40 && total < 60, `about 50 req/s in total, got ${total}`);
    assert.ok(
      Math.abs(stableShare - 0.8) <= SPLIT_TOLERANCE,
      `80/20 ± 2 pp, got ${(stableShare * 100).toFixed(2)}% stable`,
    );

    const errorRatio = await promScalar(
      `sum(rate(model_requests_total{namespace="${n}",model="fraud",version="v1",mirrored="false",code="500"}[15s]))` +
        ` / sum(rate(model_requests_total{namespace="${n}",model="fraud",version="v1",mirrored="false"}[15s]))`,
    );
    console.log(`fraud v1 error ratio over 15 s: ${errorRatio.toFixed(4)}`);
    assert.ok(
      Math.abs(errorRatio - 0.1) <= ERROR_TOLERANCE,
      `error ratio 0.1 ± ${ERROR_TOLERANCE}, got ${errorRatio}`,
    );
    const v2Errors = await promQuery(
      `sum(rate(model_requests_total{namespace="${n}",model="fraud",version="v2",code=~"5.."}[15s]))`,
    );
    // No series, or one whose rate is 0 (a 503 from before the route was followed keeps the series).
    assert.equal(Number(v2Errors[0]?.value[1] ?? 0), 0, `v2 answers no errors: ${JSON.stringify(v2Errors)}`);

    const mirrorRatio = await promScalar(
      `sum(rate(model_requests_total{namespace="${n}",model="fraud",track="canary",mirrored="true"}[5s]))` +
        ` / sum(rate(model_requests_total{namespace="${n}",model="fraud",track="stable",mirrored="false"}[5s]))`,
    );
    console.log(`fraud mirrored / stable: ${mirrorRatio.toFixed(4)}`);
    assert.ok(Math.abs(mirrorRatio - 0.5) <= MIRROR_TOLERANCE, `mirror 50% ± 3 pp, got ${mirrorRatio}`);

    const latency = await promByLabel(
      `histogram_quantile(0.5, sum by (version, le) (rate(model_request_duration_seconds_bucket{namespace="${n}",model="fraud",mirrored="false"}[15s])))`,
      'version',
    );
    console.log(`fraud median latency: v1 ${latency.v1} s, v2 ${latency.v2} s`);
    assert.ok((latency.v2 ?? 0) > (latency.v1 ?? 1), 'v2 (80 ms) is slower than v1 (50 ms)');

    const ratio = await promByLabel(
      `sum by (track) (rate(model_requests_total{namespace="${n}",model="ratio",mirrored="false"}[5s]))`,
      'track',
    );
    const ratioStable = (ratio.stable ?? 0) / ((ratio.stable ?? 0) + (ratio.canary ?? 0));
    console.log(`ratio (3:1 ready replicas, no route): ${(ratioStable * 100).toFixed(2)}% stable`);
    assert.ok(Math.abs(ratioStable - 0.75) <= SPLIT_TOLERANCE, `75/25 ± 2 pp, got ${ratioStable}`);

    const down = await promByLabel(
      `sum by (code) (rate(model_requests_total{namespace="${n}",model="down",track="canary"}[5s]))`,
      'code',
    );
    assert.deepEqual(
      Object.keys(down),
      ['503'],
      `the unready canary answers only 503: ${JSON.stringify(down)}`,
    );

    // A weight change reaches the simulator's data plane within a tick or so of the watch event.
    const patchedAt = performance.now();
    await apply(ns, httpRoute('fraud', { stable: 100, canary: 0 }, 50));
    for (;;) {
      const state = (await (await fetch(`${simulator}/state`)).json()) as {
        models: { namespace: string; model: string; split: { stable: number } }[];
      };
      if (state.models.find((m) => m.namespace === n && m.model === 'fraud')?.split.stable === 100) break;
      assert.ok(
        performance.now() - patchedAt < 2_000,
        'the simulator did not follow the weight change within 2 s',
      );
      await sleep(5);
    }
    console.log(
      `weight change visible in the simulator ${(performance.now() - patchedAt).toFixed(0)} ms after the PATCH was sent`,
    );
  });
});
