// No data is not evidence: a gate with `onNoData: pass` lets a measurement that found no data go
// by, but a hold whose every measurement found none does not end on them, and a gate that must pass
// (a first release's, a build gate) does not pass on them alone: it measures on, and pauses for a
// human once NO_DATA_GRACE measurements in a row (and none before) found no data. Time-skipping
// server, stub activities.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { approveUpdate, rejectUpdate, statusQuery } from '../../workflows/messages.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { NO_DATA_GRACE } from '../../workflows/stages/gates.ts';
import { baseSpec, settledOn, versionsAndTraffic, workflowHarness } from '../helpers/workflow-harness.ts';

const { withRelease, waitForStatus } = workflowHarness();

/** One 5 m canary step (10 measurements at 30 s), error-rate passing on no data. */
const spec: Partial<ReleaseSpecInput> = {
  shadow: undefined,
  canary: { steps: [{ weight: 20, hold: '5m' }], gates: ['error-rate'] },
  gates: [{ ...baseSpec.gates![0]!, onNoData: 'pass' }],
};

const noDataCondition = (s: ReleaseStatus) =>
  s.pauseReasons.find((c) => c.reason === 'inconclusive-gate' && /no data/.test(c.message));

describe('no data is not evidence (time-skipping, stub activities)', () => {
  it('a hold that found no data pauses at its end; a value failing meanwhile still rolls back', async () => {
    // 9 measurements in the hold (30 s … 270 s), none with data: the hold's end pauses; the 12th
    // measurement (the gates are measured on while paused) finds the candidate failing.
    const gateValues = { 'error-rate': (i: number) => (i < 11 ? null : 0.3) };
    const { outcome, measurements, cluster } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues } },
      async (h) => {
        const paused = await waitForStatus(
          h,
          (s) => noDataCondition(s) !== undefined,
          'paused on no data',
          1_000,
        );
        assert.equal(paused.phase, 'Paused');
        return { done: await h.result(), status: await h.query(statusQuery) };
      },
    );
    assert.equal(outcome.done.outcome.result, 'RolledBack', outcome.done.outcome.reason);
    assert.equal(outcome.done.outcome.failureType, 'GateFailed');
    assert.equal(outcome.done.outcome.decidingMeasurement?.value, 0.3);
    assert.equal(measurements['error-rate'], 12);
    const empty = outcome.status.measurements.filter((m) => m.noData);
    assert.equal(empty.length, 11);
    assert.ok(empty.every((m) => m.verdict === 'pass'));
    assert.deepEqual(versionsAndTraffic(cluster), settledOn('v1'));
  });

  it('a short hold that found no data measures on after its time and ends on the first value', async () => {
    // A 1 m hold measures at 30 s (60 s races its end); the measurements after it find the value.
    const short = { ...spec, canary: { steps: [{ weight: 20, hold: '1m' }], gates: ['error-rate'] } };
    const gateValues = { 'error-rate': (i: number) => (i < 2 ? null : 0.001) };
    const { outcome, measurements } = await withRelease(
      { spec: short, stub: { stableVersion: 'v1', gateValues } },
      async (h) => ({ done: await h.result(), status: await h.query(statusQuery) }),
    );
    assert.equal(outcome.done.outcome.result, 'Promoted', outcome.done.outcome.reason);
    assert.equal(measurements['error-rate'], 3);
    assert.ok(!outcome.status.timeline.some((e) => /no data/.test(e.message)), 'no pause');
  });

  it('a hold with a value among passes on no data ends when its time is up', async () => {
    const gateValues = { 'error-rate': (i: number) => (i === 3 ? 0.001 : null) };
    const { outcome, measurements } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues } },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'Promoted', outcome.outcome.reason);
    assert.equal(measurements['error-rate'], 9, 'no measurement beyond the hold (30 s … 270 s)');
  });

  it('a hold that never finds data pauses; reject rolls back', async () => {
    const gateValues = { 'error-rate': () => null };
    const { outcome, measurements, cluster } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues } },
      async (h) => {
        const paused = await waitForStatus(h, (s) => noDataCondition(s) !== undefined, 'paused on no data');
        assert.equal(paused.phase, 'Paused');
        assert.match(noDataCondition(paused)!.message, /gate error-rate has had no data in \d+ measurements/);
        assert.deepEqual(paused.weights, { stable: 80, canary: 20 }, 'the step still holds');
        await h.executeUpdate(rejectUpdate, { args: [{ actor: 'carol', comment: 'nothing scraped' }] });
        return h.result();
      },
    );
    assert.equal(outcome.outcome.result, 'RolledBack');
    assert.equal(outcome.outcome.failureType, 'ApprovalRejected');
    assert.match(outcome.outcome.reason, /carol/);
    assert.ok(measurements['error-rate']! >= 9, `measured ${measurements['error-rate']}`);
    assert.deepEqual(versionsAndTraffic(cluster), settledOn('v1'));
  });

  it('a first release does not pass on no data: it fails on the value that comes after', async () => {
    const gateValues = { 'error-rate': (i: number) => (i < 2 ? null : 0.5) };
    const { outcome, measurements, cluster } = await withRelease(
      { spec, stub: { stableVersion: null, gateValues } },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'RolledBack', outcome.outcome.reason);
    assert.equal(outcome.outcome.failureType, 'GateFailed');
    assert.equal(measurements['error-rate'], 3);
    assert.equal(cluster.stable, null, 'nothing left of the first release');
  });

  it(`a first release that never finds data pauses after ${NO_DATA_GRACE}; approve releases it`, async () => {
    const gateValues = { 'error-rate': () => null };
    const { outcome, measurements, cluster } = await withRelease(
      { spec, stub: { stableVersion: null, gateValues } },
      async (h) => {
        const paused = await waitForStatus(h, (s) => noDataCondition(s) !== undefined, 'paused on no data');
        assert.match(
          noDataCondition(paused)!.message,
          new RegExp(`no data in ${NO_DATA_GRACE} measurements in a row and none before them`),
        );
        await h.executeUpdate(approveUpdate, {
          args: [{ actor: 'dave', comment: 'new model, no traffic yet' }],
        });
        return h.result();
      },
    );
    assert.equal(outcome.outcome.result, 'Promoted', outcome.outcome.reason);
    assert.equal(measurements['error-rate'], NO_DATA_GRACE);
    assert.equal(cluster.stable, 'v2');
    assert.ok(outcome.approvals.some((a) => a.actor === 'dave' && a.decision === 'approved'));
  });
});
