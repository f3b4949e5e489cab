// The release workflow on the time-skipping test server with stub activities.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  abortUpdate,
  approveUpdate,
  pauseUpdate,
  promoteUpdate,
  rejectUpdate,
  resumeUpdate,
  statusQuery,
} from '../../workflows/messages.ts';
import { timeSkippingEnv } from '../helpers/temporal.ts';
import {
  baseSpec,
  changes,
  good,
  settledOn,
  versionsAndTraffic,
  workflowHarness,
} from '../helpers/workflow-harness.ts';

const { env, withRelease, waitForStatus } = workflowHarness();

describe('release workflow (time-skipping, stub activities)', () => {
  it('takes a good candidate through shadow → canary → approval → promote', async () => {
    const { outcome, calls, cluster } = await withRelease(
      { stub: { stableVersion: 'v1', gateValues: good } },
      async (handle) => {
        const waiting = await waitForStatus(
          handle,
          (s) => s.phase === 'AwaitingApproval',
          'awaiting approval',
        );
        assert.equal(waiting.stage, 'canary');
        assert.deepEqual(waiting.weights, { stable: 90, canary: 10 });
        assert.equal(waiting.stableVersion, 'v1');
        await handle.executeUpdate(approveUpdate, { args: [{ actor: 'bob', comment: 'looks good' }] });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    assert.deepEqual(
      outcome.approvals.map((a) => [a.decision, a.actor, a.comment]),
      [['approved', 'bob', 'looks good']],
    );
    assert.deepEqual(
      calls.filter((c) => !c.startsWith('waitForRollout') && c !== 'watchCandidate'),
      [
        'releasePolicy',
        'captureStableState',
        'releaseObjectsPresent',
        'preflight',
        'ensureServices',
        'setTrafficWeights:0',
        'deployCandidate',
        'setMirror:50',
        'setMirror:off',
        'observeCandidate',
        'setTrafficWeights:10',
        'observeCandidate',
        'setTrafficWeights:50',
        'observeCandidate',
        'checkCapacity:promotion',
        'captureStableState',
        'deployStable',
        'resetTraffic',
        'removeCandidate',
      ],
    );
    assert.deepEqual(versionsAndTraffic(cluster), settledOn('v2'));
  });

  it('deploys a first release as stable', async () => {
    const { outcome, calls, cluster } = await withRelease(
      { stub: { stableVersion: null, gateValues: good } },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    assert.ok(calls.includes('deployStable') && !calls.includes('deployCandidate'));
    assert.equal(cluster.stable, 'v2');
  });

  it('rolls back on a failing canary gate: traffic first, then the candidate; stable untouched', async () => {
    const gateValues = { 'error-rate': (i: number) => (i < 12 ? 0.001 : 0.2) };
    const { outcome, calls, cluster } = await withRelease(
      { spec: { shadow: undefined }, stub: { stableVersion: 'v1', gateValues } },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'RolledBack');
    assert.equal(outcome.outcome.failureType, 'GateFailed');
    assert.equal(outcome.outcome.decidingMeasurement?.value, 0.2);
    assert.deepEqual(outcome.outcome.decidingMeasurement?.threshold, { max: 0.01 });
    assert.match(outcome.outcome.reason, /error-rate/);
    const rollback = calls.slice(calls.lastIndexOf('resetTraffic'));
    assert.deepEqual(rollback, ['resetTraffic', 'removeCandidate']);
    assert.deepEqual(versionsAndTraffic(cluster), settledOn('v1'));
  });

  it('rolls back on a failing shadow gate: mirror off, candidate removed, no live traffic ever moved', async () => {
    const gateValues = { 'error-rate': () => 0.3 };
    const { outcome, calls, cluster } = await withRelease(
      { stub: { stableVersion: 'v1', gateValues } },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.failureType, 'GateFailed');
    assert.ok(
      !calls.some((c) => c.startsWith('setTrafficWeights:') && c !== 'setTrafficWeights:0'),
      'no live weight moved',
    );
    assert.deepEqual(calls.slice(calls.lastIndexOf('resetTraffic')), ['resetTraffic', 'removeCandidate']);
    assert.deepEqual(versionsAndTraffic(cluster), settledOn('v1'));
  });

  it('restores stable when the promotion rollout fails: traffic, stable, candidate in that order', async () => {
    const { outcome, calls, cluster } = await withRelease(
      {
        spec: { shadow: undefined, canary: { steps: [{ weight: 20, hold: '1m' }] } },
        stub: {
          stableVersion: 'v1',
          gateValues: good,
          rolloutFails: { stable: 'stable exceeded its progress deadline' },
        },
      },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'RolledBack');
    assert.equal(outcome.outcome.failureType, 'RolloutFailed');
    const rollback = calls
      .slice(calls.lastIndexOf('resetTraffic'))
      .filter((c) => !c.startsWith('waitForRollout'));
    assert.deepEqual(rollback, ['resetTraffic', 'restoreStable', 'removeCandidate']);
    assert.deepEqual(versionsAndTraffic(cluster), settledOn('v1'));
  });

  it('handoff: 100% to the candidate while stable rolls, then back to stable', async () => {
    const spec = {
      shadow: undefined,
      canary: { steps: [{ weight: 20, hold: '1m' }] },
      promote: { mode: 'handoff' as const, approval: { required: false } },
    };
    const { outcome, calls, cluster } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: good } },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'Promoted', outcome.outcome.reason);
    const promotion = changes(calls.slice(calls.indexOf('setTrafficWeights:20') + 1));
    assert.deepEqual(promotion, ['setTrafficWeights:100', 'deployStable', 'resetTraffic', 'removeCandidate']);
    assert.deepEqual(versionsAndTraffic(cluster), settledOn('v2'));
  });

  it('handoff: a failed stable roll sends traffic back to the restored stable', async () => {
    const spec = {
      shadow: undefined,
      canary: { steps: [{ weight: 20, hold: '1m' }] },
      promote: { mode: 'handoff' as const, approval: { required: false } },
    };
    const { outcome, calls, cluster } = await withRelease(
      {
        spec,
        stub: {
          stableVersion: 'v1',
          gateValues: good,
          rolloutFails: { stable: 'stable exceeded its progress deadline' },
        },
      },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.failureType, 'RolloutFailed');
    const rollback = calls
      .slice(calls.lastIndexOf('resetTraffic'))
      .filter((c) => !c.startsWith('waitForRollout'));
    assert.deepEqual(rollback, ['resetTraffic', 'restoreStable', 'removeCandidate']);
    assert.deepEqual(versionsAndTraffic(cluster), settledOn('v1'));
  });

  it('refuses handoff with the replica-ratio router before touching anything', async () => {
    await assert.rejects(
      withRelease(
        {
          spec: { shadow: undefined, traffic: { router: 'replica-ratio' }, promote: { mode: 'handoff' } },
          stub: { stableVersion: 'v1' },
        },
        (h) => h.result(),
      ),
      (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure);
        assert.equal(error.cause.type, 'InvalidReleaseSpec');
        assert.match(error.cause.message, /handoff needs traffic.router gateway-api/);
        return true;
      },
    );
  });

  it('rolls back when rejected, recording who and why', async () => {
    const { outcome, cluster } = await withRelease(
      { stub: { stableVersion: 'v1', gateValues: good } },
      async (handle) => {
        await waitForStatus(handle, (s) => s.phase === 'AwaitingApproval', 'awaiting approval');
        await handle.executeUpdate(rejectUpdate, { args: [{ actor: 'carol', comment: 'p99 too high' }] });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.result, 'RolledBack');
    assert.equal(outcome.outcome.failureType, 'ApprovalRejected');
    assert.match(outcome.outcome.reason, /carol.*p99 too high/);
    assert.deepEqual(
      outcome.approvals.map((a) => [a.decision, a.actor]),
      [['rejected', 'carol']],
    );
    assert.equal(cluster.candidate, null);
  });

  it('applies onTimeout when nobody decides: reject rolls back, approve goes on', async () => {
    const rejecting = await withRelease({ stub: { stableVersion: 'v1', gateValues: good } }, (h) =>
      h.result(),
    );
    assert.equal(rejecting.outcome.outcome.failureType, 'ApprovalTimedOut');
    const approving = await withRelease(
      {
        spec: {
          shadow: undefined,
          canary: {
            steps: [{ weight: 10, hold: '1m' }, { approval: { timeout: '1h', onTimeout: 'approve' } }],
          },
        },
        stub: { stableVersion: 'v1', gateValues: good },
      },
      (h) => h.result(),
    );
    assert.equal(approving.outcome.outcome.result, 'Promoted');
    assert.equal(approving.outcome.approvals[0]?.decision, 'timed-out-approved');
  });

  it('rejects updates that do not fit: approving when nothing waits, separation of duties', async () => {
    await withRelease(
      { stub: { stableVersion: 'v1', gateValues: good }, input: { separationOfDuties: true } },
      async (handle) => {
        await waitForStatus(handle, (s) => s.stage === 'shadow' && s.mirrorPercent === 50, 'in shadow');
        await assert.rejects(
          handle.executeUpdate(approveUpdate, { args: [{ actor: 'bob' }] }),
          (e: unknown) => {
            assert.ok(e instanceof WorkflowUpdateFailedError);
            assert.match(String(e.cause?.message), /not waiting for an approval/);
            return true;
          },
        );
        await waitForStatus(handle, (s) => s.phase === 'AwaitingApproval', 'awaiting approval');
        await assert.rejects(
          handle.executeUpdate(approveUpdate, { args: [{ actor: 'alice' }] }),
          (e: unknown) => {
            assert.match(String((e as WorkflowUpdateFailedError).cause?.message), /separation of duties/);
            return true;
          },
        );
        await assert.rejects(
          handle.executeUpdate(rejectUpdate, { args: [{ actor: 'bob', comment: '' }] }),
          WorkflowUpdateFailedError,
        );
        await handle.executeUpdate(approveUpdate, { args: [{ actor: 'bob' }] });
        return handle.result();
      },
    );
  });

  it('pauses and resumes: the hold clock stops while paused', async () => {
    const spec = { shadow: undefined, canary: { steps: [{ weight: 10, hold: '10m' }] } };
    const { outcome } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: good } },
      async (handle) => {
        await waitForStatus(handle, (s) => s.weights.canary === 10, 'at 10%');
        const paused = await handle.executeUpdate(pauseUpdate, {
          args: [{ actor: 'dave', comment: 'investigating' }],
        });
        assert.equal(paused.phase, 'Paused');
        await env().sleep(60 * 60_000); // an hour passes; a 10m hold would have ended
        const still = await handle.query(statusQuery);
        assert.equal(still.stage, 'canary');
        assert.equal(still.paused, true);
        await assert.rejects(
          handle.executeUpdate(pauseUpdate, { args: [{ actor: 'dave' }] }),
          WorkflowUpdateFailedError,
        );
        await handle.executeUpdate(resumeUpdate, { args: [{ actor: 'dave' }] });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.result, 'Promoted');
  });

  it('a pause over a pending approval hides it; resume brings the same approval back', async () => {
    const { outcome } = await withRelease(
      { spec: { shadow: undefined }, stub: { stableVersion: 'v1', gateValues: good } },
      async (handle) => {
        const waiting = await waitForStatus(
          handle,
          (s) => s.phase === 'AwaitingApproval',
          'awaiting approval',
        );
        await handle.executeUpdate(pauseUpdate, {
          args: [{ actor: 'dave', comment: 'checking dashboards' }],
        });
        await assert.rejects(
          handle.executeUpdate(approveUpdate, { args: [{ actor: 'bob' }] }),
          (e: unknown) => {
            assert.match(
              String((e as WorkflowUpdateFailedError).cause?.message),
              /is paused; resume it, then decide: canary step 2/,
            );
            return true;
          },
        );
        const resumed = await handle.executeUpdate(resumeUpdate, { args: [{ actor: 'dave' }] });
        assert.equal(resumed.phase, 'AwaitingApproval');
        assert.deepEqual(resumed.waitingFor, waiting.waitingFor);
        await handle.executeUpdate(approveUpdate, { args: [{ actor: 'bob' }] });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    assert.deepEqual(
      outcome.approvals.map((a) => [a.decision, a.actor, a.at_step]),
      [['approved', 'bob', 'canary step 2/3']],
    );
  });

  for (const stage of ['shadow', 'canary', 'promote'] as const) {
    it(`aborts in ${stage} and rolls back`, async () => {
      const spec = { promote: { approval: { required: true } } };
      const { outcome, cluster } = await withRelease(
        { spec, stub: { stableVersion: 'v1', gateValues: good } },
        async (handle) => {
          if (stage === 'shadow')
            await waitForStatus(handle, (s) => s.stage === 'shadow' && s.mirrorPercent !== null, 'mirroring');
          else await waitForStatus(handle, (s) => s.phase === 'AwaitingApproval', 'canary approval');
          if (stage === 'promote') {
            await handle.executeUpdate(approveUpdate, { args: [{ actor: 'bob' }] });
            await waitForStatus(
              handle,
              (s) => s.stage === 'promote' && s.phase === 'AwaitingApproval',
              'promotion approval',
            );
          }
          assert.equal((await handle.query(statusQuery)).stage, stage);
          await handle.executeUpdate(abortUpdate, { args: [{ actor: 'erin', comment: 'wrong build' }] });
          return handle.result();
        },
      );
      assert.equal(outcome.outcome.result, 'RolledBack');
      assert.equal(outcome.outcome.failureType, 'ReleaseAborted');
      assert.match(outcome.outcome.reason, /erin: wrong build/);
      assert.deepEqual(versionsAndTraffic(cluster), settledOn('v1'));
    });
  }

  it('aborts in build (during the build Job): nothing deployed, the Job deleted', async () => {
    // Its own server: the test server keeps time locked for an activity that is still running when
    // its workflow ends (the cancelled Job wait here), which would stop time skipping for later tests.
    const ownEnv = await timeSkippingEnv();
    const spec = { build: { job: { image: 'eval:1', timeout: '10m' } } };
    const { outcome, calls, cluster } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: good, jobMs: 30_000 } },
      async (handle, stub) => {
        while (!stub.calls.includes('runJob')) await new Promise((resolve) => setTimeout(resolve, 100));
        await handle.cancel();
        return handle.result();
      },
      ownEnv,
    ).finally(() => ownEnv.teardown());
    assert.equal(outcome.outcome.result, 'RolledBack');
    assert.equal(outcome.outcome.failureType, 'ReleaseAborted');
    assert.ok(!calls.includes('deployCandidate'));
    assert.ok(calls.includes('deleteJob'), 'the aborted build Job is deleted');
    assert.deepEqual(cluster.jobs, []);
  });

  it('fails the build on a dry-run error without touching the cluster', async () => {
    const { outcome, calls } = await withRelease(
      { stub: { stableVersion: 'v1', preflightFails: 'HTTPRoute rejected: forbidden' } },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.failureType, 'DryRunFailed');
    assert.deepEqual(calls, ['releasePolicy', 'captureStableState', 'releaseObjectsPresent', 'preflight']); // reads, then the dry-run: nothing changed
  });

  it('refuses a release whose stable drifted (onDrift: refuse, the default) before anything changes', async () => {
    const { outcome, calls } = await withRelease(
      {
        stub: {
          stableVersion: 'v1',
          gateValues: good,
          stableDrift:
            'the pod template of Deployment ml-serving/fraud-detector was changed outside Slipway since Slipway last released it (last by helm at 2026-12-01T10:00:00.000Z)',
        },
      },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'RolledBack');
    assert.equal(outcome.outcome.failureType, 'StableDrifted');
    assert.match(
      outcome.outcome.reason,
      /last by helm .*; it runs version v1\. Slipway does not overwrite a change it did not make/,
    );
    assert.deepEqual(calls, ['releasePolicy', 'captureStableState', 'releaseObjectsPresent']);
  });

  it('adopts a drifted stable with onDrift: adopt, saying so in the timeline and an Event', async () => {
    const { outcome, events } = await withRelease(
      {
        spec: {
          serving: { ...baseSpec.serving, onDrift: 'adopt' },
          shadow: undefined,
          canary: { steps: [{ weight: 10, hold: '1m' }], gates: ['error-rate'] },
        },
        stub: {
          stableVersion: 'v1',
          gateValues: good,
          stableDrift: 'the pod template changed outside Slipway',
        },
      },
      async (h) => {
        const done = await h.result();
        const { timeline } = await h.query(statusQuery);
        assert.ok(
          timeline.some((e) =>
            /adopting it \(serving.onDrift: adopt\): version v1 is the stable/.test(e.message),
          ),
        );
        return done;
      },
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    assert.ok(events.includes('StableDrifted'));
  });

  it('adopts a Deployment the spec changes nothing in: annotations only, no candidate, no rollout', async () => {
    const { outcome, calls } = await withRelease(
      {
        spec: { serving: { image: 'triton:24.05', deploymentRef: 'fraud' }, shadow: undefined },
        stub: { stableVersion: 'v1', gateValues: good, adopted: { unchanged: true } },
      },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'Promoted', outcome.outcome.reason);
    assert.ok(calls.includes('adoptStable'));
    for (const call of ['deployCandidate', 'deployStable', 'waitForRollout:stable', 'waitForRollout:canary'])
      assert.ok(!calls.includes(call), `${call} was not called`);
  });

  it('verifies after the promotion: passing gates end Promoted, the stable settled only then', async () => {
    const spec = {
      shadow: undefined,
      canary: { steps: [{ weight: 10, hold: '1m' }], gates: ['error-rate'] },
      promote: { verify: { duration: '10m', gates: ['error-rate'] } },
    };
    const { outcome, calls } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: good } },
      async (h) => {
        const done = await h.result();
        const { timeline } = await h.query(statusQuery);
        assert.ok(
          timeline.some((e) =>
            /verifying v2 on the stable track for 10m .*a failure rolls back to v1/.test(e.message),
          ),
        );
        assert.ok(timeline.some((e) => e.message === 'v2 verified for 10m'));
        return done;
      },
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    assert.ok(!calls.includes('restoreStable'));
  });

  it('a gate failing during the verification rolls the promoted stable back: RolledBack, never Promoted', async () => {
    const spec = {
      shadow: undefined,
      canary: { steps: [{ weight: 10, hold: '1m' }] },
      promote: { verify: { duration: '10m', gates: ['error-rate'] } },
    };
    const { outcome, calls, cluster } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: { 'error-rate': (i) => (i < 3 ? 0.001 : 0.3) } } },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'RolledBack');
    assert.equal(outcome.outcome.failureType, 'GateFailed');
    assert.ok(calls.indexOf('restoreStable') > calls.indexOf('deployStable'), 'restored after the promotion');
    assert.equal(cluster.stable, 'v1');
  });

  it('promote-now does not shorten the verification', async () => {
    const spec = {
      shadow: undefined,
      canary: { steps: [{ weight: 10, hold: '30m' }] },
      promote: { verify: { duration: '10m', gates: ['error-rate'] } },
    };
    const { outcome } = await withRelease(
      // Measurements 0.. run in the verification only (no canary gates): the 4th fails.
      { spec, stub: { stableVersion: 'v1', gateValues: { 'error-rate': (i) => (i < 3 ? 0.001 : 0.3) } } },
      async (handle) => {
        await waitForStatus(handle, (s) => s.weights.canary === 10, 'at 10%');
        await handle.executeUpdate(promoteUpdate, { args: [{ actor: 'frank' }] });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.result, 'RolledBack', outcome.outcome.reason);
  });

  it('promote-now skips the remaining steps and the promotion approval', async () => {
    const spec = { shadow: undefined, promote: { approval: { required: true } } };
    const { outcome, calls } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: good } },
      async (handle) => {
        await waitForStatus(handle, (s) => s.weights.canary === 10, 'at 10%');
        await handle.executeUpdate(promoteUpdate, { args: [{ actor: 'frank' }] });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    assert.ok(!calls.includes('setTrafficWeights:50'));
  });

  it('waits out a freeze before promoting', async () => {
    const start = await env().currentTimeMs();
    const freezeEnd = new Date(start + 3 * 86_400_000);
    const spec = {
      shadow: undefined,
      canary: { steps: [{ weight: 50, hold: '1m' }] },
      promote: {
        freezes: [{ from: new Date(start).toISOString(), to: freezeEnd.toISOString(), reason: 'holidays' }],
      },
    };
    const { outcome } = await withRelease({ spec, stub: { stableVersion: 'v1', gateValues: good } }, (h) =>
      h.result(),
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    assert.ok(
      Date.parse(outcome.outcome.at) >= freezeEnd.getTime(),
      `promoted at ${outcome.outcome.at}, freeze ends ${freezeEnd.toISOString()}`,
    );
  });

  it('waits for the next promotion window (UTC) before promoting', async () => {
    const start = await env().currentTimeMs();
    const opens = new Date(Math.ceil((start + 3 * 3_600_000) / 3_600_000) * 3_600_000); // a whole hour, ≥ 3 h ahead
    const hhmm = (d: Date) => d.toISOString().slice(11, 16);
    const spec = {
      shadow: undefined,
      canary: { steps: [{ weight: 50, hold: '1m' }] },
      promote: {
        windows: [{ from: hhmm(opens), to: hhmm(new Date(opens.getTime() + 3_600_000)), timezone: 'UTC' }],
      },
    };
    const { outcome } = await withRelease({ spec, stub: { stableVersion: 'v1', gateValues: good } }, (h) =>
      h.result(),
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    const at = Date.parse(outcome.outcome.at);
    assert.ok(
      at >= opens.getTime() && at < opens.getTime() + 3_600_000,
      `promoted at ${outcome.outcome.at}, window opens ${opens.toISOString()}`,
    );
  });

  it('fails with InvalidReleaseSpec naming the bad field', async () => {
    await assert.rejects(
      withRelease({ spec: { model: 'Fraud_Detector' }, stub: { stableVersion: 'v1' } }, (h) => h.result()),
      (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.ok(error.cause instanceof ApplicationFailure);
        assert.equal(error.cause.type, 'InvalidReleaseSpec');
        assert.match(error.cause.message, /model/);
        return true;
      },
    );
  });
});

describe('release workflow gates: quality, judges, evaluators (time-skipping, stub activities)', () => {
  const accuracyGate = {
    name: 'accuracy',
    http: { url: 'http://evaluator.example/score?version={{version}}', value: '$.accuracy' },
    regression: { better: 'higher' as const, tolerance: 0.01 },
    pass: { min: 0.5 },
    interval: '10s',
  };
  const withAccuracy = { build: { gates: ['accuracy'] }, gates: [...baseSpec.gates!, accuracyGate] };

  it('fails a build quality gate that regresses against the stable score, before any traffic moves', async () => {
    const { outcome, calls, cluster } = await withRelease(
      {
        spec: withAccuracy,
        stub: {
          stableVersion: 'v1',
          stableQualityScores: { accuracy: 0.93 },
          gateValues: { ...good, accuracy: () => 0.9 },
        },
      },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'RolledBack');
    assert.equal(outcome.outcome.failureType, 'GateFailed');
    const deciding = outcome.outcome.decidingMeasurement;
    assert.equal(deciding?.gate, 'accuracy');
    assert.equal(deciding?.value, 0.9);
    assert.deepEqual(deciding?.threshold, { min: 0.92 }); // the stricter of pass.min 0.5 and 0.93 − 0.01
    assert.equal(deciding?.details?.stableScore, 0.93);
    assert.match(deciding?.reason ?? '', /below the minimum 0\.92.*v1 scored 0\.93/);
    assert.ok(
      !calls.some((c) => c.startsWith('setTrafficWeights') || c === 'deployCandidate'),
      calls.join(', '),
    );
    assert.deepEqual(cluster.stableQualityScores, { accuracy: 0.93 });
  });

  it('records a passing build score on the stable Deployment at promotion', async () => {
    const { outcome, cluster } = await withRelease(
      {
        spec: { ...withAccuracy, shadow: undefined, canary: { steps: [{ weight: 50, hold: '1m' }] } },
        stub: {
          stableVersion: 'v1',
          stableQualityScores: { accuracy: 0.93 },
          gateValues: { ...good, accuracy: () => 0.925 },
        },
      },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    assert.deepEqual(outcome.qualityScores, { accuracy: 0.925 });
    assert.deepEqual(cluster.stableQualityScores, { accuracy: 0.925 });
  });

  const latencyJudge = {
    name: 'latency',
    judge: { test: 'mann-whitney' as const, candidate: 'cand', baseline: 'base', worseIf: 'higher' as const },
    interval: '30s',
  };
  const judged = {
    shadow: undefined,
    canary: { steps: [{ weight: 20, hold: '5m' }], gates: ['latency'] },
    gates: [...baseSpec.gates!, latencyJudge],
  };

  it('pauses on an inconclusive judge and goes on when a human approves', async () => {
    const gateResults = {
      latency: (i: number) =>
        i === 0
          ? {
              value: null,
              verdict: 'inconclusive' as const,
              reason: 'too few samples: candidate 2, baseline 9 (minSamples 10)',
            }
          : { value: 0.05, verdict: 'pass' as const, reason: 'no significant regression' },
    };
    const { outcome } = await withRelease(
      { spec: judged, stub: { stableVersion: 'v1', gateResults } },
      async (handle) => {
        const paused = await waitForStatus(
          handle,
          (s) => s.phase === 'Paused',
          'paused on the inconclusive judge',
        );
        assert.equal(paused.paused, true);
        assert.equal(paused.waitingFor?.kind, 'approval');
        assert.match(paused.waitingFor?.what ?? '', /latency is inconclusive: too few samples/);
        assert.equal(paused.gates.latency?.status, 'inconclusive');
        await env().sleep(60 * 60_000); // it waits for a human, however long
        assert.equal((await handle.query(statusQuery)).phase, 'Paused');
        await handle.executeUpdate(approveUpdate, {
          args: [{ actor: 'bob', comment: 'traffic was low, fine' }],
        });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    assert.deepEqual(
      outcome.approvals.map((a) => [a.decision, a.actor]),
      [['approved', 'bob']],
    );
    assert.match(outcome.approvals[0]?.at_step ?? '', /latency is inconclusive/);
  });

  it('an inconclusive gate during an approval step: the verdict and the approval are decided apart', async () => {
    // Measurements 0–9 pass (shadow-free canary step 1 at 10%), then no data while the approval waits.
    const gateValues = { 'error-rate': (i: number) => (i === 11 ? null : 0.001) };
    const spec = {
      shadow: undefined,
      gates: [{ name: 'error-rate', prometheus: { query: 'errors' }, pass: { max: 0.01 }, interval: '30s' }],
    };
    const { outcome } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues } },
      async (handle) => {
        const approval = await waitForStatus(
          handle,
          (s) => s.phase === 'AwaitingApproval',
          'awaiting approval',
        );
        const verdict = await waitForStatus(
          handle,
          (s) => s.phase === 'Paused',
          'the inconclusive gate during the approval',
        );
        assert.match(verdict.waitingFor?.what ?? '', /gate error-rate is inconclusive/);
        await handle.executeUpdate(approveUpdate, {
          args: [{ actor: 'carol', comment: 'no traffic at night' }],
        });
        // The gate's verdict does not approve the canary step: its approval is asked again.
        const back = await waitForStatus(handle, (s) => s.phase === 'AwaitingApproval', 'the approval again');
        assert.deepEqual(back.waitingFor, approval.waitingFor);
        assert.equal(back.weights.canary, 10);
        await handle.executeUpdate(approveUpdate, { args: [{ actor: 'bob' }] });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    assert.deepEqual(
      outcome.approvals.map((a) => [a.decision, a.actor]),
      [
        ['approved', 'carol'],
        ['approved', 'bob'],
      ],
    );
    assert.match(outcome.approvals[0]?.at_step ?? '', /error-rate is inconclusive/);
    assert.equal(outcome.approvals[1]?.at_step, 'canary step 2/3');
  });

  it('an evaluator that is down is an error, never a pass: past consecutiveErrorLimit it pauses; rejecting then rolls back', async () => {
    const gateErrors = { accuracy: () => 'connect ECONNREFUSED 127.0.0.1:9' };
    const { outcome, calls } = await withRelease(
      { spec: withAccuracy, stub: { stableVersion: 'v1', gateValues: good, gateErrors } },
      async (handle) => {
        const paused = await waitForStatus(
          handle,
          (s) => s.phase === 'Paused',
          'paused on the unreachable evaluator',
        );
        const state = paused.gates.accuracy;
        assert.equal(state?.last?.verdict, 'error');
        assert.equal(
          state?.consecutiveErrors,
          4,
          'the default consecutiveErrorLimit 3 tolerates three errors in a row',
        );
        assert.equal(state?.failures, 0, 'an error is not a failure');
        assert.match(state?.last?.reason ?? '', /could not measure: .*ECONNREFUSED/);
        assert.deepEqual(
          paused.pauseReasons.map((r) => r.reason),
          ['inconclusive-gate'],
        );
        assert.match(paused.pauseReasons[0]?.message ?? '', /4 measurements in a row could not be taken/);
        assert.equal(paused.pendingDecision?.decides, 'gate-verdict');
        await handle.executeUpdate(rejectUpdate, { args: [{ actor: 'bob', comment: 'evaluator broken' }] });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.result, 'RolledBack');
    assert.equal(outcome.outcome.failureType, 'ApprovalRejected');
    assert.ok(!calls.includes('deployCandidate'));
  });

  it('runs a Job gate through the long-running activity and fails on the Job’s own verdict', async () => {
    const spec = {
      build: { gates: ['offline-eval'] },
      gates: [
        ...baseSpec.gates!,
        { name: 'offline-eval', job: { image: 'eval:1', timeout: '5m' }, pass: { min: 0.8 } },
      ],
    };
    const gateResults = {
      'offline-eval': () => ({
        value: null,
        verdict: 'fail' as const,
        reason: 'Job failed (exit 1): dataset missing',
      }),
    };
    const { outcome, calls, measurementIds } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateResults } },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.failureType, 'GateFailed');
    assert.match(outcome.outcome.reason, /offline-eval failed: Job failed \(exit 1\): dataset missing/);
    assert.ok(calls.includes('runJobGate:offline-eval'));
    assert.equal(new Set(measurementIds).size, measurementIds.length);
  });
});
