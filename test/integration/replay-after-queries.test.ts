// A release queried while its first workflow task runs must still replay (found by the chaos run,
// test/integration/chaos.test.ts): with the spec parsed by a local activity, a `status` query that
// arrived while it ran split that task in two, and the history could not be replayed
// ("[TMPRL1100] … patch marker encountered for change release-policy, but there is no
// corresponding change command") — every worker restart, crash or cache eviction left the release
// stuck for good. The API's status views and `slipway watch` query a release as soon as it starts.
// Dev server, stub activities: releases queried from their first moment, each history replayed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { statusQuery } from '../../workflows/messages.ts';
import { release } from '../../workflows/release.ts';
import { baseSpec, good } from '../helpers/workflow-harness.ts';
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
/** The race needs a query during the first task; a handful of releases make it certain enough. */
const RELEASES = 6;

describe('a release queried from its first moment', () => {
  it(`replays (${RELEASES} releases, 30 queries each while they start)`, async () => {
    const spec = {
      ...baseSpec,
      shadow: undefined,
      canary: { steps: [{ weight: 20, hold: '1s' }], gates: ['error-rate'] },
      gates: [{ ...baseSpec.gates![0]!, interval: '1s' }],
    };
    const bundle = await workflowBundle();
    // One worker and one stub cluster per release: a stub's cluster is one model's, and a release
    // promoted first would delete the candidate the others check before their promotion.
    const histories = await Promise.all(
      Array.from({ length: RELEASES }, async (_, i) => {
        const stub = stubActivities({ stableVersion: 'v1', gateValues: good });
        const taskQueue = uniqueTaskQueue(`replay-after-queries-${i}`);
        const worker = await Worker.create({
          connection: env.nativeConnection,
          taskQueue,
          workflowBundle: bundle,
          activities: stub.activities,
        });
        return worker.runUntil(async () => {
          const handle = await env.client.workflow.start(release, {
            taskQueue,
            workflowId: `replay-after-queries-${taskQueue}`,
            args: [{ spec: { ...spec, model: `queried-${i}` }, submittedBy: 'alice' }],
          });
          await Promise.all(
            Array.from({ length: 30 }, (_, q) =>
              sleep(q * 5).then(() => handle.query(statusQuery).catch(() => undefined)),
            ),
          );
          const result = await handle.result();
          assert.equal(result.outcome.result, 'Promoted', result.outcome.reason);
          return handle.fetchHistory();
        });
      }),
    );
    for (const [i, history] of histories.entries())
      await assert.doesNotReject(
        Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, `queried-${i}`),
        `release ${i} does not replay`,
      );
  });
});
