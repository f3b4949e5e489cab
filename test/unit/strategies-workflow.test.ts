// The strategies rolling, recreate and blueGreen in the release workflow, on the time-skipping test
// server with stub activities: the calls each makes, its timeline and status, and its rollbacks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promoteUpdate, statusQuery } from '../../workflows/messages.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import {
  changes,
  good,
  settledOn,
  versionsAndTraffic,
  workflowHarness,
} from '../helpers/workflow-harness.ts';

const { withRelease, waitForStatus } = workflowHarness();

const noCanary: Partial<ReleaseSpecInput> = { shadow: undefined, canary: undefined };
const failsAfter = (n: number) => ({ 'error-rate': (i: number) => (i < n ? 0.001 : 0.3) });

describe('strategy rolling (time-skipping, stub activities)', () => {
  const spec: Partial<ReleaseSpecInput> = {
    ...noCanary,
    strategy: { type: 'rolling', gates: ['error-rate'], hold: '2m' },
  };

  it('rolls the stable Deployment in place while its gates run, with no candidate and no split', async () => {
    const { outcome, calls, cluster } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: good } },
      async (h) => {
        const done = await h.result();
        return { done, status: await h.query(statusQuery) };
      },
    );
    assert.equal(outcome.done.outcome.result, 'Promoted', outcome.done.outcome.reason);
    assert.deepEqual(changes(calls), ['preflight', 'ensureServices', 'setTrafficWeights:0', 'deployStable']);
    assert.ok(!calls.includes('deployCandidate'));
    assert.deepEqual(versionsAndTraffic(cluster), settledOn('v2'));
    const messages = outcome.status.timeline.map((e) => e.message);
    assert.ok(
      messages.some((m) =>
        /^rolling update of fraud-detector from v1 to v2 \(maxSurge 25%, maxUnavailable 0\)/.test(m),
      ),
    );
    assert.ok(messages.some((m) => /^rolled out in [\d.]+s: stable rolled out$/.test(m)));
    assert.ok(messages.some((m) => m === 'v2 passed error-rate after the rolling update'));
    assert.equal(outcome.status.strategy, 'rolling');
  });

  it('a gate failing while it holds pauses the rollout and restores the previous template', async () => {
    const { outcome, calls, cluster } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: failsAfter(2) } },
      async (h) => {
        const done = await h.result();
        return { done, status: await h.query(statusQuery) };
      },
    );
    assert.equal(outcome.done.outcome.result, 'RolledBack');
    assert.equal(outcome.done.outcome.failureType, 'GateFailed');
    assert.deepEqual(changes(calls).slice(-1), ['restoreStable:pauseFirst']);
    assert.equal(cluster.stable, 'v1');
    assert.ok(
      outcome.status.timeline.some(
        (e) =>
          e.message ===
          'rollback: stable Deployment restored to v1 (rollout paused, then the previous template restored)',
      ),
    );
  });

  it('a rollout past its deadline restores the previous template', async () => {
    const { outcome, cluster } = await withRelease(
      {
        spec,
        stub: {
          stableVersion: 'v1',
          gateValues: good,
          rolloutFails: { stable: 'progress deadline exceeded' },
        },
      },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.failureType, 'RolloutFailed');
    assert.equal(cluster.stable, 'v1');
  });

  it('without a hold each gate is still measured once after the rollout', async () => {
    const { outcome, calls } = await withRelease(
      {
        spec: { ...spec, strategy: { type: 'rolling', gates: ['error-rate'] } },
        stub: { stableVersion: 'v1', gateValues: failsAfter(0) },
      },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'RolledBack');
    assert.ok(calls.includes('restoreStable:pauseFirst'));
  });
});

describe('strategy recreate (time-skipping, stub activities)', () => {
  const spec: Partial<ReleaseSpecInput> = {
    ...noCanary,
    serving: {
      image: 'vllm/vllm-openai:v0.6.3',
      replicas: 1,
      probes: { startup: { httpGet: { path: '/health' }, periodSeconds: 10, failureThreshold: 30 } },
    },
    strategy: { type: 'recreate', gates: ['error-rate'], hold: '1m' },
  };

  it('says the expected downtime in the status while no version serves, then the downtime it took', async () => {
    const { outcome } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: good, rolloutMs: 1_500 } },
      async (h) => {
        const during = await waitForStatus(h, (s) => s.downtime !== undefined, 'downtime in the status', 200);
        const done = await h.result();
        return { during, done, status: await h.query(statusQuery) };
      },
    );
    assert.equal(outcome.done.outcome.result, 'Promoted', outcome.done.outcome.reason);
    // terminationGracePeriodSeconds 30 (default) + startup 30 × 10 s.
    assert.equal(outcome.during.downtime?.expectedSeconds, 330);
    assert.match(
      outcome.during.downtime?.message ?? '',
      /no version serves from now until v2 is ready: expected up to 330s/,
    );
    assert.equal(outcome.status.downtime, undefined);
    assert.ok(
      outcome.status.timeline.some((e) =>
        /^v2 ready after [\d.]+s without a serving version \(expected up to 330s\)/.test(e.message),
      ),
    );
  });

  it('a failing gate re-creates the old version one version at a time, then gives back its strategy', async () => {
    const { outcome, calls, cluster } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: failsAfter(1) } },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'RolledBack');
    // The stub's snapshot has no strategy (RollingUpdate by default): it is put back after.
    assert.deepEqual(changes(calls).slice(-2), ['restoreStable:oneVersionAtATime', 'restoreStable']);
    assert.equal(cluster.stable, 'v1');
  });
});

describe('strategy blueGreen (time-skipping, stub activities)', () => {
  const spec: Partial<ReleaseSpecInput> = {
    ...noCanary,
    strategy: {
      type: 'blueGreen',
      preview: { gates: ['error-rate'], hold: '2m' },
      scaleDownDelay: '10m',
      afterSwitch: { gates: ['error-rate'] },
    },
    promote: { approval: { required: false } },
  };

  it('previews, switches at once, keeps the old version warm, then rolls the stable', async () => {
    const { outcome, calls, cluster } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: good } },
      async (h) => {
        const preview = await waitForStatus(
          h,
          (s) => s.stage === 'preview' && s.timeline.some((e) => e.message.startsWith('preview open')),
          'preview',
        );
        const warm = await waitForStatus(h, (s) => s.warmStandby !== undefined, 'warm standby');
        const done = await h.result();
        return { preview, warm, done, status: await h.query(statusQuery) };
      },
    );
    assert.equal(outcome.done.outcome.result, 'Promoted', outcome.done.outcome.reason);
    assert.deepEqual(outcome.preview.weights, { stable: 100, canary: 0 });
    assert.equal(outcome.warm.warmStandby?.version, 'v1');
    assert.deepEqual(outcome.warm.weights, { stable: 0, canary: 100 });
    assert.deepEqual(changes(calls), [
      'preflight',
      'ensureServices',
      'setTrafficWeights:0',
      'deployCandidate',
      'setTrafficWeights:0',
      'setTrafficWeights:100',
      'deployStable',
      'resetTraffic',
      'removeCandidate',
    ]);
    assert.deepEqual(versionsAndTraffic(cluster), settledOn('v2'));
    const messages = outcome.status.timeline.map((e) => e.message);
    assert.ok(
      messages.some((m) => m.startsWith('preview open: requests with x-slipway-preview: true reach v2')),
    );
    assert.ok(
      messages.some((m) =>
        /^switched: 100% of traffic to v2; v1 kept warm until .* \(scaleDownDelay 10m\)/.test(m),
      ),
    );
    assert.equal(outcome.status.warmStandby, undefined);
  });

  it('a gate failing while the old version is warm flips the route back, then restores the stable as recorded', async () => {
    // Preview: measurements 0..4 pass (2m hold at 30s + one after); the switch's fail.
    const { outcome, calls, cluster } = await withRelease(
      { spec, stub: { stableVersion: 'v1', gateValues: failsAfter(7) } },
      (h) => h.result(),
    );
    assert.equal(outcome.outcome.result, 'RolledBack', outcome.outcome.reason);
    assert.equal(outcome.outcome.failureType, 'GateFailed');
    // The route flips first; the stable, never changed, is then restored as recorded (a no-op).
    assert.deepEqual(changes(calls).slice(-4), [
      'setTrafficWeights:100',
      'resetTraffic',
      'restoreStable',
      'removeCandidate',
    ]);
    assert.ok(!calls.includes('deployStable'));
    assert.deepEqual(versionsAndTraffic(cluster), settledOn('v1'));
  });

  it('promote-now skips the preview hold but not the warm standby', async () => {
    const { outcome } = await withRelease(
      {
        spec: {
          ...spec,
          strategy: {
            type: 'blueGreen',
            preview: { hold: '1h' },
            scaleDownDelay: '10m',
            afterSwitch: { gates: ['error-rate'] },
          },
        },
        stub: { stableVersion: 'v1', gateValues: failsAfter(2) },
      },
      async (h) => {
        await waitForStatus(
          h,
          (s) => s.stage === 'preview' && s.timeline.some((e) => e.message.startsWith('preview open')),
          'preview',
        );
        await h.executeUpdate(promoteUpdate, { args: [{ actor: 'frank' }] });
        return h.result();
      },
    );
    assert.equal(outcome.outcome.result, 'RolledBack', outcome.outcome.reason);
    assert.equal(outcome.outcome.failureType, 'GateFailed');
  });
});
