// A hold that elapses while no worker runs (found by the chaos run, test/integration/chaos.test.ts):
// the hold's timer and the timer of the gates' first measurement both fire without a worker; the next
// worker saw them in one activation — the hold ended, the gate loop was cancelled before it measured,
// and a bad candidate went on to be promoted without one measurement. A hold now measures each gate
// whose interval fits in it at least once before the step ends. On the dev server (real time: the
// time-skipping server does not skip while no worker polls) with stub activities; the worker stops
// during the canary hold and the next one starts after the hold is over.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { statusQuery } from '../../workflows/messages.ts';
import { release } from '../../workflows/release.ts';
import { baseSpec } from '../helpers/workflow-harness.ts';
import { stubActivities } from '../helpers/stub-activities.ts';
import { devServerEnv, uniqueTaskQueue, workflowBundle } from '../helpers/temporal.ts';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await devServerEnv();
});
after(async () => {
  await env?.teardown();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a hold that elapses while no worker runs', () => {
  it('still measures its gates: a bad candidate is rolled back, not promoted', async () => {
    const stub = stubActivities({ stableVersion: 'v1', gateValues: { 'error-rate': () => 0.5 } });
    const taskQueue = uniqueTaskQueue('hold-no-worker');
    const startWorker = async () => {
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: stub.activities,
      });
      return { worker, running: worker.run() };
    };
    const first = await startWorker();
    const handle = await env.client.workflow.start(release, {
      taskQueue,
      workflowId: `release-${taskQueue}`,
      args: [
        {
          spec: {
            ...baseSpec,
            shadow: undefined,
            canary: { steps: [{ weight: 20, hold: '3s' }], gates: ['error-rate'] },
            gates: [{ ...baseSpec.gates![0]!, interval: '2s' }],
          },
          submittedBy: 'alice',
        },
      ],
    });
    for (let i = 0; (await handle.query(statusQuery)).weights.canary !== 20; i++) {
      assert.ok(i < 300, 'the canary step never started');
      await sleep(20);
    }
    first.worker.shutdown();
    await first.running;
    // No worker: the gate's first measurement (at 2 s) and the end of the hold (3 s) both pass.
    await sleep(5_000);
    const second = await startWorker();
    try {
      const result = await handle.result();
      const status = await handle.query(statusQuery);
      assert.equal(result.outcome.result, 'RolledBack', result.outcome.reason);
      assert.equal(result.outcome.failureType, 'GateFailed');
      assert.ok(status.measurements.length >= 1, 'the hold measured its gate');
      assert.deepEqual(stub.cluster.weights, { stable: 100, canary: 0 });
    } finally {
      second.worker.shutdown();
      await second.running;
    }
  });
});
