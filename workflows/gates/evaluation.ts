// Gate decisions across successive measurements. Pure and deterministic: this module runs inside
// Temporal's workflow sandbox (no Node built-ins, no I/O, no clock). An activity measures; this
// module decides.
//
// One measurement (verdictForValue):
// - no data — a value that is undefined, null or NaN — takes the gate's onNoData verdict
//   ('inconclusive' by default in the spec; 'fail' or 'pass' when configured);
// - otherwise the value passes when min ≤ value ≤ max (both bounds inclusive, either optional; no
//   bound at all = any value passes) and fails outside. ±Infinity are values like any other.
// A judge gate gets its verdict from its statistical test instead (activities/gates/judge.ts).
//
// A gate across measurements (recordMeasurement), Argo Rollouts-like. Counts are cumulative over
// the life of the state (a fresh emptyGateState starts over, e.g. after a human resumes):
// - failed: failures > failureLimit (failureLimit 0 = the first failed measurement fails the gate;
//   2 = the third does). Failed is final: later measurements are counted but change nothing.
// - inconclusive: inconclusives > inconclusiveLimit (default 0: the first inconclusive measurement
//   makes the gate inconclusive — the workflow pauses the release for a human). It stays
//   inconclusive until the state is reset, except that a failure beyond failureLimit still turns
//   it into failed (failed outranks inconclusive).
// - passed: the current run of passing measurements has reached consecutiveSuccesses (a value
//   below 1 counts as 1). Any failed or inconclusive measurement resets the run to 0; a tolerated
//   one after the gate has passed puts it back to pending (the run broke), a later run of
//   consecutiveSuccesses passes makes it passed again. A passed gate can still fail.
// - errors: a measurement that could not be taken (provider unreachable, retries exhausted) has the
//   verdict 'error'. It is neither a pass nor a failure; it breaks a run of passes. More than
//   consecutiveErrorLimit errors in a row make the gate inconclusive (the release pauses for a human);
//   any other verdict ends the run of errors.
// - pending: none of the above yet.
// History is bounded: `recent` keeps the last RECENT_MEASUREMENTS_KEPT measurements, `decisive`
// every measurement that changed the status to failed or inconclusive (at most two per state,
// since both are final but for the inconclusive → failed step), `measurements` counts them all.
//
// - no data is not evidence: a pass that came from `onNoData: pass` lets a gap in the data go by,
//   but cannot alone end a hold or pass a gate that must pass (workflows/stages/gates.ts asks for a
//   measurement with data, and pauses for a human when several in a row have none).
//
// Several gates evaluated together (combineGateStatuses): any failed → failed; else any
// inconclusive → inconclusive; else all passed → passed (also for no gates at all); else pending.

export type Verdict = 'pass' | 'fail' | 'inconclusive' | 'error';
export type GateStatus = 'pending' | 'passed' | 'failed' | 'inconclusive';
export type OnNoData = 'inconclusive' | 'fail' | 'pass';

/** Inclusive bounds of a passing value; either may be left out. */
export interface PassRange {
  min?: number | undefined;
  max?: number | undefined;
}

export interface Measurement {
  gate: string;
  /** prometheus, http, job or judge. */
  provider?: string;
  /** When it was measured (ISO 8601). */
  at: string;
  /** The measured value; absent = no data. */
  value?: number;
  verdict: Verdict;
  /** True when it found no data, so that its verdict is the gate's onNoData (absent in older runs). */
  noData?: true;
  /** Why: a sentence naming the numbers. */
  reason: string;
  /** What was asked, rendered: PromQL, URL (without secrets), Job name. */
  query?: string;
  /** The pass range the value was held to (for a quality gate: tightened by the stable's score). */
  threshold?: PassRange;
  /** Provider-specific details (e.g. a judge's sample summaries and p-value, the stable's score). */
  details?: Record<string, unknown>;
}

export interface GateState {
  gate: string;
  status: GateStatus;
  /** How many measurements were recorded (all of them, not only those kept). */
  measurements: number;
  /** Failed measurements so far. */
  failures: number;
  /** Passing measurements in a row, up to the latest. */
  consecutiveSuccesses: number;
  /** Inconclusive measurements so far. */
  inconclusives: number;
  /** Measurements that ended in an error, so far and in a row up to the latest (absent in older runs). */
  errors?: number;
  consecutiveErrors?: number;
  /** The latest measurement. */
  last?: Measurement;
  /** The latest measurements, oldest first, at most RECENT_MEASUREMENTS_KEPT. */
  recent: Measurement[];
  /** The measurements that made the gate failed or inconclusive, oldest first. */
  decisive: Measurement[];
}

export interface GateRules {
  /** Failed measurements tolerated; the gate fails on failure number failureLimit + 1. */
  failureLimit: number;
  /** Passing measurements in a row for the gate to have passed. */
  consecutiveSuccesses: number;
  /** Inconclusive measurements tolerated (default 0: the first one makes the gate inconclusive). */
  inconclusiveLimit?: number | undefined;
  /** Errors in a row tolerated; one more makes the gate inconclusive (unset: errors never do). */
  consecutiveErrorLimit?: number | undefined;
}

/** How many of the latest measurements a gate state keeps (the decisive ones are kept besides). */
export const RECENT_MEASUREMENTS_KEPT = 20;

export function emptyGateState(gate: string): GateState {
  return {
    gate,
    status: 'pending',
    measurements: 0,
    failures: 0,
    consecutiveSuccesses: 0,
    inconclusives: 0,
    errors: 0,
    consecutiveErrors: 0,
    recent: [],
    decisive: [],
  };
}

function describeRange(pass: PassRange): string {
  if (pass.min !== undefined && pass.max !== undefined) return `[${pass.min}, ${pass.max}]`;
  if (pass.min !== undefined) return `≥ ${pass.min}`;
  if (pass.max !== undefined) return `≤ ${pass.max}`;
  return 'any value';
}

/** A value that is no data: absent, null or NaN. */
export function isNoData(value: number | null | undefined): boolean {
  return value === null || value === undefined || Number.isNaN(value);
}

/** The verdict on one measured value against the pass range; undefined, null or NaN = no data. */
export function verdictForValue(
  measured: number | null | undefined,
  pass: PassRange,
  onNoData: OnNoData,
): { verdict: Verdict; reason: string } {
  if (isNoData(measured)) {
    const what = measured === undefined || measured === null ? 'no value' : 'NaN';
    return { verdict: onNoData, reason: `no data (${what}); onNoData is ${onNoData}` };
  }
  const value = measured as number; // isNoData ruled out null and undefined
  if (pass.min !== undefined && value < pass.min) {
    return {
      verdict: 'fail',
      reason: `${value} is below the minimum ${pass.min} (pass: ${describeRange(pass)})`,
    };
  }
  if (pass.max !== undefined && value > pass.max) {
    return {
      verdict: 'fail',
      reason: `${value} is above the maximum ${pass.max} (pass: ${describeRange(pass)})`,
    };
  }
  if (pass.min === undefined && pass.max === undefined)
    return { verdict: 'pass', reason: `${value} (no pass range: any value passes)` };
  return { verdict: 'pass', reason: `${value} is within the pass range ${describeRange(pass)}` };
}

/** A measurement that passed only because it found no data and the gate's onNoData is pass. */
export function passedOnNoData(m: Measurement): boolean {
  return m.verdict === 'pass' && m.noData === true;
}

/** The gate's state after one more measurement. Does not modify `state`. */
export function recordMeasurement(state: GateState, m: Measurement, rules: GateRules): GateState {
  const failures = state.failures + (m.verdict === 'fail' ? 1 : 0);
  const inconclusives = state.inconclusives + (m.verdict === 'inconclusive' ? 1 : 0);
  const consecutiveSuccesses = m.verdict === 'pass' ? state.consecutiveSuccesses + 1 : 0;
  const errors = (state.errors ?? 0) + (m.verdict === 'error' ? 1 : 0);
  const consecutiveErrors = m.verdict === 'error' ? (state.consecutiveErrors ?? 0) + 1 : 0;
  const tooManyErrors = consecutiveErrors > (rules.consecutiveErrorLimit ?? Number.POSITIVE_INFINITY);

  let status: GateStatus;
  if (state.status === 'failed' || failures > rules.failureLimit) status = 'failed';
  else if (state.status === 'inconclusive' || inconclusives > (rules.inconclusiveLimit ?? 0) || tooManyErrors)
    status = 'inconclusive';
  else if (consecutiveSuccesses >= Math.max(1, rules.consecutiveSuccesses)) status = 'passed';
  else status = 'pending';

  const decided = status !== state.status && (status === 'failed' || status === 'inconclusive');
  const recent = [...state.recent, m];
  if (recent.length > RECENT_MEASUREMENTS_KEPT) recent.splice(0, recent.length - RECENT_MEASUREMENTS_KEPT);
  return {
    gate: state.gate,
    status,
    measurements: state.measurements + 1,
    failures,
    consecutiveSuccesses,
    inconclusives,
    errors,
    consecutiveErrors,
    last: m,
    recent,
    decisive: decided ? [...state.decisive, m] : state.decisive,
  };
}

export interface RegressionRule {
  better: 'higher' | 'lower';
  /** How much worse than the baseline passes (absolute, ≥ 0). */
  tolerance: number;
}

/** `x` without the binary noise of a subtraction (0.93 - 0.01 = 0.9200000000000002 → 0.92). */
function tidy(x: number): number {
  return Number(x.toPrecision(12));
}

/**
 * The pass range of a model-quality gate: its own range tightened by the stable version's recorded
 * score. Better-higher: value ≥ baseline − tolerance; better-lower: value ≤ baseline + tolerance.
 * Without a rule or a baseline the range is the gate's own (`{}` = any value).
 */
export function thresholdWithBaseline(
  pass: PassRange | undefined,
  regression: RegressionRule | undefined,
  baseline: number | undefined,
): PassRange {
  const range: PassRange = { ...(pass ?? {}) };
  if (!regression || baseline === undefined || !Number.isFinite(baseline)) return range;
  if (regression.better === 'higher') {
    const floor = tidy(baseline - regression.tolerance);
    range.min = range.min === undefined ? floor : Math.max(range.min, floor);
  } else {
    const ceiling = tidy(baseline + regression.tolerance);
    range.max = range.max === undefined ? ceiling : Math.min(range.max, ceiling);
  }
  if (range.min === undefined) delete range.min;
  if (range.max === undefined) delete range.max;
  return range;
}

/** The status of gates evaluated together; see the top of this file. */
export function combineGateStatuses(statuses: Iterable<GateStatus>): GateStatus {
  let failed = false;
  let inconclusive = false;
  let allPassed = true;
  for (const status of statuses) {
    if (status === 'failed') failed = true;
    else if (status === 'inconclusive') inconclusive = true;
    if (status !== 'passed') allPassed = false;
  }
  if (failed) return 'failed';
  if (inconclusive) return 'inconclusive';
  return allPassed ? 'passed' : 'pending';
}
