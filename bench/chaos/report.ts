// The figures of a chaos run, as the JSON document and the table the bench prints (and the test
// logs): releases, kills in all and per stage, Temporal restarts, outcomes, releases that ended
// otherwise than expected, cluster-state mismatches, duplicate Jobs, orphans, times.
import { summary } from '../local-worker.ts';
import { KILL_STAGES } from './killer.ts';
import type { ChaosRun } from './run.ts';

export function chaosFigures(run: ChaosRun) {
  const killsPerStage: Record<string, number> = Object.fromEntries(KILL_STAGES.map((s) => [s, 0]));
  for (const k of run.kills) killsPerStage[k.stage] = (killsPerStage[k.stage] ?? 0) + 1;
  const outcomes = { Promoted: 0, RolledBack: 0, other: 0 };
  for (const r of run.releases) {
    if (r.outcome === 'Promoted' || r.outcome === 'RolledBack') outcomes[r.outcome]++;
    else outcomes.other++;
  }
  const unexpected = run.releases
    .filter(
      (r) => r.outcome !== r.expected || (r.expected === 'RolledBack' && r.failureType !== 'GateFailed'),
    )
    .map((r) => ({
      release: `${r.model} ${r.version}`,
      kind: r.kind,
      expected: r.expected,
      outcome: r.outcome,
      failureType: r.failureType ?? null,
      reason: r.reason,
    }));
  const mismatches = run.releases
    .filter((r) => r.stateProblems.length > 0)
    .map((r) => ({ release: `${r.model} ${r.version}`, outcome: r.outcome, problems: r.stateProblems }));
  const duplicateJobs = run.jobFindings.filter((f) => f.created > f.expected);
  return {
    benchmark: 'chaos',
    seed: run.options.seed,
    namespace: run.namespace,
    releases: run.releases.length,
    models: run.options.models,
    withBuildJob: run.releases.filter((r) => r.buildJob).length,
    byKind: {
      good: run.releases.filter((r) => r.kind === 'good').length,
      badCanary: run.releases.filter((r) => r.kind === 'bad-canary').length,
      badVerify: run.releases.filter((r) => r.kind === 'bad-verify').length,
    },
    byRouter: {
      gatewayApi: run.releases.filter((r) => r.router === 'gateway-api').length,
      replicaRatio: run.releases.filter((r) => r.router === 'replica-ratio').length,
    },
    kills: run.kills.length,
    killsPerStage,
    workerRestartMs: summary(run.kills.map((k) => k.restartMs)),
    lostTasksPerKill: summary(run.kills.map((k) => k.lostTasks)),
    /** From a kill until every task lost with the worker ran again (kills that lost one). */
    recoveryMs: summary(
      run.kills.filter((k) => k.lostTasks > 0 && k.recoveredMs !== undefined).map((k) => k.recoveredMs ?? 0),
    ),
    /** Kills whose lost tasks were not all running again within 150 s (or before the run ended). */
    killsNotRecovered: run.kills.filter((k) => k.lostTasks > 0 && k.recoveredMs === undefined).length,
    workerExitsOnItsOwn: run.worker.unexpectedExits,
    temporalRestarts: run.temporalRestarts.length,
    temporalRestartsBySignal: {
      SIGTERM: run.temporalRestarts.filter((r) => r.signal === 'SIGTERM').length,
      SIGKILL: run.temporalRestarts.filter((r) => r.signal === 'SIGKILL').length,
    },
    temporalDownMs: run.temporalRestarts.map((r) => r.downMs),
    outcomes,
    unexpectedOutcomes: unexpected,
    clusterStateMismatches: mismatches,
    jobsCreated: run.jobsCreated,
    duplicateJobs: duplicateJobs.length,
    jobFindings: run.jobFindings,
    orphans: run.orphans,
    releaseMs: summary(run.releases.map((r) => r.endedMs - r.startedMs)),
    setupMs: run.setupMs,
    chaosMs: run.chaosMs,
    wallMs: run.wallMs,
  };
}

export type ChaosFigures = ReturnType<typeof chaosFigures>;

export function chaosTable(f: ChaosFigures): string {
  const stages = Object.entries(f.killsPerStage)
    .map(([stage, n]) => `${stage} ${n}`)
    .join(', ');
  const rows: Array<[string, string | number]> = [
    ['releases (models side by side)', `${f.releases} (${f.models})`],
    [
      'good / bad in canary / bad after promotion',
      `${f.byKind.good} / ${f.byKind.badCanary} / ${f.byKind.badVerify}`,
    ],
    ['gateway-api / replica-ratio', `${f.byRouter.gatewayApi} / ${f.byRouter.replicaRatio}`],
    ['with a build Job', f.withBuildJob],
    ['worker kills (kill -9)', f.kills],
    ['kills per stage', stages],
    [
      'worker back after a kill (median / worst ms)',
      `${f.workerRestartMs.median} / ${f.workerRestartMs.worst}`,
    ],
    ['tasks lost per kill (median / worst)', `${f.lostTasksPerKill.median} / ${f.lostTasksPerKill.worst}`],
    [
      'lost tasks running again after (median / p90 / worst ms)',
      `${f.recoveryMs.median} / ${f.recoveryMs.p90} / ${f.recoveryMs.worst}`,
    ],
    ['kills whose lost tasks did not run again', f.killsNotRecovered],
    ['worker exits on its own', f.workerExitsOnItsOwn],
    [
      'Temporal restarts (SIGTERM / kill -9)',
      `${f.temporalRestarts} (${f.temporalRestartsBySignal.SIGTERM} / ${f.temporalRestartsBySignal.SIGKILL})`,
    ],
    [
      'outcomes: Promoted / RolledBack / other',
      `${f.outcomes.Promoted} / ${f.outcomes.RolledBack} / ${f.outcomes.other}`,
    ],
    ['outcomes other than expected', f.unexpectedOutcomes.length],
    ['cluster-state mismatches', f.clusterStateMismatches.length],
    ['Jobs created / duplicate Jobs', `${f.jobsCreated} / ${f.duplicateJobs}`],
    ['orphans', f.orphans.length],
    [
      'release time (median / p90 / worst ms)',
      `${f.releaseMs.median} / ${f.releaseMs.p90} / ${f.releaseMs.worst}`,
    ],
    ['wall time (setup / chaos / all, ms)', `${f.setupMs} / ${f.chaosMs} / ${f.wallMs}`],
  ];
  // A summary of no figures (no kill, say) has NaN medians: a dash in the table.
  const cell = (v: string | number) => String(v).replaceAll('NaN', '–');
  return ['| figure | value |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${cell(v)} |`)].join('\n');
}
