// The release workflow with real activities: Temporal dev server, the local Kubernetes cluster,
// Prometheus and the traffic simulator. Every test checks the final cluster state.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { abortUpdate, approveUpdate, rejectUpdate, statusQuery } from '../../workflows/messages.ts';
import { release, type ReleaseInput } from '../../workflows/release.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { clusterState, releaseSpec, type FixtureOptions } from '../helpers/release-fixtures.ts';
import { devServerEnv, startRealWorker, uniqueTaskQueue } from '../helpers/temporal.ts';
import { startWorkerProcess } from '../helpers/worker-process.ts';

let env: TestWorkflowEnvironment;
let ns: TestNamespace;
let worker: Awaited<ReturnType<typeof startRealWorker>>;
const taskQueue = uniqueTaskQueue('release-it');

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('release-it');
  worker = await startRealWorker(env, taskQueue, ns.kc);
});

after(async () => {
  await worker?.stop();
  await ns?.delete();
  await env?.teardown();
});

function start(
  o: Omit<FixtureOptions, 'namespace'>,
  queue = taskQueue,
): Promise<WorkflowHandle<typeof release>> {
  const input: ReleaseInput = { spec: releaseSpec({ namespace: ns.name, ...o }), submittedBy: 'ci' };
  return env.client.workflow.start(release, {
    taskQueue: queue,
    workflowId: `it-${ns.name}-${o.model}-${o.version}`,
    args: [input],
  });
}

async function waitForStatus(
  handle: WorkflowHandle,
  predicate: (s: ReleaseStatus) => boolean,
  what: string,
  timeoutMs = 120_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await handle.query(statusQuery);
    if (predicate(status)) return status;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; status: ${JSON.stringify(status.timeline.slice(-3))}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A model with a stable v1 serving, released through the workflow itself. */
async function withStable(model: string, queue = taskQueue): Promise<void> {
  const result = await (await start({ model, version: 'v1' }, queue)).result();
  assert.equal(result.outcome.result, 'Promoted', result.outcome.reason);
}

const allStable = { stable: 100, canary: 0 };

describe('release workflow on the real stack', { concurrency: 3 }, () => {
  it('(1) creates the stable Deployment on a model’s first release', async () => {
    await withStable('first');
    const state = await clusterState(ns, ns.name, 'first');
    assert.deepEqual(state, {
      stableVersion: 'v1',
      stableImage: 'registry.example.com/triton:v1',
      candidateExists: false,
      weights: allStable,
      mirror: false,
    });
    const d = await ns.apps.readNamespacedDeployment({ name: 'first', namespace: ns.name });
    assert.equal(d.status?.availableReplicas, 2);
  });

  it('(2) takes a good candidate through shadow and canary to promoted', async () => {
    await withStable('good');
    const handle = await start({
      model: 'good',
      version: 'v2',
      shadow: { duration: '3s', mirrorPercent: 50, gates: ['error-rate'] },
    });
    const inShadow = await waitForStatus(handle, (s) => s.mirrorPercent === 50, 'shadow');
    assert.equal(inShadow.stage, 'shadow');
    const mirrored = await clusterState(ns, ns.name, 'good');
    assert.equal(mirrored.mirror, true);
    assert.equal(mirrored.candidateExists, true);
    const result = await handle.result();
    assert.equal(result.outcome.result, 'Promoted', result.outcome.reason);
    const status = await handle.query(statusQuery);
    assert.ok(status.measurements.length > 0 && status.measurements.every((m) => m.verdict === 'pass'));
    assert.deepEqual(await clusterState(ns, ns.name, 'good'), {
      stableVersion: 'v2',
      stableImage: 'registry.example.com/triton:v2',
      candidateExists: false,
      weights: allStable,
      mirror: false,
    });
  });

  it('(3) rolls back a candidate whose pods never become ready; stable untouched', async () => {
    await withStable('unready');
    const handle = await start({
      model: 'unready',
      version: 'v2',
      annotations: { 'sim.slipway.dev/never-ready': 'true' },
      progressDeadlineSeconds: 5,
    });
    const result = await handle.result();
    assert.equal(result.outcome.result, 'RolledBack');
    assert.equal(result.outcome.failureType, 'RolloutFailed');
    assert.match(result.outcome.reason, /progress deadline/);
    assert.match(result.outcome.reason, /readiness probe failed/);
    assert.deepEqual(await clusterState(ns, ns.name, 'unready'), {
      stableVersion: 'v1',
      stableImage: 'registry.example.com/triton:v1',
      candidateExists: false,
      weights: allStable,
      mirror: false,
    });
  });

  it('(4) rolls back a candidate with a high error rate within one gate interval and a little', async () => {
    await withStable('errors');
    const handle = await start({
      model: 'errors',
      version: 'v2',
      annotations: { 'sim.slipway.dev/error-rate': '0.5' },
      steps: [{ weight: 50, hold: '60s' }],
    });
    const result = await handle.result();
    assert.equal(result.outcome.result, 'RolledBack');
    assert.equal(result.outcome.failureType, 'GateFailed');
    const deciding = result.outcome.decidingMeasurement;
    assert.ok(deciding?.value !== undefined && deciding.value > 0.05, `deciding value ${deciding?.value}`);
    assert.deepEqual(deciding.threshold, { max: 0.05 });
    const status = await handle.query(statusQuery);
    const reset = status.timeline.find(
      (t) => t.message === 'rollback: traffic back to 100% stable, no mirror',
    );
    assert.ok(reset, 'rollback reset traffic');
    const reactionMs = Date.parse(status.outcome!.at) - Date.parse(deciding.at);
    assert.ok(reactionMs < 10_000, `rollback finished ${reactionMs} ms after the failing measurement`);
    assert.deepEqual(await clusterState(ns, ns.name, 'errors'), {
      stableVersion: 'v1',
      stableImage: 'registry.example.com/triton:v1',
      candidateExists: false,
      weights: allStable,
      mirror: false,
    });
  });

  it('(8) promotes in handoff mode: 100% to the candidate while stable rolls, then back', async () => {
    await withStable('handoff');
    const handle = await start({
      model: 'handoff',
      version: 'v2',
      steps: [{ weight: 30, hold: '2s' }],
      promote: { mode: 'handoff', approval: { required: false } },
    });
    await waitForStatus(handle, (s) => s.weights.canary === 100, 'handoff to the candidate');
    assert.deepEqual((await clusterState(ns, ns.name, 'handoff')).weights, { stable: 0, canary: 100 });
    const result = await handle.result();
    assert.equal(result.outcome.result, 'Promoted', result.outcome.reason);
    assert.deepEqual(await clusterState(ns, ns.name, 'handoff'), {
      stableVersion: 'v2',
      stableImage: 'registry.example.com/triton:v2',
      candidateExists: false,
      weights: allStable,
      mirror: false,
    });
  });

  it('(7) rolls back on rejection at an approval step, recording the rejecter', async () => {
    await withStable('rejected');
    const handle = await start({
      model: 'rejected',
      version: 'v2',
      steps: [{ weight: 10, hold: '1s' }, { approval: { timeout: '10m' } }, { weight: 50, hold: '1s' }],
    });
    await waitForStatus(handle, (s) => s.phase === 'AwaitingApproval', 'approval');
    assert.deepEqual((await clusterState(ns, ns.name, 'rejected')).weights, { stable: 90, canary: 10 });
    await handle.executeUpdate(rejectUpdate, {
      args: [{ actor: 'carol@example.com', comment: 'latency regression' }],
    });
    const result = await handle.result();
    assert.equal(result.outcome.failureType, 'ApprovalRejected');
    assert.deepEqual(
      result.approvals.map((a) => [a.decision, a.actor, a.comment]),
      [['rejected', 'carol@example.com', 'latency regression']],
    );
    assert.deepEqual(await clusterState(ns, ns.name, 'rejected'), {
      stableVersion: 'v1',
      stableImage: 'registry.example.com/triton:v1',
      candidateExists: false,
      weights: allStable,
      mirror: false,
    });
  });
});

describe('release workflow survives worker crashes', () => {
  it('(5) kill -9 of the worker mid-canary: a new worker finishes the release', async () => {
    const queue = uniqueTaskQueue('crash-canary');
    let w = await startWorkerProcess(queue);
    try {
      await withStable('crash-canary', queue);
      const handle = await start(
        {
          model: 'crash-canary',
          version: 'v2',
          steps: [{ weight: 20, hold: '4s' }, { approval: { timeout: '10m' } }, { weight: 60, hold: '2s' }],
        },
        queue,
      );
      await waitForStatus(handle, (s) => s.weights.canary === 20, 'canary at 20%');
      await w.kill9();
      w = await startWorkerProcess(queue);
      await waitForStatus(handle, (s) => s.phase === 'AwaitingApproval', 'approval after the crash');
      await handle.executeUpdate(approveUpdate, { args: [{ actor: 'bob' }] });
      const result = await handle.result();
      assert.equal(result.outcome.result, 'Promoted', result.outcome.reason);
      assert.deepEqual(await clusterState(ns, ns.name, 'crash-canary'), {
        stableVersion: 'v2',
        stableImage: 'registry.example.com/triton:v2',
        candidateExists: false,
        weights: allStable,
        mirror: false,
      });
    } finally {
      await w.stop();
    }
  });

  it('(6) kill -9 of the worker mid-rollback: the rollback completes', async () => {
    const queue = uniqueTaskQueue('crash-rollback');
    let w = await startWorkerProcess(queue);
    try {
      // Slow v2 pods make the promotion's rolling update take seconds, so the abort lands mid-way
      // and the rollback has a rolling update of its own to wait for.
      const slow = { 'pod-ready.stage.kwok.x-k8s.io/delay': '3s' };
      await withStable('crash-rollback', queue);
      const handle = await start(
        { model: 'crash-rollback', version: 'v2', annotations: slow, steps: [{ weight: 50, hold: '1s' }] },
        queue,
      );
      await waitForStatus(handle, (s) => s.stage === 'promote', 'promotion');
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // the stable rolling update is under way
      await handle.executeUpdate(abortUpdate, { args: [{ actor: 'erin', comment: 'stop' }] });
      await waitForStatus(handle, (s) => s.stage === 'rollback', 'rollback', 30_000);
      await w.kill9();
      w = await startWorkerProcess(queue);
      const result = await handle.result();
      assert.equal(result.outcome.result, 'RolledBack');
      assert.equal(result.outcome.failureType, 'ReleaseAborted');
      const state = await clusterState(ns, ns.name, 'crash-rollback');
      assert.deepEqual(state, {
        stableVersion: 'v1',
        stableImage: 'registry.example.com/triton:v1',
        candidateExists: false,
        weights: allStable,
        mirror: false,
      });
    } finally {
      await w.stop();
    }
  });
});
