// The per-gate decision rules (workflows/gates/evaluation.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  RECENT_MEASUREMENTS_KEPT,
  combineGateStatuses,
  emptyGateState,
  recordMeasurement,
  thresholdWithBaseline,
  verdictForValue,
  type GateRules,
  type GateState,
  type GateStatus,
  type Measurement,
  type Verdict,
} from '../../workflows/gates/evaluation.ts';

function measurement(index: number, verdict: Verdict): Measurement {
  return {
    gate: 'g',
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, index)).toISOString(),
    verdict,
    reason: `#${index} ${verdict}`,
  };
}

/** Records the verdicts in order; returns every intermediate state. */
function run(verdicts: Verdict[], rules: GateRules): GateState[] {
  const states: GateState[] = [];
  let state = emptyGateState('g');
  verdicts.forEach((verdict, index) => {
    state = recordMeasurement(state, measurement(index, verdict), rules);
    states.push(state);
  });
  return states;
}

const statuses = (states: GateState[]): GateStatus[] => states.map((s) => s.status);
const P: Verdict = 'pass';
const F: Verdict = 'fail';
const I: Verdict = 'inconclusive';

describe('verdictForValue', () => {
  it('max only: passes at and below the maximum, fails above', () => {
    assert.deepEqual(verdictForValue(0.01, { max: 0.01 }, 'inconclusive'), {
      verdict: 'pass',
      reason: '0.01 is within the pass range ≤ 0.01',
    });
    assert.deepEqual(verdictForValue(-5, { max: 0.01 }, 'inconclusive'), {
      verdict: 'pass',
      reason: '-5 is within the pass range ≤ 0.01',
    });
    assert.deepEqual(verdictForValue(0.0101, { max: 0.01 }, 'inconclusive'), {
      verdict: 'fail',
      reason: '0.0101 is above the maximum 0.01 (pass: ≤ 0.01)',
    });
  });

  it('min only: passes at and above the minimum, fails below', () => {
    assert.equal(verdictForValue(0.92, { min: 0.92 }, 'fail').verdict, 'pass');
    assert.equal(verdictForValue(Infinity, { min: 0.92 }, 'fail').verdict, 'pass');
    assert.deepEqual(verdictForValue(0.9, { min: 0.92 }, 'pass'), {
      verdict: 'fail',
      reason: '0.9 is below the minimum 0.92 (pass: ≥ 0.92)',
    });
  });

  it('both: passes inside [min, max] inclusive, fails on either side', () => {
    const range = { min: 10, max: 20 };
    assert.deepEqual(verdictForValue(15, range, 'inconclusive'), {
      verdict: 'pass',
      reason: '15 is within the pass range [10, 20]',
    });
    assert.equal(verdictForValue(10, range, 'inconclusive').verdict, 'pass');
    assert.equal(verdictForValue(20, range, 'inconclusive').verdict, 'pass');
    assert.deepEqual(verdictForValue(9.99, range, 'inconclusive'), {
      verdict: 'fail',
      reason: '9.99 is below the minimum 10 (pass: [10, 20])',
    });
    assert.deepEqual(verdictForValue(20.5, range, 'inconclusive'), {
      verdict: 'fail',
      reason: '20.5 is above the maximum 20 (pass: [10, 20])',
    });
    assert.equal(verdictForValue(-Infinity, range, 'inconclusive').verdict, 'fail');
  });

  it('no range: any value passes', () => {
    assert.deepEqual(verdictForValue(123, {}, 'fail'), {
      verdict: 'pass',
      reason: '123 (no pass range: any value passes)',
    });
  });

  it('no data (undefined, null, NaN) takes the onNoData verdict, each of the three', () => {
    for (const onNoData of ['inconclusive', 'fail', 'pass'] as const) {
      assert.deepEqual(verdictForValue(undefined, { max: 1 }, onNoData), {
        verdict: onNoData,
        reason: `no data (no value); onNoData is ${onNoData}`,
      });
      assert.deepEqual(verdictForValue(null, { max: 1 }, onNoData), {
        verdict: onNoData,
        reason: `no data (no value); onNoData is ${onNoData}`,
      });
      assert.deepEqual(verdictForValue(Number.NaN, { max: 1 }, onNoData), {
        verdict: onNoData,
        reason: `no data (NaN); onNoData is ${onNoData}`,
      });
    }
  });
});

describe('recordMeasurement', () => {
  it('failureLimit 0: the first failure fails the gate and is kept as decisive', () => {
    const states = run([P, F], { failureLimit: 0, consecutiveSuccesses: 3 });
    assert.deepEqual(statuses(states), ['pending', 'failed']);
    const last = states[1] as GateState;
    assert.equal(last.failures, 1);
    assert.equal(last.consecutiveSuccesses, 0);
    assert.deepEqual(last.decisive, [measurement(1, F)]);
  });

  it('failureLimit 2: failures are cumulative and the third one fails the gate', () => {
    const states = run([F, P, F, P, P, F, P], { failureLimit: 2, consecutiveSuccesses: 5 });
    assert.deepEqual(statuses(states), [
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
      'failed',
      'failed',
    ]);
    assert.deepEqual(
      states.map((s) => s.failures),
      [1, 1, 2, 2, 2, 3, 3],
    );
    const last = states[6] as GateState;
    assert.deepEqual(last.decisive, [measurement(5, F)]);
    assert.equal(last.measurements, 7);
  });

  it('consecutiveSuccesses 3: passes after three passes in a row; a tolerated failure resets the run', () => {
    const states = run([P, P, F, P, P, P, P, F, P, P, P], { failureLimit: 5, consecutiveSuccesses: 3 });
    assert.deepEqual(statuses(states), [
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
      'passed',
      'passed',
      'pending',
      'pending',
      'pending',
      'passed',
    ]);
    assert.deepEqual(
      states.map((s) => s.consecutiveSuccesses),
      [1, 2, 0, 1, 2, 3, 4, 0, 1, 2, 3],
    );
    assert.deepEqual((states[10] as GateState).decisive, []);
  });

  it('consecutiveSuccesses below 1 counts as 1', () => {
    assert.deepEqual(
      statuses(run([I, P], { failureLimit: 0, consecutiveSuccesses: 0, inconclusiveLimit: 1 })),
      ['pending', 'passed'],
    );
  });

  it('a passed gate can still fail', () => {
    assert.deepEqual(statuses(run([P, P, F], { failureLimit: 0, consecutiveSuccesses: 1 })), [
      'passed',
      'passed',
      'failed',
    ]);
  });

  it('inconclusive: the first inconclusive measurement by default, the (limit + 1)-th with inconclusiveLimit', () => {
    const first = run([P, I, P], { failureLimit: 0, consecutiveSuccesses: 2 });
    assert.deepEqual(statuses(first), ['pending', 'inconclusive', 'inconclusive']);
    assert.deepEqual((first[2] as GateState).decisive, [measurement(1, I)]);
    assert.equal((first[2] as GateState).inconclusives, 1);

    const limited = run([I, P, I, P, P], { failureLimit: 0, consecutiveSuccesses: 1, inconclusiveLimit: 1 });
    assert.deepEqual(statuses(limited), [
      'pending',
      'passed',
      'inconclusive',
      'inconclusive',
      'inconclusive',
    ]);
    assert.deepEqual((limited[4] as GateState).decisive, [measurement(2, I)]);
  });

  it('an inconclusive gate still fails beyond failureLimit; failed is final', () => {
    const states = run([I, F, P, I, F], { failureLimit: 0, consecutiveSuccesses: 1 });
    assert.deepEqual(statuses(states), ['inconclusive', 'failed', 'failed', 'failed', 'failed']);
    const last = states[4] as GateState;
    assert.deepEqual(last.decisive, [measurement(0, I), measurement(1, F)]);
    assert.equal(last.failures, 2);
    assert.equal(last.inconclusives, 2);
    assert.equal(last.measurements, 5);
  });

  it('does not modify the state it is given', () => {
    const before = emptyGateState('g');
    const snapshot = structuredClone(before);
    recordMeasurement(before, measurement(0, F), { failureLimit: 0, consecutiveSuccesses: 1 });
    assert.deepEqual(before, snapshot);
  });

  it('keeps the last 20 measurements and the decisive one after 100 measurements', () => {
    const verdicts: Verdict[] = Array.from({ length: 100 }, (_, i) => (i === 3 ? F : P));
    const states = run(verdicts, { failureLimit: 0, consecutiveSuccesses: 1 });
    const last = states[99] as GateState;
    assert.equal(RECENT_MEASUREMENTS_KEPT, 20);
    assert.equal(last.status, 'failed');
    assert.equal(last.measurements, 100);
    assert.equal(last.recent.length, 20);
    assert.deepEqual(
      last.recent.map((m) => m.reason),
      Array.from({ length: 20 }, (_, i) => `#${80 + i} pass`),
    );
    assert.deepEqual(last.decisive, [measurement(3, F)]);
    assert.deepEqual(last.last, measurement(99, P));
    assert.equal(last.failures, 1);
    assert.equal(last.consecutiveSuccesses, 96);
  });

  it('the decisive measurement is the one that crossed failureLimit, also after 100 measurements', () => {
    // failureLimit 30: every third measurement fails; failure 31 is measurement #92 (index 92).
    const verdicts: Verdict[] = Array.from({ length: 100 }, (_, i) => (i % 3 === 2 ? F : P));
    const last = run(verdicts, { failureLimit: 30, consecutiveSuccesses: 1 })[99] as GateState;
    assert.equal(last.status, 'failed');
    assert.equal(last.failures, 33);
    assert.deepEqual(last.decisive, [measurement(92, F)]);
    assert.equal(last.recent.length, 20);
    assert.equal(last.recent[0]?.reason, '#80 fail'); // 80 % 3 = 2
  });
});

describe('combineGateStatuses', () => {
  it('any failed → failed; else any inconclusive → inconclusive; all passed → passed; else pending', () => {
    assert.equal(combineGateStatuses(['passed', 'failed', 'inconclusive', 'pending']), 'failed');
    assert.equal(combineGateStatuses(['passed', 'inconclusive', 'pending']), 'inconclusive');
    assert.equal(combineGateStatuses(['passed', 'passed']), 'passed');
    assert.equal(combineGateStatuses(['passed', 'pending']), 'pending');
    assert.equal(combineGateStatuses(['pending']), 'pending');
    assert.equal(combineGateStatuses([]), 'passed');
    assert.equal(combineGateStatuses(new Set<GateStatus>(['inconclusive'])), 'inconclusive');
  });
});

describe('thresholdWithBaseline (model-quality gates)', () => {
  it('better-higher: the floor is the stable score minus the tolerance, the stricter bound wins', () => {
    assert.deepEqual(thresholdWithBaseline({ min: 0.5 }, { better: 'higher', tolerance: 0.01 }, 0.93), {
      min: 0.92,
    });
    assert.deepEqual(thresholdWithBaseline({ min: 0.95 }, { better: 'higher', tolerance: 0.01 }, 0.93), {
      min: 0.95,
    });
    assert.deepEqual(thresholdWithBaseline(undefined, { better: 'higher', tolerance: 0 }, 0.93), {
      min: 0.93,
    });
    assert.deepEqual(thresholdWithBaseline({ max: 1 }, { better: 'higher', tolerance: 0.02 }, 0.9), {
      min: 0.88,
      max: 1,
    });
  });

  it('better-lower: the ceiling is the stable score plus the tolerance', () => {
    assert.deepEqual(thresholdWithBaseline(undefined, { better: 'lower', tolerance: 0.05 }, 0.2), {
      max: 0.25,
    });
    assert.deepEqual(thresholdWithBaseline({ max: 0.1 }, { better: 'lower', tolerance: 0.05 }, 0.2), {
      max: 0.1,
    });
  });

  it('without a recorded score (or rule) only the gate’s own range applies', () => {
    assert.deepEqual(thresholdWithBaseline({ min: 0.8 }, { better: 'higher', tolerance: 0.01 }, undefined), {
      min: 0.8,
    });
    assert.deepEqual(thresholdWithBaseline({ min: 0.8 }, undefined, 0.93), { min: 0.8 });
    assert.deepEqual(thresholdWithBaseline(undefined, { better: 'higher', tolerance: 0.01 }, Number.NaN), {});
  });

  it('the folded range decides like any pass range', () => {
    const range = thresholdWithBaseline(undefined, { better: 'higher', tolerance: 0.01 }, 0.93);
    assert.equal(verdictForValue(0.92, range, 'inconclusive').verdict, 'pass');
    assert.equal(verdictForValue(0.9199, range, 'inconclusive').verdict, 'fail');
  });
});
