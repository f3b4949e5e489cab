// The release's rules (docs/concepts.md "Pauses, decisions and promote-now"), each found broken by
// acceptance testing, on the time-skipping server with stub activities: separation of duties for
// promote-now and schedules, promote-now through pauses, the candidate watch, gate errors, the
// promotion being final, and what a rollback removes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import {
  approveUpdate,
  pauseUpdate,
  promoteSignal,
  promoteUpdate,
  rejectUpdate,
  resumeUpdate,
  statusQuery,
} from '../../workflows/messages.ts';
import { timeSkippingEnv } from '../helpers/temporal.ts';
import { good, settledOn, versionsAndTraffic, workflowHarness } from '../helpers/workflow-harness.ts';

const { env, withRelease, waitForStatus } = workflowHarness();

const refusedFor = (pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof WorkflowUpdateFailedError, String(e));
  assert.match(String(e.cause?.message), pattern);
  return true;
};

const noShadow = { shadow: undefined };

describe('separation of duties (the installation’s or the namespace’s rule)', () => {
  it('refuses the submitter’s approve and promote-now; a schedule’s promote by the submitter is noted and ignored', async () => {
    const { outcome } = await withRelease(
      { spec: noShadow, stub: { stableVersion: 'v1', gateValues: good, separationOfDuties: true } },
      async (handle) => {
        const waiting = await waitForStatus(
          handle,
          (s) => s.phase === 'AwaitingApproval',
          'awaiting approval',
        );
        assert.deepEqual(
          waiting.policy,
          { separationOfDuties: true },
          'the rule comes from releasePolicy, not from the start input',
        );
        await assert.rejects(
          handle.executeUpdate(approveUpdate, { args: [{ actor: 'alice' }] }),
          refusedFor(/separation of duties/),
        );
        await assert.rejects(
          handle.executeUpdate(promoteUpdate, { args: [{ actor: 'alice' }] }),
          refusedFor(/separation of duties: alice submitted/),
        );
        await handle.signal(promoteSignal, { actor: 'alice', comment: 'scheduled promotion' });
        await env().sleep(60_000);
        const still = await handle.query(statusQuery);
        assert.equal(still.phase, 'AwaitingApproval', 'the submitter’s scheduled promotion skipped nothing');
        assert.equal(still.promoteNow, undefined);
        assert.ok(
          still.timeline.some((t) => /promote-now by alice refused: separation of duties/.test(t.message)),
          'the refusal is in the timeline',
        );
        await handle.executeUpdate(approveUpdate, { args: [{ actor: 'bob' }] });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    assert.deepEqual(
      outcome.approvals.map((a) => [a.decision, a.actor]),
      [['approved', 'bob']],
    );
  });
});

describe('promote-now and scheduled promotions', () => {
  it('a scheduled promotion during a pause waits until resume; the ended release is not paused', async () => {
    const spec = {
      ...noShadow,
      canary: {
        steps: [
          { weight: 10, hold: '10m' },
          { weight: 50, hold: '10m' },
        ],
        gates: ['error-rate'],
      },
    };
    const { outcome, calls } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: good } },
      async (handle) => {
        await waitForStatus(handle, (s) => s.weights.canary === 10, 'at 10%');
        await handle.executeUpdate(pauseUpdate, {
          args: [{ actor: 'dave', comment: 'investigating latency' }],
        });
        await handle.signal(promoteSignal, { actor: 'scheduler-bob', comment: 'scheduled promotion' });
        await env().sleep(2 * 60 * 60_000);
        const paused = await handle.query(statusQuery);
        assert.equal(paused.stage, 'canary', 'nothing promoted through the pause');
        assert.equal(paused.phase, 'Paused');
        assert.deepEqual(
          paused.pauseReasons.map((r) => [r.reason, r.by]),
          [['human', 'dave']],
        );
        assert.equal(paused.promoteNow?.by, 'scheduler-bob', 'the pending promotion is shown');
        assert.ok(
          paused.timeline.some((t) =>
            /promote-now requested by scheduler-bob \(scheduled promotion\); it waits until the release is resumed/.test(
              t.message,
            ),
          ),
        );
        await handle.executeUpdate(resumeUpdate, { args: [{ actor: 'dave' }] });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    assert.ok(!calls.includes('setTrafficWeights:50'), 'promote-now skipped the remaining step after resume');
  });

  for (const pause of [{}, { duration: '1h' }]) {
    it(`promote-now ends a ${pause.duration ? 'timed' : 'untimed'} pause step (it skips the plan, not a person’s pause)`, async () => {
      const spec = {
        ...noShadow,
        canary: { steps: [{ weight: 10, hold: '1m' }, { pause }, { weight: 50, hold: '1m' }] },
      };
      const { outcome, calls } = await withRelease(
        { spec, stub: { stableVersion: 'v1', gateValues: good } },
        async (handle) => {
          const paused = await waitForStatus(
            handle,
            (s) => s.pauseReasons.some((r) => r.reason === 'pause-step'),
            'at the pause step',
          );
          assert.equal(paused.phase, 'Paused');
          await handle.executeUpdate(promoteUpdate, { args: [{ actor: 'frank' }] });
          return handle.result();
        },
      );
      assert.equal(outcome.outcome.result, 'Promoted');
      assert.ok(!calls.includes('setTrafficWeights:50'));
    });
  }

  it('the finished release reports paused false and no pause reasons', async () => {
    const spec = { ...noShadow, canary: { steps: [{ weight: 10, hold: '1m' }, { pause: {} }] } };
    await withRelease({ spec, stub: { stableVersion: 'v1', gateValues: good } }, async (handle) => {
      await waitForStatus(handle, (s) => s.paused, 'paused by its pause step');
      await handle.executeUpdate(promoteUpdate, { args: [{ actor: 'frank' }] });
      await handle.result();
      const ended = await handle.query(statusQuery);
      assert.equal(ended.phase, 'Promoted');
      assert.equal(ended.paused, false);
      assert.deepEqual(ended.pauseReasons, []);
      assert.equal(ended.waitingFor, undefined);
      assert.equal(ended.pendingDecision, undefined);
    });
  });
});

describe('the candidate is watched', () => {
  it('rolls back at once when the candidate is deleted during a hold', async () => {
    const spec = { ...noShadow, canary: { steps: [{ weight: 10, hold: '10m' }] } };
    const { outcome, cluster } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: good, watchCandidate: true } },
      async (handle, stub) => {
        while (!stub.calls.includes('watchCandidate'))
          await new Promise((resolve) => setTimeout(resolve, 50));
        stub.touchCandidate({ delete: true });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.result, 'RolledBack');
    assert.equal(outcome.outcome.failureType, 'CandidateLost');
    assert.match(outcome.outcome.reason, /^the candidate Deployment fraud-detector-canary was deleted$/);
    assert.deepEqual(versionsAndTraffic(cluster).weights, { stable: 100, canary: 0 });
  });

  it('rolls back when the candidate is scaled to zero during a hold', async () => {
    const spec = { ...noShadow, canary: { steps: [{ weight: 10, hold: '10m' }] } };
    const { outcome } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: good, watchCandidate: true } },
      async (handle, stub) => {
        while (!stub.calls.includes('watchCandidate'))
          await new Promise((resolve) => setTimeout(resolve, 50));
        stub.touchCandidate({ available: 0 });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.failureType, 'CandidateLost');
    assert.match(outcome.outcome.reason, /0 available pods/);
  });

  it('a candidate deleted between steps gets no more traffic: checked before the weight moves', async () => {
    const spec = {
      ...noShadow,
      canary: {
        steps: [
          { weight: 10, hold: '1m' },
          { weight: 50, hold: '1m' },
        ],
      },
    };
    const { outcome, calls } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: good } },
      async (handle, stub) => {
        await waitForStatus(handle, (s) => s.weights.canary === 10, 'at 10%', 1_000);
        stub.touchCandidate({ delete: true });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.failureType, 'CandidateLost');
    assert.match(outcome.outcome.reason, /was deleted \(seen before 50% of traffic moved to it\)/);
    assert.ok(!calls.includes('setTrafficWeights:50'));
  });

  it('a candidate without available pods is not promoted', async () => {
    const spec = { ...noShadow, canary: { steps: [{ weight: 10, hold: '1m' }] } };
    const { outcome, calls } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: good } },
      async (handle, stub) => {
        await waitForStatus(handle, (s) => s.weights.canary === 10, 'at 10%', 1_000);
        stub.touchCandidate({ available: 0 });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.failureType, 'CandidateLost');
    assert.match(outcome.outcome.reason, /no available pods .*before the promotion/);
    assert.ok(!calls.includes('deployStable'), 'the stable was never rolled to a candidate nobody saw serve');
  });
});

describe('gates: errors, misconfiguration, counts, windows', () => {
  it('a misconfigured gate ends the release at once, naming what is missing', async () => {
    const { outcome, measurementIds } = await withRelease(
      {
        spec: noShadow,
        stub: {
          stableVersion: 'v1',
          gateValues: good,
          gateMisconfigured: { 'error-rate': 'Secret ml-serving/prom-token does not exist' },
        },
      },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'RolledBack');
    assert.equal(outcome.outcome.failureType, 'GateMisconfigured');
    assert.match(
      outcome.outcome.reason,
      /gate error-rate is misconfigured: Secret ml-serving\/prom-token does not exist/,
    );
    assert.equal(measurementIds.length, 1, 'not retried, not taken again');
  });

  it('failureLimit counts across the steps of a stage, not per step', async () => {
    const spec = {
      ...noShadow,
      canary: {
        steps: [
          { weight: 10, hold: '1m' },
          { weight: 20, hold: '1m' },
          { weight: 30, hold: '1m' },
        ],
        gates: ['error-rate'],
      },
      gates: [
        {
          name: 'error-rate',
          prometheus: { query: 'errors' },
          pass: { max: 0.01 },
          interval: '30s',
          failureLimit: 1,
        },
      ],
    };
    const gateValues = { 'error-rate': (i: number) => (i === 0 || i === 2 ? 0.5 : 0.001) };
    const { outcome } = await withRelease({ spec, stub: { stableVersion: 'v1', gateValues } }, (h) =>
      h.result(),
    );
    assert.equal(
      outcome.outcome.result,
      'RolledBack',
      'two failures with failureLimit 1, one in each of two steps',
    );
    assert.equal(outcome.outcome.failureType, 'GateFailed');
  });

  it('consecutiveSuccesses holds a step until the gate has passed that many times in a row', async () => {
    const spec = {
      ...noShadow,
      canary: { steps: [{ weight: 10, hold: '30s' }], gates: ['error-rate'] },
      gates: [
        {
          name: 'error-rate',
          prometheus: { query: 'errors' },
          pass: { max: 0.01 },
          interval: '30s',
          consecutiveSuccesses: 3,
        },
      ],
    };
    const { outcome, measurementIds, calls } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: good } },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    assert.ok(measurementIds.length >= 3, `measured ${measurementIds.length} times before the step ended`);
    assert.ok(calls.indexOf('deployStable') > 0);
  });

  it('measurements are asked for the step’s own window ({{window}}): the time since its traffic took effect', async () => {
    const spec = { ...noShadow, canary: { steps: [{ weight: 10, hold: '2m' }], gates: ['error-rate'] } };
    const { windows } = await withRelease({ spec, stub: { stableVersion: 'v1', gateValues: good } }, (h) =>
      h.result(),
    );
    assert.equal(windows[0], 30, 'the first measurement one interval after the weight moved');
    assert.ok(
      windows.every((w, i) => i === 0 || (w ?? 0) > (windows[i - 1] ?? 0)),
      `windows grow within the step: ${windows.join(',')}`,
    );
  });

  it('windows that a freeze covers for over a year fail as NoPromotionWindow, not as an approval timeout', async () => {
    const now = await env().currentTimeMs(); // the server's clock: earlier tests skipped it ahead
    const windows = [{ days: ['Mon' as const], from: '09:00', to: '10:00', timezone: 'UTC' }];
    const promote = {
      approval: { required: false },
      windows,
      freezes: [
        {
          from: new Date(now - 86_400_000).toISOString(),
          to: new Date(now + 2 * 366 * 86_400_000).toISOString(),
        },
      ],
    };
    const { outcome } = await withRelease(
      {
        spec: { ...noShadow, canary: { steps: [{ weight: 10, hold: '1m' }] }, promote },
        stub: { stableVersion: 'v1', gateValues: good },
      },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.failureType, 'NoPromotionWindow');
  });
});

describe('promotion is final; rollback removes what the release made', () => {
  it('a cleanup that fails after stable serves the new version is retried, never a rollback', async () => {
    const spec = { ...noShadow, canary: { steps: [{ weight: 10, hold: '1m' }] } };
    const { outcome, calls, cluster } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: good, removeCandidateFailures: 2 } },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    assert.ok(!calls.includes('restoreStable'), 'the old stable was not put back');
    assert.equal(calls.filter((c) => c === 'removeCandidate').length, 3);
    assert.deepEqual(versionsAndTraffic(cluster), settledOn('v2'));
  });

  it('a first release rolled back removes the Deployment, Services and route it created', async () => {
    const gateValues = { 'error-rate': () => 0.5 };
    const { outcome, calls, cluster } = await withRelease(
      { stub: { stableVersion: null, gateValues } },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'RolledBack');
    assert.ok(
      calls.includes('removeReleaseObjects:fraud-detector,fraud-detector-stable,fraud-detector-canary,route'),
      calls.join(' '),
    );
    assert.deepEqual(cluster.objects, { services: [], route: false });
    assert.equal(cluster.stable, null);
  });

  it('Services and route that existed before a release stay after its rollback', async () => {
    const gateValues = { 'error-rate': () => 0.5 };
    const { calls } = await withRelease({ spec: noShadow, stub: { stableVersion: 'v1', gateValues } }, (h) =>
      h.result(),
    );
    assert.ok(!calls.some((c) => c.startsWith('removeReleaseObjects')));
  });

  it('a retry records the run it retries', async () => {
    await withRelease(
      { spec: noShadow, stub: { stableVersion: 'v1', gateValues: good }, input: { retryOf: 'run-123' } },
      async (handle) => {
        // Known from the input at once (also while the spec is being parsed), noted once it is.
        assert.equal((await handle.query(statusQuery)).retryOf, 'run-123');
        const status = await waitForStatus(
          handle,
          (s) => s.timeline.some((t) => /retry of run run-123/.test(t.message)),
          'the retry noted in the timeline',
        );
        assert.equal(status.retryOf, 'run-123');
        await handle.result(); // ends by itself (the approval times out): nothing left running to lock the server's clock
      },
    );
  });
});

describe('a first release honours the promotion’s approval, windows and freezes', () => {
  it('waits for the promotion approval before anything is created; approving deploys it', async () => {
    const spec = { promote: { approval: { required: true } } };
    const { outcome, calls } = await withRelease(
      { spec, stub: { stableVersion: null, gateValues: good } },
      async (handle, stub) => {
        const waiting = await waitForStatus(
          handle,
          (s) => s.phase === 'AwaitingApproval',
          'the promotion approval',
        );
        assert.equal(waiting.firstRelease, true);
        assert.equal(waiting.pendingDecision?.what, 'promotion');
        assert.ok(
          !stub.calls.includes('ensureServices') && !stub.calls.includes('deployStable'),
          'nothing created yet',
        );
        await handle.executeUpdate(approveUpdate, { args: [{ actor: 'bob' }] });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    assert.ok(calls.includes('deployStable'));
  });

  it('a rejected first release rolls back with nothing left to remove', async () => {
    const spec = { promote: { approval: { required: true } } };
    const { outcome, calls, cluster } = await withRelease(
      { spec, stub: { stableVersion: null, gateValues: good } },
      async (handle) => {
        await waitForStatus(handle, (s) => s.phase === 'AwaitingApproval', 'the promotion approval');
        await handle.executeUpdate(rejectUpdate, { args: [{ actor: 'bob', comment: 'not this week' }] });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.failureType, 'ApprovalRejected');
    assert.ok(!calls.includes('deployStable'));
    assert.deepEqual(cluster.objects, { services: [], route: false });
  });

  it('a first release during a freeze waits it out', async () => {
    // Its own server: a clock no earlier test has skipped or locked.
    const ownEnv = await timeSkippingEnv();
    const now = await ownEnv.currentTimeMs();
    const freezeEnd = now + 6 * 3_600_000;
    const promote = {
      approval: { required: false },
      freezes: [{ from: new Date(now - 3_600_000).toISOString(), to: new Date(freezeEnd).toISOString() }],
    };
    const { outcome } = await withRelease(
      { spec: { promote }, stub: { stableVersion: null, gateValues: good } },
      async (handle) => {
        await handle.result();
        return handle.query(statusQuery);
      },
      ownEnv,
    ).finally(() => ownEnv.teardown());
    assert.equal(outcome.phase, 'Promoted');
    const waited = outcome.timeline.find((t) => t.message.startsWith('waiting for the promotion window'));
    const deployed = outcome.timeline.find((t) => t.message.startsWith('stable deployed'));
    assert.ok(waited && deployed, outcome.timeline.map((t) => t.message).join(' | '));
    assert.ok(
      Date.parse(deployed.at) >= freezeEnd,
      `deployed at ${deployed.at}, the freeze ended ${new Date(freezeEnd).toISOString()}`,
    );
  });

  it('promote-now skips a first release’s approval; without approval or windows it is refused', async () => {
    const spec = { promote: { approval: { required: true } } };
    const { outcome } = await withRelease(
      { spec, stub: { stableVersion: null, gateValues: good } },
      async (handle) => {
        await waitForStatus(handle, (s) => s.phase === 'AwaitingApproval', 'the promotion approval');
        await handle.executeUpdate(promoteUpdate, { args: [{ actor: 'frank' }] });
        return handle.result();
      },
    );
    assert.equal(outcome.outcome.result, 'Promoted');
    assert.deepEqual(
      outcome.approvals.map((a) => [a.decision, a.actor]),
      [['promoted-now', 'frank']],
    );
    await withRelease(
      {
        spec: { canary: { steps: [{ weight: 10, hold: '1m' }], gates: ['error-rate'] } },
        stub: { stableVersion: null, gateValues: good },
      },
      async (handle) => {
        await waitForStatus(handle, (s) => s.firstRelease, 'known to be a first release', 1_000);
        await assert.rejects(
          handle.executeUpdate(promoteUpdate, { args: [{ actor: 'frank' }] }),
          refusedFor(/nothing to skip/),
        );
        return handle.result();
      },
    );
  });
});

describe('capacity before the promotion', () => {
  it('a promotion that no longer fits rolls back before the stable moves', async () => {
    const spec = { shadow: undefined, canary: { steps: [{ weight: 10, hold: '1m' }] } };
    const { outcome, calls, cluster } = await withRelease(
      {
        spec,
        stub: {
          stableVersion: 'v1',
          gateValues: good,
          promotionDoesNotFit: '1 surge pod of {nvidia.com/gpu 1}; 0 fit',
        },
      },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.failureType, 'InsufficientCapacity');
    assert.match(outcome.outcome.reason, /^the promotion does not fit: 1 surge pod/);
    assert.ok(calls.includes('checkCapacity:promotion'));
    assert.ok(!calls.includes('deployStable'), 'the stable never moved');
    assert.deepEqual(versionsAndTraffic(cluster), settledOn('v1'));
  });
});
