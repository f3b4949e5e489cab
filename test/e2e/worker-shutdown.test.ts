// The production worker process under an orchestrator's SIGTERM: it stops while an activity (the
// candidate's rollout wait) runs, exits 0 within its grace period, and the release goes on and is
// promoted by the next worker. That worker's /metrics then shows Slipway's release metrics (recorded
// once, not again on replay) beside Temporal's own.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { release, type ReleaseInput } from '../../workflows/release.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { freePort } from '../../infra/local/stack/free-port.ts';
import { clusterState, releaseSpec } from '../helpers/release-fixtures.ts';
import { devServerEnv, uniqueTaskQueue } from '../helpers/temporal.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

let env: TestWorkflowEnvironment;
let ns: TestNamespace;

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('worker-term');
});
after(async () => {
  await ns?.delete();
  await env?.teardown();
});

/** Pending activity types of a workflow, from the server's description of it. */
async function pendingActivities(workflowId: string): Promise<string[]> {
  const description = await env.client.workflow.getHandle(workflowId).describe();
  return (description.raw.pendingActivities ?? []).map((a) => a.activityType?.name ?? '');
}

async function until(predicate: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('SIGTERM during an activity: clean exit within the grace period; the next worker promotes the release', async () => {
  const taskQueue = uniqueTaskQueue('worker-term');
  const model = 'sigterm';
  const workers: WorkerProcess[] = [];
  try {
    const first = await startWorkerProcess(taskQueue, { SLIPWAY_SHUTDOWN_GRACE: '2s' });
    workers.push(first);
    const start = (version: string, annotations: Record<string, string> = {}) => {
      const input: ReleaseInput = {
        spec: releaseSpec({
          namespace: ns.name,
          model,
          version,
          annotations,
          steps: [{ weight: 50, hold: '5s' }],
        }),
        submittedBy: 'ci',
      };
      return env.client.workflow.start(release, {
        taskQueue,
        workflowId: `term-${ns.name}-${version}`,
        args: [input],
      });
    };
    assert.equal((await (await start('v1')).result()).outcome.result, 'Promoted');

    // v2's pods take 6 s to get ready, so the candidate's rollout wait is a long-running activity.
    const handle = await start('v2', { 'pod-ready.stage.kwok.x-k8s.io/delay': '6s' });
    await until(
      async () => (await pendingActivities(handle.workflowId)).includes('waitForRollout'),
      'the candidate rollout wait',
    );
    const stoppedAt = Date.now();
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0, first.output().slice(-2000));
    const stopSeconds = (Date.now() - stoppedAt) / 1000;
    assert.ok(stopSeconds < 10, `exited ${stopSeconds} s after SIGTERM (grace 2 s)`);
    assert.match(first.output(), /"worker stopped"/);

    const metricsPort = await freePort();
    const second = await startWorkerProcess(taskQueue, {
      SLIPWAY_TEMPORAL_METRICS: `127.0.0.1:${metricsPort}`,
    });
    workers.push(second);
    const result = await handle.result();
    assert.equal(result.outcome.result, 'Promoted', result.outcome.reason);
    assert.deepEqual(await clusterState(ns, ns.name, model), {
      stableVersion: 'v2',
      stableImage: 'registry.example.com/triton:v2',
      candidateExists: false,
      weights: { stable: 100, canary: 0 },
      mirror: false,
    });

    // The Temporal runtime exports on an interval: wait for the release to show up.
    const scrape = async () => (await fetch(`http://${second.httpAddress}/metrics`)).text();
    const promoted = new RegExp(
      `slipway_releases_total\\{[^}]*model="${model}"[^}]*outcome="Promoted"[^}]*\\} 1\\b`,
    );
    await until(
      async () => promoted.test(await scrape()),
      'slipway_releases_total on the second worker',
      20_000,
    );
    const text = await scrape();
    const releaseLines = text
      .split('\n')
      .filter(
        (line) =>
          line.startsWith('slipway_') && line.includes(`model="${model}"`) && !line.includes('_bucket'),
      );
    const shown = releaseLines.join('\n');
    assert.match(
      shown,
      new RegExp(`slipway_stage_duration_seconds_count\\{[^}]*stage="promote"[^}]*\\} 1\\b`),
      shown,
    );
    assert.match(
      shown,
      /slipway_gate_measurements_total\{[^}]*gate="error-rate"[^}]*verdict="pass"[^}]*\} [1-9]/,
      shown,
    );
    assert.match(text, /temporal_workflow_completed_total/);
    assert.match(text, /slipway_worker_process_resident_memory_bytes/);
  } finally {
    for (const w of workers) await w.stop();
  }
});
