// Gate decisions across successive measurements (pure; runs inside the workflow sandbox).
// Semantics (Argo Rollouts-like):
// - a measurement's verdict: value inside the pass range → pass; outside → fail; no value → onNoData;
// - failureLimit: the gate fails when failures exceed it (0 = the first failure fails);
// - consecutiveSuccesses: the gate has passed after that many passes in a row;
// - an inconclusive measurement makes the gate inconclusive: the release pauses for a human.
// History is bounded: the last KEEP measurements plus every decisive one.

export type Verdict = 'pass' | 'fail' | 'inconclusive';
export type GateStatus = 'pending' | 'passed' | 'failed' | 'inconclusive';

export interface Measurement {
  gate: string;
  at: string;
  value?: number;
  verdict: Verdict;
  reason: string;
  query?: string;
  threshold?: { min?: number | undefined; max?: number | undefined };
  details?: Record<string, unknown>;
}

export interface GateState {
  gate: string;
  status: GateStatus;
  measurements: number;
  failures: number;
  consecutiveSuccesses: number;
  inconclusives: number;
  last?: Measurement;
  /** Measurements that decided something (failed, made it inconclusive). */
  decisive: Measurement[];
}

export interface GateRules {
  failureLimit: number;
  consecutiveSuccesses: number;
}

export function emptyGateState(gate: string): GateState {
  return { gate, status: 'pending', measurements: 0, failures: 0, consecutiveSuccesses: 0, inconclusives: 0, decisive: [] };
}

function describeRange(pass: { min?: number | undefined; max?: number | undefined }): string {
  if (pass.min !== undefined && pass.max !== undefined) return `in [${pass.min}, ${pass.max}]`;
  if (pass.min !== undefined) return `>= ${pass.min}`;
  if (pass.max !== undefined) return `<= ${pass.max}`;
  return 'any value';
}

export function verdictForValue(
  value: number | null | undefined,
  pass: { min?: number | undefined; max?: number | undefined },
  onNoData: 'inconclusive' | 'fail' | 'pass',
): { verdict: Verdict; reason: string } {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return { verdict: onNoData, reason: `no data (onNoData: ${onNoData})` };
  }
  const ok = (pass.min === undefined || value >= pass.min) && (pass.max === undefined || value <= pass.max);
  return { verdict: ok ? 'pass' : 'fail', reason: `${value} ${ok ? 'is' : 'is not'} ${describeRange(pass)}` };
}

const DECISIVE_KEPT = 20;

export function recordMeasurement(state: GateState, m: Measurement, rules: GateRules): GateState {
  const next: GateState = { ...state, measurements: state.measurements + 1, last: m, decisive: [...state.decisive] };
  if (m.verdict === 'pass') {
    next.consecutiveSuccesses += 1;
    if (next.status === 'pending' && next.consecutiveSuccesses >= rules.consecutiveSuccesses) next.status = 'passed';
  } else if (m.verdict === 'fail') {
    next.failures += 1;
    next.consecutiveSuccesses = 0;
    if (next.failures > rules.failureLimit) {
      next.status = 'failed';
      next.decisive.push(m);
    }
  } else {
    next.inconclusives += 1;
    next.consecutiveSuccesses = 0;
    next.status = 'inconclusive';
    next.decisive.push(m);
  }
  if (next.decisive.length > DECISIVE_KEPT) next.decisive.splice(0, next.decisive.length - DECISIVE_KEPT);
  return next;
}
