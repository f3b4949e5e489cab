// Benchmark of rollback time by strategy, side by side in one run on the local stack (real Temporal
// dev server, Kubernetes with KWOK nodes, Prometheus, the traffic simulator): for each strategy a bad
// version (5xx ratio 0.5) is released over a good v1 and its gate fails; the figure is the time
// from the failing measurement to the old version serving 100% again — the HTTPRoute's weighted rule
// with nothing on the candidate, and every ready pod of the stable track on v1 (at full size).
//  - blue-green, failing while v1 is kept warm (scaleDownDelay): a route flip;
//  - canary, failing at 50%: a route reset (stable never changed);
//  - canary, failing in promote.verify after the promotion: a rolling restore of the stable;
//  - rolling, failing during its hold: pause, restore of the template, rolling back;
//  - recreate (1 replica), failing during its hold: re-created, one version at a time.
// Pods become ready 500 ms after they start (KWOK stage delay, the fixture's annotation); on real
// GPUs a model server's start-up (minutes) adds to every restore, never to a route flip.
// Prints a JSON document and a table. `npm run bench -- rollback [--runs 3]`
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { statusQuery } from '../workflows/messages.ts';
import { release, type ReleaseResult } from '../workflows/release.ts';
import type { ReleaseStatus } from '../workflows/status.ts';
import type { ReleaseSpecInput } from '../workflows/spec/index.ts';
import { releaseSpec } from '../test/helpers/release-fixtures.ts';
import { startLocalBench, summary } from './local-worker.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);
const POLL_MS = 25;
const BAD = { 'sim.slipway.dev/error-rate': '0.5' };

const bench = await startLocalBench('rollback-bench');
const { namespace, client, taskQueue, core, kc } = bench;
const custom = kc.makeApiClient(k8s.CustomObjectsApi);

interface Scenario {
  name: string;
  /** How the old version comes back. */
  how: string;
  replicas: number;
  spec(model: string): ReleaseSpecInput;
}

function base(model: string, version: string, replicas: number, bad: boolean): ReleaseSpecInput {
  const spec = releaseSpec({ namespace, model, version, ...(bad ? { annotations: BAD } : {}) });
  return { ...spec, serving: { ...spec.serving, replicas }, promote: { approval: { required: false } } };
}

function withoutCanary(spec: ReleaseSpecInput, strategy: ReleaseSpecInput['strategy']): ReleaseSpecInput {
  const { canary: _canary, ...rest } = spec;
  return { ...rest, strategy };
}

const scenarios: Scenario[] = [
  {
    name: 'blueGreen',
    how: 'route flip to the warm old version',
    replicas: 2,
    spec: (model) =>
      withoutCanary(base(model, 'v2', 2, true), {
        type: 'blueGreen',
        scaleDownDelay: '120s',
        afterSwitch: { gates: ['error-rate'] },
      }),
  },
  {
    name: 'canary (at 50%)',
    how: 'route reset; stable never changed',
    replicas: 2,
    spec: (model) => {
      const spec = base(model, 'v2', 2, true);
      return { ...spec, canary: { steps: [{ weight: 50, hold: '120s' }], gates: ['error-rate'] } };
    },
  },
  {
    name: 'canary (promote.verify)',
    how: 'rolling restore of the promoted stable',
    replicas: 2,
    spec: (model) => {
      const spec = base(model, 'v2', 2, true);
      return {
        ...spec,
        canary: { steps: [{ weight: 50, hold: '2s' }] },
        promote: { approval: { required: false }, verify: { duration: '120s', gates: ['error-rate'] } },
      };
    },
  },
  {
    name: 'rolling',
    how: 'rollout paused, template restored',
    replicas: 2,
    spec: (model) =>
      withoutCanary(base(model, 'v2', 2, true), { type: 'rolling', gates: ['error-rate'], hold: '120s' }),
  },
  {
    name: 'recreate (1 replica)',
    how: 're-created, one version at a time',
    replicas: 1,
    spec: (model) =>
      withoutCanary(base(model, 'v2', 1, true), { type: 'recreate', gates: ['error-rate'], hold: '120s' }),
  },
];

async function runRelease(spec: ReleaseSpecInput): Promise<{ result: ReleaseResult; status: ReleaseStatus }> {
  const handle = await client.workflow.start(release, {
    taskQueue,
    workflowId: `bench-${namespace}-${spec.model}-${spec.version}`,
    args: [{ spec, submittedBy: 'bench' }],
  });
  const result = await handle.result();
  return { result, status: await handle.query(statusQuery) };
}

interface Route {
  spec?: {
    rules?: Array<{
      matches?: Array<{ headers?: unknown[] }>;
      backendRefs?: Array<{ name: string; weight?: number }>;
    }>;
  };
}

/** Whether v1 serves all of the model's traffic now. */
async function oldServesAll(model: string, replicas: number): Promise<boolean> {
  const route = (await custom
    .getNamespacedCustomObject({
      group: 'gateway.networking.k8s.io',
      version: 'v1',
      namespace,
      plural: 'httproutes',
      name: model,
    })
    .catch(() => undefined)) as Route | undefined;
  const weighted = route?.spec?.rules?.find((r) => !(r.matches ?? []).some((m) => m.headers?.length));
  const toCandidate = weighted?.backendRefs?.find((b) => b.name === `${model}-canary`)?.weight ?? 0;
  if (toCandidate > 0) return false;
  const pods = await core.listNamespacedPod({
    namespace,
    labelSelector: `app.kubernetes.io/name=${model},slipway.dev/track=stable`,
  });
  const ready = pods.items.filter(
    (p) =>
      !p.metadata?.deletionTimestamp &&
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  return (
    ready.length >= replicas && ready.every((p) => p.metadata?.labels?.['app.kubernetes.io/version'] === 'v1')
  );
}

/** Polls `oldServesAll` while the release runs: the times it held, to find the first after the failure. */
function observe(model: string, replicas: number) {
  const seen: Array<{ at: number; old: boolean }> = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      seen.push({ at, old: await oldServesAll(model, replicas) });
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

const figures: Record<string, number[]> = {};
const workflowFigures: Record<string, number[]> = {};
try {
  for (let i = 0; i < runs; i++) {
    // One run of every strategy at once: the same cluster, the same moment.
    await Promise.all(
      scenarios.map(async (scenario, k) => {
        const model = `rb-${k}-${i}`;
        const first = await runRelease({ ...base(model, 'v1', scenario.replicas, false), canary: undefined });
        if (first.result.outcome.result !== 'Promoted')
          throw new Error(`${scenario.name} v1: ${first.result.outcome.reason}`);
        const watch = observe(model, scenario.replicas);
        const { result, status } = await runRelease(scenario.spec(model));
        // The figure ends when v1 serves everything: keep watching until then (the rollout may outlast the workflow's wait).
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        const seen = await watch.stop();
        const at = result.outcome.decidingMeasurement?.at;
        if (result.outcome.failureType !== 'GateFailed' || !at)
          throw new Error(`${scenario.name} run ${i}: ${result.outcome.result} ${result.outcome.reason}`);
        const failedAt = Date.parse(at);
        const back = seen.find((s) => s.at >= failedAt && s.old);
        if (!back) throw new Error(`${scenario.name} run ${i}: v1 never served everything again`);
        (figures[scenario.name] ??= []).push(back.at - failedAt);
        // The workflow's own part: from the failing measurement to its first compensation done.
        const undone = status.timeline.find((e) => e.message.startsWith('rollback: '));
        if (undone) (workflowFigures[scenario.name] ??= []).push(Date.parse(undone.at) - failedAt);
      }),
    );
  }
} finally {
  await bench.close();
}

const results = scenarios.map((s) => ({
  strategy: s.name,
  how: s.how,
  ...summary(figures[s.name] ?? []),
  firstCompensationMs: summary(workflowFigures[s.name] ?? []).median,
}));
console.log(
  JSON.stringify(
    { benchmark: 'rollback-time', runs, pollMs: POLL_MS, podReadyDelayMs: 500, results },
    null,
    2,
  ),
);
console.log(
  '\n| strategy | how the old version comes back | n | median ms | p90 ms | worst ms | first compensation done (median ms) |\n|---|---|---|---|---|---|---|',
);
for (const r of results)
  console.log(
    `| ${r.strategy} | ${r.how} | ${r.n} | ${r.median} | ${r.p90} | ${r.worst} | ${r.firstCompensationMs} |`,
  );
process.exit(0);
