// Gate evaluation inside the workflow: measure through an activity, decide with the pure rules of
// gates/evaluation.ts, keep every measurement in the status, and fail / pause as the rules say.
import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, log, sleep } from '@temporalio/workflow';
import { measure } from '../activities.ts';
import { workflowIsoNow } from '../clock.ts';
import { durationMs } from '../duration.ts';
import { FailureType } from '../failures.ts';
import { emptyGateState, recordMeasurement, verdictForValue, type Measurement } from '../gates/evaluation.ts';
import type { ReleaseRun } from '../release-run.ts';
import type { GateSpec } from '../spec.ts';
import { gateByName } from '../spec-helpers.ts';

const MEASUREMENTS_KEPT = 100;

function gateSpec(run: ReleaseRun, name: string): GateSpec {
  const gate = gateByName(run.spec, name);
  if (!gate) throw ApplicationFailure.nonRetryable(`gate ${name} is not defined`, FailureType.InvalidReleaseSpec);
  return gate;
}

/** One measurement of one gate, with its verdict. Provider errors become inconclusive measurements. */
async function measureOnce(run: ReleaseRun, gate: GateSpec): Promise<Measurement> {
  const threshold = 'pass' in gate && gate.pass ? gate.pass : undefined;
  try {
    const raw = await measure.measureGate({ spec: run.spec, gate: gate.name, stableVersion: run.status.stableVersion });
    const { verdict, reason } = verdictForValue(raw.value, threshold ?? {}, gate.onNoData);
    return {
      gate: gate.name,
      at: raw.at,
      ...(raw.value === null ? {} : { value: raw.value }),
      verdict,
      reason,
      ...(raw.query ? { query: raw.query } : {}),
      ...(threshold ? { threshold } : {}),
    };
  } catch (error) {
    if (isCancellation(error)) throw error;
    const cause = error instanceof ActivityFailure && error.cause ? error.cause.message : String(error);
    return {
      gate: gate.name,
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
      run.pause({ actor: 'slipway' }, `gate ${name} is inconclusive: ${measurement.reason}`);
      await run.event('Warning', 'GateInconclusive', `gate ${name} is inconclusive: ${measurement.reason}`);
      await run.waitWhilePaused();
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
