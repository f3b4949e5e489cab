// Releases through a misbehaving apiserver, on the local stack (real Temporal dev server,
// kube-apiserver with KWOK nodes, Prometheus, the traffic simulator): N models, each in a namespace
// of its own, get a first version (v1) and then a candidate (v2) — good and bad in turn, with the
// gateway-api and replica-ratio routers in turn — from a worker whose kubeconfig goes through the
// fault proxy (infra/local/faults) injecting 429 with Retry-After, 500/503, resets, slow answers,
// cut watches and 410 Gone on resume at the given rates. Each release must end within its deadline
// and as its kind says, checked in the cluster read directly. First, a few fault-free releases of
// each kind through a second worker give the time they take without faults.
// Prints a JSON document and a table: per fault kind what was injected and what survived (retries
// no sooner than Retry-After, watches re-established), per kind of release how many ended
// correctly, how long they took and the longest against its deadline.
//   npm run bench -- fault [--releases 20] [--seed 1] [--rate 0.05] [--watch-rate R]
//     [--retry-after 1] [--concurrency 4] [--deadline 180] [--baseline 4] [--plan '<json>']
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { z } from 'zod';
import { parsePlanJson } from '../infra/local/faults/inputs.ts';
import { FaultPlan } from '../infra/local/faults/plan.ts';
import { startFaultProxy } from '../infra/local/faults/proxy.ts';
import { loadStackConfig } from '../infra/local/stack/config.ts';
import { pkiPaths } from '../infra/local/stack/pki.ts';
import type { TestNamespace } from '../test/helpers/cluster.ts';
import { readModelObjects, resultWithin } from '../test/helpers/model-objects.ts';
import { releaseWorkflowId } from '../workflows/ids.ts';
import { release, type ReleaseResult } from '../workflows/release.ts';
import type { ReleaseSpecInput } from '../workflows/spec/index.ts';
import { buildReport, reportTable, type ReleaseRecord } from './faults/report.ts';
import { benchSpec, checkOutcome, kindName, kindOf } from './faults/scenario.ts';
import { startWorker, type BenchWorker } from './faults/worker.ts';

const Args = z.object({
  releases: z.coerce.number().int().min(1).max(500),
  seed: z.coerce.number().int(),
  rate: z.coerce.number().min(0).max(1),
  'watch-rate': z.coerce.number().min(0).max(1).optional(),
  'retry-after': z.coerce.number().int().min(0).max(60),
  concurrency: z.coerce.number().int().min(1).max(50),
  deadline: z.coerce.number().int().min(10),
  baseline: z.coerce.number().int().min(0).max(50),
  plan: z.string().optional(),
});
const { values } = parseArgs({
  options: {
    releases: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    rate: { type: 'string', default: '0.05' },
    'watch-rate': { type: 'string' },
    'retry-after': { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '4' },
    deadline: { type: 'string', default: '180' },
    baseline: { type: 'string', default: '4' },
    plan: { type: 'string' },
  },
});
const parsedArgs = Args.safeParse(values);
if (!parsedArgs.success) {
  console.error(z.prettifyError(parsedArgs.error));
  process.exit(2);
}
const args = parsedArgs.data;
const watchRate = args['watch-rate'] ?? args.rate;
const planResult = args.plan
  ? parsePlanJson(args.plan, '--plan')
  : {
      ok: true as const,
      plan: FaultPlan.parse({
        seed: args.seed,
        throttle: args.rate,
        throttleRetryAfterSeconds: args['retry-after'],
        serverError: args.rate,
        reset: args.rate,
        slow: args.rate,
        dropWatch: watchRate,
        goneOnResume: watchRate,
      }),
    };
if (!planResult.ok) {
  console.error(planResult.error);
  process.exit(2);
}
const plan = planResult.plan;
const deadlineMs = args.deadline * 1000;
const MODEL = 'model';

// Core's own logs too go to the (stderr) logger, so that stdout holds only the JSON and the table.
Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
});
const config = loadStackConfig({ ...process.env, SLIPWAY_FAULTS: undefined });
const address = process.env.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.ports.temporal}`;
// The cluster as it is (never through the proxy): namespaces, checks, the baseline worker.
const direct = new k8s.KubeConfig();
direct.loadFromFile(pkiPaths(config).kubeconfig);
const core = direct.makeApiClient(k8s.CoreV1Api);
const runId = Date.now().toString(36);

function namespaceFor(name: string): TestNamespace {
  return {
    name,
    kc: direct,
    core,
    apps: direct.makeApiClient(k8s.AppsV1Api),
    batch: direct.makeApiClient(k8s.BatchV1Api),
    custom: direct.makeApiClient(k8s.CustomObjectsApi),
    delete: () => core.deleteNamespace({ name }).then(() => undefined),
  };
}

const client = new Client({ connection: await Connection.connect({ address }) });
const proxy = await startFaultProxy({ upstreamPort: config.ports.apiserver, pki: pkiPaths(config), plan });
const faulty = new k8s.KubeConfig();
faulty.loadFromFile(
  proxy.kubeconfigFor(join(mkdtempSync(join(tmpdir(), 'slipway-fault-bench-')), 'kubeconfig')),
);
const namespaces: TestNamespace[] = [];

async function runRelease(worker: BenchWorker, spec: ReleaseSpecInput): Promise<ReleaseResult> {
  const handle = await client.workflow.start(release, {
    taskQueue: worker.taskQueue,
    workflowId: releaseWorkflowId(spec.namespace, spec.model),
    args: [{ spec, submittedBy: 'fault-bench' }],
  });
  return resultWithin<ReleaseResult>(handle, deadlineMs);
}

/** One model: v1, then the measured v2, checked in the cluster. */
async function runModel(worker: BenchWorker, label: string, index: number): Promise<ReleaseRecord> {
  const kind = kindOf(index);
  const ns = namespaceFor(`fb-${runId}-${label}-${index}`);
  await core.createNamespace({
    body: { metadata: { name: ns.name, labels: { 'slipway.dev/bench': 'faults' } } },
  });
  namespaces.push(ns);
  const record: ReleaseRecord = {
    kind: kindName(kind),
    namespace: ns.name,
    setupPromoted: false,
    correct: false,
    problems: [],
    durationMs: 0,
    deadlineMs,
    late: false,
  };
  try {
    const first = await runRelease(worker, benchSpec(ns.name, MODEL, 'v1', kind));
    record.setupPromoted = first.outcome.result === 'Promoted';
    if (!record.setupPromoted) record.problems.push(`v1 ${first.outcome.result}: ${first.outcome.reason}`);
  } catch (error) {
    record.problems.push(`v1: ${error instanceof Error ? error.message : String(error)}`);
    return record;
  }
  const before = await readModelObjects(ns, ns.name, MODEL);
  const started = Date.now();
  try {
    const result = await runRelease(worker, benchSpec(ns.name, MODEL, 'v2', kind));
    record.durationMs = Date.now() - started;
    const verdict = await checkOutcome(ns, MODEL, kind, result, before);
    record.correct = verdict.correct;
    record.problems.push(...verdict.problems);
  } catch (error) {
    record.durationMs = Date.now() - started;
    record.late = /did not end within/.test(String(error));
    record.problems.push(`v2: ${error instanceof Error ? error.message : String(error)}`);
  }
  return record;
}

/** Runs `count` models, `concurrency` at a time. */
async function runMany(worker: BenchWorker, label: string, count: number): Promise<ReleaseRecord[]> {
  const records: ReleaseRecord[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(args.concurrency, count) }, async () => {
      while (next < count) {
        const index = next++;
        const record = await runModel(worker, label, index);
        records[index] = record;
        console.error(
          `${label} ${index + 1}/${count} ${record.kind}: ${record.setupPromoted && record.correct ? 'ok' : 'WRONG'} in ${(record.durationMs / 1000).toFixed(1)} s${record.problems.length ? ` (${record.problems.join('; ')})` : ''}`,
        );
      }
    }),
  );
  return records;
}

const started = Date.now();
const workers: BenchWorker[] = [];
let baseline: ReleaseRecord[] = [];
let releases: ReleaseRecord[];
try {
  if (args.baseline > 0) {
    const free = await startWorker(address, `fault-bench-free-${process.pid}`, direct);
    workers.push(free);
    baseline = await runMany(free, 'free', args.baseline);
  }
  const worker = await startWorker(address, `fault-bench-${process.pid}`, faulty);
  workers.push(worker);
  releases = await runMany(worker, 'faults', args.releases);
} finally {
  await Promise.all(workers.map((w) => w.stop()));
  await proxy.close();
  await Promise.all(namespaces.map((ns) => ns.delete().catch(() => undefined)));
}

const stats = proxy.stats();
const report = buildReport({ plan, concurrency: args.concurrency, stats, releases, baseline });
const runs = [
  ...baseline.map((r) => ({ ...r, faults: false })),
  ...releases.map((r) => ({ ...r, faults: true })),
].map((r) => ({
  kind: r.kind,
  faults: r.faults,
  namespace: r.namespace,
  seconds: r.durationMs / 1000,
  correct: r.setupPromoted && r.correct,
}));
console.log(JSON.stringify({ ...report, wallS: Math.round((Date.now() - started) / 1000), runs }, null, 2));
console.log(`\n${reportTable(report)}`);
process.exit(report.allCorrect && report.late === 0 ? 0 : 1);
