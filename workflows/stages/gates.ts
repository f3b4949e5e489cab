// Gates inside the workflow: measure through an activity, decide with the pure rules of
// gates/evaluation.ts, keep every measurement in the status, and fail / pause as the rules say.
// `whileWatched` runs a hold or a wait while the gates are measured and the candidate is watched.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  sleep,
} from '@temporalio/workflow';
import type { Activities } from '../../activities/index.ts';
import { measureByJob } from '../activities.ts';
import { workflowIsoNow, workflowNow } from '../clock.ts';
import { FailureType } from '../failures.ts';
import {
  emptyGateState,
  isNoData,
  passedOnNoData,
  recordMeasurement,
  thresholdWithBaseline,
  verdictForValue,
  type Measurement,
  type PassRange,
} from '../gates/evaluation.ts';
import { countGateMeasurement } from '../metrics.ts';
import type { ReleaseRun } from '../release-run.ts';
import type { GateSpec } from '../spec/index.ts';
import { gateByName, gateProvider } from '../spec/reading.ts';
import { untilCandidateLost, watchesCandidate } from './candidate-watch.ts';

const MEASUREMENTS_KEPT = 100;
const JOB_GATE_MARGIN_MS = 120_000;
/** Time a quick measurement gets beyond the provider's own timeout (connect, retries inside). */
const MEASURE_MARGIN_MS = 10_000;
const DEFAULT_MEASURE_MS = 20_000;

function gateSpec(run: ReleaseRun, name: string): GateSpec {
  const gate = gateByName(run.spec, name);
  if (!gate)
    throw ApplicationFailure.nonRetryable(`gate ${name} is not defined`, FailureType.InvalidReleaseSpec);
  return gate;
}

/** What a measurement activity reports (activities/gates): a value, or a provider's own verdict. */
type RawMeasurement = Awaited<ReturnType<Activities['measureGate']>>;

/** A quick measurement's activity, its timeout following the gate's own (an HTTP gate's `timeout`). */
function quickMeasure(gate: GateSpec) {
  const own = 'http' in gate && gate.http ? gate.http.timeout.ms + MEASURE_MARGIN_MS : DEFAULT_MEASURE_MS;
  return proxyActivities<Activities>({
    startToCloseTimeout: Math.max(DEFAULT_MEASURE_MS, own),
    retry: {
      initialInterval: '500ms',
      backoffCoefficient: 2,
      maximumAttempts: 3,
      nonRetryableErrorTypes: [FailureType.GateMisconfigured],
    },
  });
}

/** Seconds the current step's traffic has been in effect (what `{{window}}` spans), if it has begun. */
function windowSeconds(run: ReleaseRun): number | undefined {
  if (run.trafficSince === undefined) return undefined;
  return Math.max(1, Math.floor((workflowNow() - run.trafficSince) / 1000));
}

/** The activity call for one measurement: Job gates wait long (heartbeating), the rest are quick. */
function measureActivity(run: ReleaseRun, gate: GateSpec): Promise<RawMeasurement> {
  const window = windowSeconds(run);
  const input = {
    spec: run.spec,
    gate: gate.name,
    stableVersion: run.status.stableVersion,
    measurementId: run.nextMeasurementId(gate.name),
    ...(window === undefined ? {} : { windowSeconds: window }),
  };
  if ('job' in gate && gate.job)
    return measureByJob(gate.job.timeout.ms + JOB_GATE_MARGIN_MS).runJobGate(input);
  return quickMeasure(gate).measureGate(input);
}

/** The pass range a value is held to: the gate's own, tightened by the stable's recorded score. */
function thresholdOf(run: ReleaseRun, gate: GateSpec): { threshold?: PassRange; baseline?: number } {
  if ('judge' in gate && gate.judge) return {};
  const pass = 'pass' in gate ? gate.pass : undefined;
  const regression = 'regression' in gate ? gate.regression : undefined;
  const baseline = regression ? run.status.stableQualityScores?.[gate.name] : undefined;
  const threshold = thresholdWithBaseline(pass, regression, baseline);
  return { threshold, ...(baseline === undefined ? {} : { baseline }) };
}

/** The verdict: a provider that decided (judge, a failed Job) is taken at its word, else the range decides. */
function decide(
  run: ReleaseRun,
  gate: GateSpec,
  raw: RawMeasurement,
  threshold: PassRange | undefined,
  baseline: number | undefined,
) {
  if (raw.verdict === 'inconclusive') {
    // Too little data to judge: the gate's onNoData says what that means.
    return {
      verdict: gate.onNoData,
      reason: `${raw.reason ?? 'no data'}; onNoData is ${gate.onNoData}`,
      noData: true as const,
    };
  }
  if (raw.verdict) return { verdict: raw.verdict, reason: raw.reason ?? raw.verdict };
  const ranged = {
    ...verdictForValue(raw.value, threshold ?? {}, gate.onNoData),
    ...(isNoData(raw.value) ? { noData: true as const } : {}),
  };
  // A provider that found no value says why (e.g. nothing at the JSON path).
  const decided =
    raw.value === null && raw.reason ? { ...ranged, reason: `${raw.reason}: ${ranged.reason}` } : ranged;
  if (baseline === undefined || !('regression' in gate) || !gate.regression) return decided;
  const { better, tolerance } = gate.regression;
  const against = `${run.status.stableVersion ?? 'stable'} scored ${baseline} (${better} is better, tolerance ${tolerance})`;
  return { ...decided, reason: `${decided.reason}; ${against}` };
}

/** The ApplicationFailure under an ActivityFailure, if any. */
function applicationCause(error: unknown): ApplicationFailure | undefined {
  let cause: unknown = error;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
  return cause instanceof ApplicationFailure ? cause : undefined;
}

/**
 * One measurement of one gate, with its verdict. A misconfigured gate (missing Secret, rejected
 * query) ends the release at once; a provider that stayed unreachable is an `error` measurement.
 */
async function measureOnce(run: ReleaseRun, gate: GateSpec): Promise<Measurement> {
  const { threshold, baseline } = thresholdOf(run, gate);
  const provider = gateProvider(gate);
  try {
    const raw = await measureActivity(run, gate);
    const { verdict, reason, noData } = decide(run, gate, raw, threshold, baseline);
    const details = { ...(raw.details ?? {}), ...(baseline === undefined ? {} : { stableScore: baseline }) };
    return {
      gate: gate.name,
      provider,
      at: raw.at,
      ...(raw.value === null || raw.value === undefined ? {} : { value: raw.value }),
      verdict,
      ...(noData ? { noData } : {}),
      reason,
      ...(raw.query ? { query: raw.query } : {}),
      ...(threshold ? { threshold } : {}),
      ...(Object.keys(details).length > 0 ? { details } : {}),
    };
  } catch (error) {
    if (isCancellation(error)) throw error;
    const failure = applicationCause(error);
    if (failure?.type === FailureType.GateMisconfigured) {
      throw ApplicationFailure.nonRetryable(
        `gate ${gate.name} is misconfigured: ${failure.message}`,
        FailureType.GateMisconfigured,
      );
    }
    const cause =
      failure?.message ??
      (error instanceof ActivityFailure && error.cause ? error.cause.message : String(error));
    // Added after releases were running: older runs counted an error as inconclusive.
    const verdict = patched('gate-error-outcome') ? 'error' : 'inconclusive';
    return {
      gate: gate.name,
      provider,
      at: workflowIsoNow(),
      verdict,
      reason: `could not measure: ${cause}`,
      ...(threshold ? { threshold } : {}),
    };
  }
}

/** A gate's counts run across the steps of a stage: they start afresh in a new stage only. */
function startGateState(run: ReleaseRun, name: string): void {
  // Added after releases were running: older runs started each step's counts afresh.
  const keep =
    patched('gate-counts-per-stage') &&
    run.gateCountedIn.get(name) === run.status.stage &&
    run.status.gates[name] !== undefined;
  if (!keep) run.status.gates[name] = emptyGateState(name);
  run.gateCountedIn.set(name, run.status.stage);
}

function describeInconclusive(name: string, m: Measurement, consecutiveErrors: number): string {
  if (m.verdict === 'error')
    return `gate ${name}: ${consecutiveErrors} measurements in a row could not be taken (${m.reason})`;
  return `gate ${name} is inconclusive: ${m.reason}`;
}

/**
 * Measures `name` every interval. Throws GateFailed when the gate fails. An inconclusive gate pauses
 * the release until a human decides. With `untilPassed`, returns once the gate has passed.
 * With `afterOneInterval` the first measurement comes one interval after the loop starts (as in
 * Flagger), so a query windowed by the interval sees only traffic of the current step.
 */
async function gateLoop(
  run: ReleaseRun,
  name: string,
  untilPassed: boolean,
  afterOneInterval: boolean,
  tally: Tally = newTally(),
): Promise<void> {
  const gate = gateSpec(run, name);
  const intervalMs = gate.interval.ms;
  startGateState(run, name);
  if (afterOneInterval) await sleep(intervalMs);
  for (;;) {
    const measurement = await measureOnce(run, gate);
    countGateMeasurement(
      { namespace: run.spec.namespace, model: run.spec.model },
      name,
      measurement.provider ?? 'unknown',
      measurement.verdict,
    );
    const state = recordMeasurement(run.status.gates[name] ?? emptyGateState(name), measurement, {
      failureLimit: gate.failureLimit,
      consecutiveSuccesses: gate.consecutiveSuccesses,
      consecutiveErrorLimit: gate.consecutiveErrorLimit,
    });
    run.status.gates[name] = state;
    countInto(tally, name, measurement);
    run.status.measurements.push(measurement);
    if (run.status.measurements.length > MEASUREMENTS_KEPT) run.status.measurements.shift();
    if (state.status === 'failed') {
      const value = measurement.value === undefined ? 'no data' : String(measurement.value);
      throw ApplicationFailure.nonRetryable(
        `gate ${name} failed: ${measurement.reason} (value ${value})`,
        FailureType.GateFailed,
        measurement,
      );
    }
    if (state.status === 'inconclusive') {
      await run.awaitHumanVerdict(describeInconclusive(name, measurement, state.consecutiveErrors ?? 0));
      run.status.gates[name] = emptyGateState(name);
      vouch(tally, name); // the human's verdict stands in for data
      continue;
    }
    if (untilPassed && state.status === 'passed') {
      if (count(tally.withData, name) > 0) return;
      // Passed on no data alone. Added after releases were running: older runs took that pass.
      if (!patched('gate-passes-on-data')) return;
      if (count(tally.withoutDataInARow, name) >= NO_DATA_GRACE) {
        await run.awaitHumanVerdict(describeNoData(name, count(tally.withoutDataInARow, name)));
        return; // a human vouched for it
      }
    }
    await sleep(intervalMs);
  }
}

/** What the gate loops of one wait counted, per gate. */
interface Tally {
  /** Every measurement. */
  measured: Map<string, number>;
  /**
   * Evidence about the candidate: measurements that found data (a value, a provider's verdict), and
   * a human's verdict on an inconclusive gate. Not a pass on no data, not an error.
   */
  withData: Map<string, number>;
  /** Passes on no data and errors since the last other measurement. */
  withoutDataInARow: Map<string, number>;
}

function newTally(): Tally {
  return { measured: new Map(), withData: new Map(), withoutDataInARow: new Map() };
}

function count(counts: Map<string, number>, name: string): number {
  return counts.get(name) ?? 0;
}

function vouch(tally: Tally, name: string): void {
  tally.withData.set(name, count(tally.withData, name) + 1);
}

function countInto(tally: Tally, name: string, m: Measurement): void {
  tally.measured.set(name, count(tally.measured, name) + 1);
  const without = passedOnNoData(m) || m.verdict === 'error';
  tally.withoutDataInARow.set(name, without ? count(tally.withoutDataInARow, name) + 1 : 0);
  // An inconclusive measurement pauses the release: it becomes evidence once a human resumes.
  if (!without && m.verdict !== 'inconclusive') vouch(tally, name);
}

/**
 * Measurements in a row without data (passes on no data, errors), with no data before them, after
 * which a gate that must show data — to end a hold, or to pass — pauses the release for a human
 * instead of measuring on.
 */
export const NO_DATA_GRACE = 5;

function describeNoData(names: string | string[], inARow: number): string {
  const list = Array.isArray(names) ? names.join(', ') : names;
  const which = Array.isArray(names) && names.length > 1 ? `gates ${list} have` : `gate ${list} has`;
  return (
    `${which} had no data in ${inARow} measurements in a row and none before them: onNoData: pass lets a ` +
    `gap in the data go by, but no data is not evidence that the candidate is healthy (is it serving, ` +
    `and is its metric scraped?)`
  );
}

/** Gates whose step may end only once they have passed `consecutiveSuccesses` (> 1) times in a row. */
function gatesThatMustPass(run: ReleaseRun, gateNames: readonly string[]): string[] {
  return gateNames.filter((name) => (gateByName(run.spec, name)?.consecutiveSuccesses ?? 1) > 1);
}

/**
 * Gates a hold of `holdMs` is due to measure (their interval fits in it) that it has not measured
 * yet: a hold that elapsed while no worker ran (timers fire without one) has measured nothing, and
 * must not pass a candidate nobody looked at. Empty when promote-now cut the hold short.
 */
function dueUnmeasured(
  run: ReleaseRun,
  gateNames: readonly string[],
  holdMs: number,
  measured: Map<string, number>,
): string[] {
  if (run.promoteNowEffective) return [];
  return gateNames.filter((name) => gateSpec(run, name).interval.ms <= holdMs && !measured.get(name));
}

/**
 * The hold ends once each gate it is due to measure has measured with data once (a hold whose every
 * measurement found no data has not looked at the candidate), or pauses for a human once those
 * still without data have each passed NO_DATA_GRACE times in a row on no data.
 */
async function untilDueGatesHaveData(
  run: ReleaseRun,
  gateNames: readonly string[],
  holdMs: number,
  tally: Tally,
): Promise<void> {
  const withoutData = () => dueUnmeasured(run, gateNames, holdMs, tally.withData);
  const graceOver = (name: string) => count(tally.withoutDataInARow, name) >= NO_DATA_GRACE;
  // Added after releases were running: older runs ended a hold on passes on no data.
  if (withoutData().length === 0 || !patched('hold-needs-data')) return;
  await condition(
    () => withoutData().every(graceOver) || run.abortedBy !== undefined || run.promoteNowEffective,
  );
  run.throwIfAborted();
  const starved = withoutData();
  if (starved.length === 0) return;
  await run.awaitHumanVerdict(
    describeNoData(starved, Math.min(...starved.map((name) => count(tally.withoutDataInARow, name)))),
  );
}

/**
 * Runs `wait` (a hold, an approval) while the named gates are measured and the candidate is watched
 * in the background: the first failing gate or a lost candidate ends the wait with its failure.
 * A gate with consecutiveSuccesses > 1 keeps the step going until it has passed that many times.
 * With `holdMs` (the wait is a hold that long), every gate whose interval fits in the hold is
 * measured at least once before the step ends, also when the hold elapsed while no worker ran, and
 * at least once with data: passes on no data alone do not end it (untilDueGatesHaveData).
 */
export async function whileWatched(
  run: ReleaseRun,
  gateNames: readonly string[],
  wait: () => Promise<void>,
  options: { holdMs?: number } = {},
): Promise<void> {
  const watching = watchesCandidate(run);
  if (gateNames.length === 0 && !watching) return wait();
  const mustPass = gatesThatMustPass(run, gateNames);
  const watchFailures = run.candidateWatchFailures;
  const tally = newTally();
  const { measured } = tally;
  const scope = new CancellationScope();
  const loops = scope.run(() =>
    Promise.all([
      ...gateNames.map((name) => gateLoop(run, name, false, true, tally)),
      ...(watching ? [untilCandidateLost(run)] : []),
    ]),
  );
  const loopsEnded = loops.then(
    () => undefined,
    (error: unknown) => error,
  );
  // The wait runs in its own scope so that a failing gate also ends it (no dangling timers or
  // conditions that could reject later, unhandled).
  const waitScope = new CancellationScope();
  const waited = waitScope.run(async () => {
    await wait();
    const { holdMs } = options;
    if (
      holdMs !== undefined &&
      dueUnmeasured(run, gateNames, holdMs, measured).length > 0 &&
      // Added after releases were running: older runs ended a hold whatever it had measured.
      patched('hold-measures-its-gates')
    ) {
      await condition(
        () => dueUnmeasured(run, gateNames, holdMs, measured).length === 0 || run.abortedBy !== undefined,
      );
      run.throwIfAborted();
    }
    if (holdMs !== undefined) await untilDueGatesHaveData(run, gateNames, holdMs, tally);
    if (mustPass.length > 0 && !run.promoteNowEffective) {
      await condition(
        () =>
          mustPass.every((name) => run.status.gates[name]?.status === 'passed') ||
          run.promoteNowEffective ||
          run.abortedBy !== undefined,
      );
      run.throwIfAborted();
    }
  });
  waited.catch(() => undefined);
  try {
    await Promise.race([waited, loops]);
  } finally {
    scope.cancel();
    waitScope.cancel();
  }
  const error = await loopsEnded;
  if (error !== undefined && !isCancellation(error)) throw error as Error;
  await waited;
  // The watch ran to the end of the wait without finding the candidate lost (unless it could not run).
  if (watching) run.candidateVouched = run.candidateWatchFailures === watchFailures;
}

/**
 * Evaluates the named gates until each has passed: build gates (measured at once) and a first
 * release's gates (measured from one interval after the new version serves).
 */
export async function untilGatesPass(
  run: ReleaseRun,
  gateNames: readonly string[],
  afterOneInterval: boolean,
): Promise<void> {
  await Promise.all(gateNames.map((name) => gateLoop(run, name, true, afterOneInterval)));
  log.info('gates passed', { gates: [...gateNames] });
}
