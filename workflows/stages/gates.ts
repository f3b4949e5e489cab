// Gate evaluation inside the workflow: measure through an activity, decide with the pure rules of
// gates/evaluation.ts, keep every measurement in the status, and fail / pause as the rules say.
import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, log, sleep } from '@temporalio/workflow';
import { measure, measureByJob } from '../activities.ts';
import { workflowIsoNow } from '../clock.ts';
import { durationMs } from '../duration.ts';
import { FailureType } from '../failures.ts';
import { emptyGateState, recordMeasurement, thresholdWithBaseline, verdictForValue, type Measurement, type PassRange } from '../gates/evaluation.ts';
import type { ReleaseRun } from '../release-run.ts';
import { GATE_PROVIDERS, gateByName, type GateSpec } from '../spec/index.ts';
import { countGateMeasurement } from '../metrics.ts';

const MEASUREMENTS_KEPT = 100;

function gateSpec(run: ReleaseRun, name: string): GateSpec {
  const gate = gateByName(run.spec, name);
  if (!gate) throw ApplicationFailure.nonRetryable(`gate ${name} is not defined`, FailureType.InvalidReleaseSpec);
  return gate;
}

/** What a measurement activity reports (activities/gates): a value, or a provider's own verdict. */
type RawMeasurement = Awaited<ReturnType<typeof measure.measureGate>>;

const JOB_GATE_MARGIN_MS = 120_000;

/** The activity call for one measurement: Job gates wait long (heartbeating), the rest are quick. */
function measureActivity(run: ReleaseRun, gate: GateSpec): Promise<RawMeasurement> {
  const input = {
    spec: run.spec,
    gate: gate.name,
    stableVersion: run.status.stableVersion,
    measurementId: run.nextMeasurementId(gate.name),
  };
  if ('job' in gate && gate.job) return measureByJob(durationMs(gate.job.timeout) + JOB_GATE_MARGIN_MS).runJobGate(input);
  return measure.measureGate(input);
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
function decide(run: ReleaseRun, gate: GateSpec, raw: RawMeasurement, threshold: PassRange | undefined, baseline: number | undefined) {
  if (raw.verdict === 'inconclusive') {
    // Too little data to judge: the gate's onNoData says what that means.
    return { verdict: gate.onNoData, reason: `${raw.reason ?? 'no data'}; onNoData is ${gate.onNoData}` };
  }
  if (raw.verdict) return { verdict: raw.verdict, reason: raw.reason ?? raw.verdict };
  const ranged = verdictForValue(raw.value, threshold ?? {}, gate.onNoData);
  // A provider that found no value says why (e.g. nothing at the JSON path).
  const decided = raw.value === null && raw.reason ? { ...ranged, reason: `${raw.reason}: ${ranged.reason}` } : ranged;
  if (baseline === undefined || !('regression' in gate) || !gate.regression) return decided;
  const { better, tolerance } = gate.regression;
  const against = `${run.status.stableVersion ?? 'stable'} scored ${baseline} (${better} is better, tolerance ${tolerance})`;
  return { verdict: decided.verdict, reason: `${decided.reason}; ${against}` };
}

/** One measurement of one gate, with its verdict. Provider errors become inconclusive measurements. */
async function measureOnce(run: ReleaseRun, gate: GateSpec): Promise<Measurement> {
  const { threshold, baseline } = thresholdOf(run, gate);
  const provider = GATE_PROVIDERS.find((key) => key in gate) ?? 'prometheus';
  try {
    const raw = await measureActivity(run, gate);
    const { verdict, reason } = decide(run, gate, raw, threshold, baseline);
    const details = { ...(raw.details ?? {}), ...(baseline === undefined ? {} : { stableScore: baseline }) };
    return {
      gate: gate.name,
      provider,
      at: raw.at,
      ...(raw.value === null || raw.value === undefined ? {} : { value: raw.value }),
      verdict,
      reason,
      ...(raw.query ? { query: raw.query } : {}),
      ...(threshold ? { threshold } : {}),
      ...(Object.keys(details).length > 0 ? { details } : {}),
    };
  } catch (error) {
    if (isCancellation(error)) throw error;
    const cause = error instanceof ActivityFailure && error.cause ? error.cause.message : String(error);
    return {
      gate: gate.name,
      provider,
      at: workflowIsoNow(),
      verdict: 'inconclusive',
      reason: `could not measure: ${cause}`,
      ...(threshold ? { threshold } : {}),
    };
  }
}

/**
 * Measures `name` every interval. Throws GateFailed when the gate fails. An inconclusive gate pauses
 * the release until a human resumes it. With `untilPassed`, returns once the gate has passed.
 * With `afterOneInterval` the first measurement comes one interval after the loop starts (as in
 * Flagger), so a query windowed by the interval sees only traffic of the current step.
 */
async function gateLoop(run: ReleaseRun, name: string, untilPassed: boolean, afterOneInterval: boolean): Promise<void> {
  const gate = gateSpec(run, name);
  const intervalMs = durationMs(gate.interval);
  run.status.gates[name] = emptyGateState(name);
  if (afterOneInterval) await sleep(intervalMs);
  for (;;) {
    const measurement = await measureOnce(run, gate);
    countGateMeasurement({ namespace: run.spec.namespace, model: run.spec.model }, name, measurement.provider ?? 'unknown', measurement.verdict);
    const state = recordMeasurement(run.status.gates[name] ?? emptyGateState(name), measurement, {
      failureLimit: gate.failureLimit,
      consecutiveSuccesses: gate.consecutiveSuccesses,
    });
    run.status.gates[name] = state;
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
      await run.awaitHumanVerdict(`gate ${name} is inconclusive: ${measurement.reason}`);
      run.status.gates[name] = emptyGateState(name);
      continue;
    }
    if (untilPassed && state.status === 'passed') return;
    await sleep(intervalMs);
  }
}

/**
 * Runs `wait` while the named gates are evaluated in the background; the first failing gate ends the
 * wait with GateFailed. Gate loops stop when the wait ends.
 */
export async function whileGatesHold(run: ReleaseRun, gateNames: readonly string[], wait: () => Promise<void>): Promise<void> {
  if (gateNames.length === 0) return wait();
  const scope = new CancellationScope();
  const loops = scope.run(() => Promise.all(gateNames.map((name) => gateLoop(run, name, false, true))));
  const loopsEnded = loops.then(
    () => undefined,
    (error: unknown) => error,
  );
  // The wait runs in its own scope so that a failing gate also ends it (no dangling timers or
  // conditions that could reject later, unhandled).
  const waitScope = new CancellationScope();
  const waited = waitScope.run(wait);
  waited.catch(() => undefined);
  try {
    await Promise.race([waited, loops]);
  } finally {
    scope.cancel();
    waitScope.cancel();
  }
  const error = await loopsEnded;
  if (error !== undefined && !isCancellation(error)) throw error as Error;
}

/**
 * Evaluates the named gates until each has passed: build gates (measured at once) and a first
 * release's gates (measured from one interval after the new version serves).
 */
export async function untilGatesPass(run: ReleaseRun, gateNames: readonly string[], afterOneInterval: boolean): Promise<void> {
  await Promise.all(gateNames.map((name) => gateLoop(run, name, true, afterOneInterval)));
  log.info('gates passed', { gates: [...gateNames] });
}
