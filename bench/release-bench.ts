// Benchmark of the release workflow on the local stack (real Temporal dev server, Kubernetes,
// Prometheus, traffic simulator):
//  - orchestration overhead per canary step = step duration − configured hold, from the workflow's
//    own timeline, over several releases of a 4-step canary;
//  - reaction time = from the failing gate measurement to the HTTPRoute observed (watch) back at
//    100% stable, over several releases of a bad candidate (gate interval 2 s).
// Prints a JSON document and a table. `npm run bench -- --runs 5`
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { statusQuery } from '../workflows/messages.ts';
import { release } from '../workflows/release.ts';
import { releaseSpec } from '../test/helpers/release-fixtures.ts';
import { startLocalBench, summary } from './local-worker.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
const HOLD_MS = 1_000;
const STEPS = [10, 25, 50, 75];

const bench = await startLocalBench('bench');
const { kc, client, namespace, taskQueue } = bench;

async function runRelease(
  model: string,
  version: string,
  extra: Parameters<typeof releaseSpec>[0]['annotations'],
  steps: Array<{ weight: number; hold: string }>,
) {
  const handle = await client.workflow.start(release, {
    taskQueue,
    workflowId: `bench-${namespace}-${model}-${version}`,
    args: [
      {
        spec: releaseSpec({ namespace, model, version, ...(extra ? { annotations: extra } : {}), steps }),
        submittedBy: 'bench',
      },
    ],
  });
  const result = await handle.result();
  return { result, status: await handle.query(statusQuery) };
}

/** Resolves with the time the route was first seen at 100% stable after `since` (through a watch). */
function watchRouteReset(model: string): { seen: Promise<number>; stop: () => void } {
  const watch = new k8s.Watch(kc);
  let controller: AbortController | undefined;
  let armed = false;
  const seen = new Promise<number>((resolve) => {
    void watch
      .watch(
        `/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/httproutes`,
        { fieldSelector: `metadata.name=${model}` },
        (
          _phase,
          obj: { spec?: { rules?: Array<{ backendRefs?: Array<{ name: string; weight?: number }> }> } },
        ) => {
          const canary =
            obj.spec?.rules?.[0]?.backendRefs?.find((b) => b.name === `${model}-canary`)?.weight ?? 0;
          if (canary > 0) armed = true;
          else if (armed) resolve(Date.now());
        },
        () => undefined,
      )
      .then((c) => (controller = c));
  });
  return { seen, stop: () => controller?.abort() };
}

const overheads: number[] = [];
const reactions: number[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const model = `ovh-${i}`;
    await runRelease(model, 'v1', undefined, [{ weight: 50, hold: '1s' }]);
    const { result, status } = await runRelease(
      model,
      'v2',
      undefined,
      STEPS.map((weight) => ({ weight, hold: `${HOLD_MS}ms` })),
    );
    if (result.outcome.result !== 'Promoted') throw new Error(`overhead run ${i}: ${result.outcome.reason}`);
    const starts = status.timeline
      .filter((t) => /^canary step \d+\/\d+:/.test(t.message))
      .map((t) => Date.parse(t.at));
    const promote = status.timeline.find((t) => t.stage === 'promote');
    const ends = [...starts.slice(1), promote ? Date.parse(promote.at) : NaN];
    starts.forEach((s, k) => overheads.push(ends[k]! - s - HOLD_MS));
  }
  for (let i = 0; i < runs; i++) {
    const model = `react-${i}`;
    await runRelease(model, 'v1', undefined, [{ weight: 50, hold: '1s' }]);
    const watcher = watchRouteReset(model);
    const { result } = await runRelease(model, 'v2', { 'sim.slipway.dev/error-rate': '0.5' }, [
      { weight: 50, hold: '60s' },
    ]);
    const at = result.outcome.decidingMeasurement?.at;
    if (result.outcome.failureType !== 'GateFailed' || !at)
      throw new Error(`reaction run ${i}: ${result.outcome.reason}`);
    reactions.push((await watcher.seen) - Date.parse(at));
    watcher.stop();
  }
} finally {
  await bench.close();
}

const figures = {
  benchmark: 'release-workflow',
  runs,
  stepsPerRelease: STEPS.length,
  holdMs: HOLD_MS,
  gateIntervalMs: 2000,
  overheadPerStepMs: summary(overheads),
  reactionMs: summary(reactions),
  targets: { overheadPerStepMs: 100, reactionMs: 2000 + 1000 },
};
console.log(JSON.stringify(figures, null, 2));
console.log('\n| figure | n | median | p90 | worst | target |\n|---|---|---|---|---|---|');
for (const [name, key, target] of [
  ['overhead per step (ms)', 'overheadPerStepMs', '< 100'],
  ['reaction to 100% stable (ms)', 'reactionMs', '<= interval + 1000 = 3000'],
] as const) {
  const f = figures[key];
  console.log(`| ${name} | ${f.n} | ${f.median} | ${f.p90} | ${f.worst} | ${target} |`);
}
process.exit(0);
