// A whole chaos run, shared by test/integration/chaos.test.ts (CI size) and bench/chaos-bench.ts
// (the big runs): a namespace, a Temporal dev server of its own, a supervised worker process, v1 of
// every model released first (no chaos), then the planned releases — each model's one after another,
// the models side by side — while the killer kills the worker and restarts Temporal; then every
// release's outcome and end state, the Jobs created per release, and what is left in the namespace.
import { Client, Connection } from '@temporalio/client';
import { seededRandom } from '../../infra/local/simulator/random.ts';
import { createTestNamespace, type TestNamespace } from '../../test/helpers/cluster.ts';
import { orphans } from './cluster-checks.ts';
import { watchJobs, type JobLedger } from './job-ledger.ts';
import { runKiller, type InFlight, type KillRecord, type TemporalRestartRecord } from './killer.ts';
import { chaosPlan, type ChaosPlan } from './plan.ts';
import { runRelease, type ReleaseRecord, type RunnerContext } from './release-runner.ts';
import { chaosSpec, firstReleaseSpec } from './specs.ts';
import { startOwnTemporal } from './temporal-server.ts';
import { superviseWorker } from './worker-supervisor.ts';

export interface ChaosOptions {
  releases: number;
  kills: number;
  /** Models released side by side (each model's releases one after another). */
  models: number;
  temporalRestarts: number;
  seed: number;
  /** Gap before each kill, uniformly in [min, max] ms. */
  gapMs?: [number, number];
  /** How long a kill may wait for a release in a stage never hit yet. */
  huntMs?: number;
  /** How long after a kill the next one waits for the tasks lost with the worker to run again. */
  recoverWaitMs?: number;
  releaseTimeoutMs?: number;
  /** Keep the namespace afterwards (to look at what went wrong). */
  keepNamespace?: boolean;
  log?: (line: string) => void;
}

export interface JobFinding {
  release: string;
  /** Jobs (distinct uids) created for it. */
  created: number;
  expected: number;
}

export interface ChaosRun {
  options: Required<Omit<ChaosOptions, 'log'>>;
  namespace: string;
  releases: ReleaseRecord[];
  kills: KillRecord[];
  temporalRestarts: TemporalRestartRecord[];
  worker: { starts: number; unexpectedExits: number; unexpectedOutput: string[] };
  /** Releases whose Job count is not one (with a build Job) or zero (without). */
  jobFindings: JobFinding[];
  jobsCreated: number;
  orphans: string[];
  /** The v1 releases before the chaos. */
  setupMs: number;
  /** From the first chaos release started to the last one ended. */
  chaosMs: number;
  wallMs: number;
}

/** v1 of every model, before the chaos: all must be Promoted. */
async function releaseFirstVersions(ctx: RunnerContext, plan: ChaosPlan): Promise<void> {
  await Promise.all(
    plan.models.map(async ({ model, router }) => {
      const planned = {
        index: -1,
        model,
        router,
        version: 'v1',
        kind: 'good' as const,
        buildJob: false,
        expected: 'Promoted' as const,
      };
      const record = await runRelease(ctx, planned, firstReleaseSpec(ctx.ns.name, model, router), 'v1');
      if (record.outcome !== 'Promoted' || record.stateProblems.length > 0)
        throw new Error(
          `setup: ${model} v1 ${record.outcome}: ${record.reason} ${record.stateProblems.join('; ')}`,
        );
    }),
  );
}

function jobFindings(plan: ChaosPlan, jobs: JobLedger, records: ReleaseRecord[]): JobFinding[] {
  const findings: JobFinding[] = [];
  for (const r of plan.releases) {
    const created = jobs.uidsOf(r.model, r.version);
    const ran = records.find((x) => x.index === r.index);
    // A release that ended before its build (it cannot here) would rightly have no Job.
    const expected = r.buildJob && ran ? 1 : 0;
    if (created !== expected) findings.push({ release: `${r.model} ${r.version}`, created, expected });
  }
  return findings;
}

export async function runChaos(input: ChaosOptions): Promise<ChaosRun> {
  const options = {
    gapMs: [1_000, 4_000] as [number, number],
    huntMs: 5_000,
    recoverWaitMs: 15_000,
    releaseTimeoutMs: 6 * 60_000,
    keepNamespace: false,
    ...input,
  };
  const { log: _log, ...reported } = options;
  const log = input.log ?? (() => undefined);
  const startedAt = Date.now();
  const plan = chaosPlan(options);
  const taskQueue = `chaos-${process.pid}-${Date.now().toString(36)}`;
  const cleanups: Array<() => Promise<void>> = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const ns: TestNamespace = await createTestNamespace('chaos');
    if (!options.keepNamespace) cleanups.push(() => ns.delete());
    const temporal = await startOwnTemporal();
    cleanups.push(() => temporal.close());
    const worker = await superviseWorker(taskQueue, temporal.address);
    cleanups.push(() => worker.close());
    const connection = await Connection.connect({ address: temporal.address });
    cleanups.push(() => connection.close());
    const jobs = await watchJobs(ns.kc, ns.name);
    cleanups.push(() => jobs.stop());
    const inFlight = new Map<string, InFlight>();
    const ctx: RunnerContext = {
      client: new Client({ connection }),
      ns,
      taskQueue,
      startedAt,
      releaseTimeoutMs: options.releaseTimeoutMs,
      inFlight,
    };
    log(`namespace ${ns.name}, temporal ${temporal.address} (${temporal.dbFile})`);
    await releaseFirstVersions(ctx, plan);
    const setupMs = Date.now() - startedAt;
    log(`v1 of ${plan.models.length} models released in ${setupMs} ms`);

    const records: ReleaseRecord[] = [];
    let running = plan.models.length;
    let killed = 0;
    // Releases do not run ahead of the kills: the i-th may start once i·K/R kills are done (rounded
    // down), or when nothing else is in flight to be killed. One kill fewer (as before) let the last
    // release start with two kills still to come, and end before the second of them (CI, seed 7).
    const pace = async (index: number) => {
      const due = Math.floor((index * options.kills) / Math.max(1, options.releases));
      while (killed < due && inFlight.size > 0) await new Promise((resolve) => setTimeout(resolve, 200));
    };
    const chaosStart = Date.now();
    const chains = Promise.all(
      plan.models.map(async (slot) => {
        let stable = 'v1';
        try {
          for (const planned of slot.releases) {
            await pace(planned.index);
            const record = await runRelease(ctx, planned, chaosSpec(ns.name, planned), stable);
            records.push(record);
            stable = record.stableVersion;
            log(
              `${planned.model} ${planned.version} (${planned.kind}): ${record.outcome}, measurements ${record.measurements ? JSON.stringify(record.measurements) : 'unknown'}${record.stateProblems.length ? ` — ${record.stateProblems.join('; ')}` : ''}`,
            );
          }
        } finally {
          running--;
        }
      }),
    );
    const killer = runKiller({
      kills: options.kills,
      temporalRestarts: options.temporalRestarts,
      random: seededRandom(options.seed, 'chaos-kills'),
      gapMs: options.gapMs,
      huntMs: options.huntMs,
      recoverWaitMs: options.recoverWaitMs,
      inFlight: () => [...inFlight.values()],
      finished: () => running === 0,
      worker,
      temporal,
      startedAt,
      log,
      onKill: (kills) => (killed = kills),
    });
    const [, chaos] = await Promise.all([chains, killer]);
    const chaosMs = Date.now() - chaosStart;
    await jobs.stop();
    const left = await orphans(ns);
    return {
      options: reported,
      namespace: ns.name,
      releases: records.sort((a, b) => a.index - b.index),
      kills: chaos.kills,
      temporalRestarts: chaos.restarts,
      worker: { ...worker.counts(), unexpectedOutput: worker.unexpectedOutput() },
      jobFindings: jobFindings(plan, jobs, records),
      jobsCreated: plan.releases.reduce((n, r) => n + jobs.uidsOf(r.model, r.version), 0),
      orphans: left,
      setupMs,
      chaosMs,
      wallMs: Date.now() - startedAt,
    };
  } finally {
    await cleanUp();
  }
}
