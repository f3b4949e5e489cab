import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { release } from '../../workflows/release.ts';
import type { ReleaseSpecInput } from '../../workflows/spec.ts';
import { devServerEnv, timeSkippingEnv, uniqueTaskQueue, Worker, workflowBundle } from '../helpers/temporal.ts';

const spec: ReleaseSpecInput = {
  model: 'fraud-detector',
  namespace: 'ml-serving',
  version: 'v42',
  serving: { image: 'registry.example.com/triton:24.05', replicas: 2 },
};

async function runRelease(env: TestWorkflowEnvironment, input: unknown) {
  const taskQueue = uniqueTaskQueue('skeleton');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
  });
  return worker.runUntil(
    env.client.workflow.execute(release, {
      taskQueue,
      workflowId: `skeleton-${taskQueue}`,
      args: [input as ReleaseSpecInput],
    }),
  );
}

describe('release workflow skeleton on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await timeSkippingEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  it('returns Promoted for a valid spec', async () => {
    const result = await runRelease(env, spec);
    assert.deepEqual(result, { outcome: 'Promoted', model: 'fraud-detector', namespace: 'ml-serving', version: 'v42' });
  });

  it('skips a 7-day hold in well under a minute of wall time', async () => {
    const started = performance.now();
    const result = await runRelease(env, { ...spec, hold: '7d' });
    assert.equal(result.outcome, 'Promoted');
    assert.ok(performance.now() - started < 60_000, 'time skipping should make a 7-day timer fast');
  });

  it('fails with InvalidReleaseSpec naming the bad field', async () => {
    await assert.rejects(runRelease(env, { ...spec, model: 'Fraud_Detector' }), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.ok(error.cause instanceof ApplicationFailure);
      assert.equal(error.cause.type, 'InvalidReleaseSpec');
      assert.match(error.cause.message, /model/);
      return true;
    });
  });
});

describe('release workflow skeleton on the dev server', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await devServerEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  it('runs to Promoted with a real short timer', async () => {
    const started = performance.now();
    const result = await runRelease(env, { ...spec, hold: '1s' });
    assert.equal(result.outcome, 'Promoted');
    assert.ok(performance.now() - started >= 1_000, 'a real server does not skip time');
  });
});
