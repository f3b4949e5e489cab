// Scale bench: N concurrent releases on one worker (or two) against the local stack.
//   npm run bench -- scale [--releases 100] [--workers 1|2] [--kill-one] [--hold 60s] [--interval 5s] [--rps 50]
//     [--worker-env KEY=VALUE …] [--node-defaults]
// The workers run with the process settings of the worker's manifest (jemalloc, V8's young
// generation; bench/scale/manifest-process-env.ts) unless --node-defaults; --worker-env adds or
// overrides.
// A first wave makes N stable versions; the second wave, measured, runs N canaries at once (one
// 50% step held for --hold, gate measured every --interval; gateway-api and replica-ratio mixed;
// every 10th candidate bad). Every release's end is checked in the cluster. With two workers and
// --kill-one, one worker is killed with SIGKILL halfway through the hold and the other must finish
// everything. Prints a JSON document and tables: wall time, worker RSS and CPU over time,
// schedule-to-start latency, apiserver requests per release per gate interval while every release
// holds (the workers' own, through a counting proxy, and the apiserver's apiserver_request_total for
// the whole cluster), Prometheus queries per gate interval, the Temporal dev server's CPU and RSS,
// and how many of Prometheus's scrapes of the traffic simulator succeeded in each wave.
import { mkdtempSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadStackConfig } from '../infra/local/stack/config.ts';
import { runningPid } from '../infra/local/stack/processes.ts';
import { workflowsPath } from '../worker/create-worker.ts';
import { parseDuration } from '../workflows/duration.ts';
import { summary } from './local-worker.ts';
import { startCountingProxy } from './peer/counting-proxy.ts';
import { heldRequestKinds, modelInUrl, perReleaseRequests } from './scale/attribution.ts';
import { localProcessEnv } from './scale/manifest-process-env.ts';
import {
  apiserverRequestTotal,
  increaseBetween,
  prometheusQueryTotal,
  sampleCounters,
} from './scale/counters.ts';
import { startFleetWorker, type FleetWorker } from './scale/fleet.ts';
import { simulatorScrapeHealth, type ScrapeHealth } from './scale/simulator-scrapes.ts';
import { addNodes, removeNodes } from './scale/nodes.ts';
import { overTime, sampleProcess } from './scale/process-stats.ts';
import {
  clusterClients,
  clusterMismatch,
  collect,
  holdWindow,
  rejectInconclusive,
  scaleModels,
  startWave,
  untilWaveEnds,
  type Ended,
} from './scale/releases.ts';
import {
  ACTIVITY_LATENCY,
  addHistograms,
  histogramOf,
  quantile,
  WORKFLOW_TASK_LATENCY,
} from './scale/schedule-latency.ts';

const { values } = parseArgs({
  options: {
    releases: { type: 'string', default: '100' },
    workers: { type: 'string', default: '1' },
    'kill-one': { type: 'boolean', default: false },
    hold: { type: 'string' },
    interval: { type: 'string', default: '5s' },
    'bad-every': { type: 'string', default: '10' },
    /** Requests per second the simulator sends each model (see WaveOptions.requestsPerSecond). */
    rps: { type: 'string', default: '50' },
    /** KEY=VALUE for the workers (e.g. SLIPWAY_MAX_CONCURRENT_ACTIVITIES=200 to compare settings). */
    'worker-env': { type: 'string', multiple: true, default: [] },
    /** Workers without the manifest's process settings: glibc malloc, Node's own V8 sizes. */
    'node-defaults': { type: 'boolean', default: false },
  },
});
const N = Number(values.releases);
const WORKERS = Number(values.workers);
if (!Number.isInteger(N) || N < 1 || ![1, 2].includes(WORKERS)) {
  console.error(
    'usage: npm run bench -- scale [--releases N] [--workers 1|2] [--kill-one] [--hold 60s] [--interval 5s] [--rps 50]',
  );
  process.exit(2);
}
if (values['kill-one'] && WORKERS !== 2) {
  console.error('--kill-one needs --workers 2');
  process.exit(2);
}
// Every release must be holding at once for a while: the wave needs time to get there.
const hold = values.hold ?? `${Math.max(60, Math.ceil(N * 0.3))}s`;
const interval = values.interval;
const durationMs = (text: string): number => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    console.error(`not a duration: ${text}`);
    process.exit(2);
  }
  return ms;
};
const intervalMs = durationMs(interval);
const requestsPerSecond = Number(values.rps);
if (!Number.isFinite(requestsPerSecond) || requestsPerSecond <= 0 || requestsPerSecond > 1000) {
  console.error(`--rps wants a number of requests per second in (0, 1000], got ${values.rps}`);
  process.exit(2);
}
const holdMs = durationMs(hold);

const manifestEnv = (() => {
  if (values['node-defaults']) return {};
  try {
    return localProcessEnv();
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  }
})();
const workerEnv = Object.fromEntries([
  ...Object.entries(manifestEnv),
  ...values['worker-env'].map((pair) => {
    const at = pair.indexOf('=');
    if (at < 1) {
      console.error(`--worker-env wants KEY=VALUE, got ${pair}`);
      process.exit(2);
    }
    return [pair.slice(0, at), pair.slice(at + 1)] as const;
  }),
]);

const started = Date.now();
const stack = loadStackConfig();
const kc = new k8s.KubeConfig();
kc.loadFromDefault();
const core = kc.makeApiClient(k8s.CoreV1Api);
const namespace = `scale-${Date.now().toString(36)}`;
const taskQueue = `scale-${process.pid}`;
await core.createNamespace({ body: { metadata: { name: namespace } } });
const nodes = await addNodes(core, N * 3);
const bundle = join(mkdtempSync(join(tmpdir(), 'scale-bundle-')), 'workflow-bundle.js');
writeFileSync(bundle, (await bundleWorkflowCode({ workflowsPath })).code);
const proxy = await startCountingProxy('scale', namespace, { attribute: modelInUrl });
const client = new Client({
  connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:17233' }),
});
const workers: FleetWorker[] = [];
for (let i = 0; i < WORKERS; i++)
  workers.push(
    await startFleetWorker(`worker-${i}`, {
      taskQueue,
      kubeconfig: proxy.kubeconfig,
      bundle,
      env: workerEnv,
    }),
  );
const prometheusUrl = process.env.PROMETHEUS_URL ?? 'http://127.0.0.1:19090';
const temporalPid = runningPid(stack.stateDir, 'temporal');
const temporalStats = temporalPid ? sampleProcess(temporalPid) : undefined;
const counters = sampleCounters({
  workerRequests: () => proxy.counts().total,
  apiserverRequests: apiserverRequestTotal,
  prometheusQueries: () => prometheusQueryTotal(prometheusUrl),
});
const models = scaleModels(N, Number(values['bad-every']));
const cluster = clusterClients(kc);
const timeoutMs = 30 * 60_000;

// Every release checked in the cluster, each wave right after it ends.
const mismatches: string[] = [];
// Releases paused by an inconclusive gate (no data in a row, errors), rejected by the bench as an
// operator would: each wave's own set.
const rejected = { v1: new Set<string>(), v2: new Set<string>() };
async function checkWave(wave: 'v1' | 'v2', list: Ended[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < list.length) {
        const e = list[next++]!;
        const mismatch = await clusterMismatch(cluster, namespace, e, wave, rejected[wave]).catch(
          (error: unknown) => String(error),
        );
        if (mismatch) mismatches.push(`${wave} ${mismatch}`);
      }
    }),
  );
}

const phases: Record<string, { startS: number; endS: number }> = {};
const since = (t: number) => Math.round((t - started) / 100) / 10;
let killed: { worker: string; atS: number } | undefined;
// Wave 1: every model's first release (stable v1).
let t = Date.now();
await startWave(client, models, {
  namespace,
  taskQueue,
  version: 'v1',
  hold: '1s',
  gateInterval: interval,
  requestsPerSecond,
});
const firstWaveAt = t;
await untilWaveEnds(client, taskQueue, timeoutMs, () =>
  rejectInconclusive(client, core, { namespace, version: 'v1' }, models, firstWaveAt, rejected.v1),
);
phases.firstWave = { startS: since(t), endS: since(Date.now()) };
const firstWaveScrapes = await simulatorScrapeHealth(prometheusUrl, firstWaveAt, Date.now());
const ended1 = await collect(client, models, { namespace, version: 'v1' }, false);
await checkWave('v1', ended1);

// Wave 2, measured: N canaries at once (of the models whose first release was not rejected).
const canaryModels = models.filter((m) => !rejected.v1.has(m.model));
t = Date.now();
const secondWaveAt = t;
await startWave(client, canaryModels, {
  namespace,
  taskQueue,
  version: 'v2',
  hold,
  gateInterval: interval,
  requestsPerSecond,
});
phases.startedSecondWave = { startS: since(t), endS: since(Date.now()) };
if (values['kill-one']) {
  const victim = workers[1]!;
  await new Promise((resolve) => setTimeout(resolve, holdMs / 2 + (Date.now() - t)));
  killed = { worker: victim.name, atS: since(Date.now()) };
  await victim.process.kill9();
}
await untilWaveEnds(client, taskQueue, timeoutMs, () =>
  rejectInconclusive(client, core, { namespace, version: 'v2' }, canaryModels, secondWaveAt, rejected.v2),
);
phases.secondWave = { startS: since(t), endS: since(Date.now()) };
const secondWaveScrapes = await simulatorScrapeHealth(prometheusUrl, secondWaveAt, Date.now());
const ended2 = await collect(client, canaryModels, { namespace, version: 'v2' }, true);
await checkWave('v2', ended2);
// Read while the workers still run.
const metricsTexts = await Promise.all(workers.map((w) => w.metrics()));
for (const w of workers) w.stopHeap();
const workerMemory = workers.map((w) => ({
  name: w.name,
  allocator: w.allocator,
  samples: w.memory.stop(),
  heap: w.heap,
}));
const temporalSamples = temporalStats?.stop() ?? [];
const series = await counters.stop();

const outcomes = (list: Ended[]) =>
  list.reduce<Record<string, number>>((acc, e) => {
    const k = e.result?.outcome.result ?? 'failed';
    acc[k] = (acc[k] ?? 0) + 1;
    return acc;
  }, {});

// The span in which every good release of the second wave held its step.
const windows = ended2
  .filter((e) => !e.model.bad)
  .map((e) => holdWindow(e.status))
  .filter((w) => w !== undefined);
const from = Math.max(...windows.map((w) => w.from));
const to = Math.min(...windows.map((w) => w.to));
const windowMs = to - from;
const holdingReleases = windows.length;
const perReleasePerInterval = (name: string) => {
  const s = series.find((x) => x.name === name);
  if (!s || windowMs <= 0) return null;
  const increase = increaseBetween(s, from, to);
  return Math.round((increase / holdingReleases / (windowMs / intervalMs)) * 1000) / 1000;
};
// Each release over its own hold (holds of hundreds of releases need not overlap at all).
const holds = ended2.flatMap((e) => {
  const w = holdWindow(e.status);
  return w ? [{ model: e.model.model, ...w }] : [];
});
const ownRequests = perReleaseRequests(proxy.arrivals(), holds, intervalMs);
const ownRequestKinds = heldRequestKinds(proxy.arrivals(), proxy.arrivalKinds(), holds, intervalMs);
const releaseIntervals = holds.reduce((sum, h) => sum + Math.max(0, h.to - h.from) / intervalMs, 0);
const holdsSpan = holds.length
  ? { from: Math.min(...holds.map((h) => h.from)), to: Math.max(...holds.map((h) => h.to)) }
  : undefined;
/** A counter's increase while any release held, per release-interval held (0.5 = one per two). */
const perReleaseInterval = (name: string) => {
  const s = series.find((x) => x.name === name);
  if (!s || !holdsSpan || releaseIntervals <= 0) return null;
  return Math.round((increaseBetween(s, holdsSpan.from, holdsSpan.to) / releaseIntervals) * 1000) / 1000;
};
const perInterval = (name: string) => {
  const s = series.find((x) => x.name === name);
  if (!s || windowMs <= 0) return null;
  return Math.round((increaseBetween(s, from, to) / (windowMs / intervalMs)) * 10) / 10;
};
const latency = (name: string) => {
  const h = addHistograms(metricsTexts.map((text) => histogramOf(text, name)));
  return { count: h.count, p50Ms: quantile(h, 0.5), p99Ms: quantile(h, 0.99) };
};
const rss = (samples: Array<{ rssMiB: number }>) => ({
  peakMiB: Math.max(0, ...samples.map((s) => s.rssMiB)),
  lastMiB: samples[samples.length - 1]?.rssMiB ?? NaN,
});

const figures = {
  benchmark: 'scale',
  releases: N,
  workers: WORKERS,
  workerEnv,
  killed: killed ?? null,
  hold,
  gateInterval: interval,
  simulatorRequestsPerSecondPerModel: requestsPerSecond,
  badCandidates: models.filter((m) => m.bad).length,
  wallSeconds: since(Date.now()),
  phases,
  outcomes: { firstWave: outcomes(ended1), secondWave: outcomes(ended2) },
  // The safety property: a bad candidate is never promoted.
  badCandidatesPromoted: ended2.filter((e) => e.model.bad && e.result?.outcome.result === 'Promoted').length,
  // Paused by a gate that could not decide, then rejected by the bench (see rejectInconclusive).
  pausedInconclusive: { firstWave: rejected.v1.size, secondWave: rejected.v2.size },
  // Whether Prometheus could read the simulator at all: no data while it could not is the stack's limit.
  simulatorScrapes: { firstWave: firstWaveScrapes ?? null, secondWave: secondWaveScrapes ?? null },
  clusterMismatches: mismatches.length,
  mismatchExamples: mismatches.slice(0, 10),
  holding: { releases: holdingReleases, windowSeconds: Math.round(windowMs / 100) / 10 },
  apiserverRequestsPerReleasePerInterval: {
    workers: perReleasePerInterval('workerRequests'),
    wholeCluster: perReleasePerInterval('apiserverRequests'),
  },
  // Over every release's own hold: its own requests, and the shared ones spread over release-intervals.
  apiserverRequestsPerReleaseHold: ownRequests ?? null,
  // Those own requests by verb and resource, per release-interval held (the most frequent).
  apiserverRequestKindsPerReleaseInterval: ownRequestKinds,
  // Whole-span increases over the release-intervals held (counts what non-holding releases did too).
  perReleaseIntervalHeld: {
    wholeCluster: perReleaseInterval('apiserverRequests'),
    prometheusQueries: perReleaseInterval('prometheusQueries'),
  },
  prometheusQueriesPerInterval: perInterval('prometheusQueries'),
  scheduleToStart: { workflowTask: latency(WORKFLOW_TASK_LATENCY), activity: latency(ACTIVITY_LATENCY) },
  workers_: workerMemory.map((w) => ({
    name: w.name,
    allocator: w.allocator,
    ...rss(w.samples),
    cpuSeconds: Math.round(w.samples.reduce((sum, s) => sum + s.cpu, 0)),
    mainHeapUsedMiB: {
      peak: Math.max(0, ...w.heap.map((h) => h.usedMiB)),
      last: w.heap[w.heap.length - 1]?.usedMiB ?? NaN,
    },
    // The workflow thread's V8 heap (in use, and reserved), which the main thread's cannot see.
    workflowThreadHeapMiB: {
      usedPeak: Math.max(0, ...w.heap.map((h) => h.threadsUsedMiB)),
      usedLast: w.heap[w.heap.length - 1]?.threadsUsedMiB ?? NaN,
      totalPeak: Math.max(0, ...w.heap.map((h) => h.threadsTotalMiB)),
    },
    overTime: overTime(w.samples, 10),
  })),
  temporal: {
    ...rss(temporalSamples),
    meanCpu: summary(temporalSamples.map((s) => s.cpu)).median,
    overTime: overTime(temporalSamples, 10),
  },
  targets: { workerRssMiB: 1024, apiserverRequestsPerReleasePerInterval: 3 },
};

for (const w of workers) await w.process.stop().catch(() => undefined);
await proxy.close();
await core.deleteNamespace({ name: namespace }).catch(() => undefined);
await removeNodes(core);
void nodes;

console.log(JSON.stringify(figures, null, 2));
console.log(`\n| figure | value | target |\n|---|---|---|`);
const row = (name: string, value: unknown, target = '') =>
  console.log(`| ${name} | ${String(value)} | ${target} |`);
/** The figures over the span when every release held at once; hundreds of holds need not overlap. */
const commonHold = (value: number | null) =>
  value ??
  (windowMs <= 0
    ? `no span when all ${holdingReleases} releases held at once (see the per-release rows)`
    : 'not measured');
row(
  'releases (second wave), workers',
  `${N}, ${WORKERS}${killed ? ` (${killed.worker} killed at ${killed.atS} s)` : ''}`,
);
row(
  'outcomes',
  JSON.stringify(figures.outcomes.secondWave),
  `${N - figures.badCandidates} Promoted, ${figures.badCandidates} RolledBack`,
);
row('bad candidates promoted', figures.badCandidatesPromoted, '0');
row(
  'paused on an inconclusive gate, rejected by the bench (first / second wave)',
  `${rejected.v1.size} / ${rejected.v2.size}`,
);
row('cluster mismatches', mismatches.length, '0');
const scrapeRow = (h: ScrapeHealth | undefined) =>
  h
    ? `${Math.round(h.up * 1000) / 10}% of ${h.scrapes} up, ${h.durationSeconds.p50} / ${h.durationSeconds.max} s`
    : 'unknown';
row(
  'simulator scrapes up, duration p50 / max (first / second wave)',
  `${scrapeRow(firstWaveScrapes)}; ${scrapeRow(secondWaveScrapes)}`,
  '100%, < 1 s',
);
row(
  'wall time, second wave (s)',
  Math.round((phases.secondWave?.endS ?? 0) - (phases.secondWave?.startS ?? 0)),
);
for (const w of figures.workers_) {
  row(
    `${w.name} RSS peak / last (MiB), allocator`,
    `${w.peakMiB} / ${w.lastMiB}, ${w.allocator}`,
    '< 1024, flat',
  );
  row(
    `${w.name} heap in use peak / last, main thread; workflow thread (MiB)`,
    `${w.mainHeapUsedMiB.peak} / ${w.mainHeapUsedMiB.last}; ${w.workflowThreadHeapMiB.usedPeak} / ${w.workflowThreadHeapMiB.usedLast} (reserved peak ${w.workflowThreadHeapMiB.totalPeak})`,
  );
}
row(
  'apiserver requests / release / interval, workers',
  commonHold(figures.apiserverRequestsPerReleasePerInterval.workers),
  '<= 3',
);
row(
  'apiserver requests / interval of its own hold, per release (median / p90 / worst)',
  ownRequests
    ? `${ownRequests.own.median} / ${ownRequests.own.p90} / ${ownRequests.own.worst} (+ ${ownRequests.shared} shared), ${ownRequests.releases} releases`
    : 'no holds',
  '<= 3',
);
row(
  'own requests while holding, by kind, per release-interval',
  Object.entries(ownRequestKinds)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ') || 'none',
);
row(
  'whole cluster requests, Prometheus queries / release-interval held',
  `${figures.perReleaseIntervalHeld.wholeCluster}, ${figures.perReleaseIntervalHeld.prometheusQueries}`,
);
row(
  'apiserver requests / release / interval, whole cluster',
  commonHold(figures.apiserverRequestsPerReleasePerInterval.wholeCluster),
);
row(
  'Prometheus queries / interval',
  commonHold(figures.prometheusQueriesPerInterval),
  `${holdingReleases} releases holding`,
);
row(
  'workflow task schedule-to-start p50 / p99 (ms)',
  `${figures.scheduleToStart.workflowTask.p50Ms} / ${figures.scheduleToStart.workflowTask.p99Ms}`,
);
row(
  'activity schedule-to-start p50 / p99 (ms)',
  `${figures.scheduleToStart.activity.p50Ms} / ${figures.scheduleToStart.activity.p99Ms}`,
);
row(
  'Temporal dev server RSS peak (MiB), median CPU (cores)',
  `${figures.temporal.peakMiB}, ${figures.temporal.meanCpu}`,
);
console.log(
  '\n| worker | until (s) | RSS (MiB) | CPU (cores) | heap in use, main / workflow thread (MiB) |\n|---|---|---|---|---|',
);
for (const [i, w] of figures.workers_.entries()) {
  const heap = workerMemory[i]!.heap;
  let fromS = 0;
  for (const s of w.overTime) {
    const inSpan = heap.filter((h) => h.t / 1000 > fromS && h.t / 1000 <= s.untilS);
    const peak = (pick: (h: (typeof heap)[number]) => number) =>
      inSpan.length ? Math.max(...inSpan.map(pick)) : '–';
    console.log(
      `| ${w.name} | ${s.untilS} | ${s.rssMiB} | ${s.cpu} | ${peak((h) => h.usedMiB)} / ${peak((h) => h.threadsUsedMiB)} |`,
    );
    fromS = s.untilS;
  }
}
process.exit(mismatches.length === 0 ? 0 : 1);
