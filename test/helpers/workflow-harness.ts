// Running the release workflow on the time-skipping test server with stub activities: one harness
// for the workflow unit tests (a base spec, a release driven by the test, waits on its status).
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { after, before } from 'node:test';
import { statusQuery } from '../../workflows/messages.ts';
import { release, type ReleaseInput } from '../../workflows/release.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { strandedRun } from './stranded-run.ts';
import { stubActivities, type FakeCluster, type StubOptions } from './stub-activities.ts';
import { timeSkippingEnv, uniqueTaskQueue, workflowBundle } from './temporal.ts';

export const baseSpec: ReleaseSpecInput = {
  model: 'fraud-detector',
  namespace: 'ml-serving',
  version: 'v2',
  serving: { image: 'triton:24.05', replicas: 2 },
  shadow: { duration: '5m', mirrorPercent: 50, gates: ['error-rate'] },
  canary: {
    steps: [
      { weight: 10, hold: '5m' },
      { approval: { timeout: '2h', onTimeout: 'reject' } },
      { weight: 50, hold: '10m' },
    ],
    gates: ['error-rate'],
  },
  gates: [{ name: 'error-rate', prometheus: { query: 'errors' }, pass: { max: 0.01 }, interval: '30s' }],
};

export const good = { 'error-rate': () => 0.001 };

export interface Scenario {
  spec?: Partial<ReleaseSpecInput>;
  stub: StubOptions;
  input?: Partial<ReleaseInput>;
}

export type Stub = ReturnType<typeof stubActivities>;

/** A time-skipping server for the calling test file (before/after hooks) and releases run on it. */
export function workflowHarness() {
  let env: TestWorkflowEnvironment | undefined;
  before(async () => {
    env = await timeSkippingEnv();
  });
  after(async () => {
    await env?.teardown();
  });
  const current = (): TestWorkflowEnvironment => {
    if (!env) throw new Error('the time-skipping server is not up yet');
    return env;
  };

  async function runRelease<T>(
    scenario: Scenario,
    drive: (handle: WorkflowHandle<typeof release>, stub: Stub) => Promise<T>,
    testEnv: TestWorkflowEnvironment,
  ) {
    const stub = stubActivities(scenario.stub);
    const taskQueue = uniqueTaskQueue('release');
    const worker = await Worker.create({
      connection: testEnv.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: stub.activities,
    });
    const watching = new AbortController();
    const outcome = await worker.runUntil(async () => {
      const handle = await testEnv.client.workflow.start(release, {
        taskQueue,
        workflowId: `release-${taskQueue}`,
        args: [{ spec: { ...baseSpec, ...scenario.spec }, submittedBy: 'alice', ...scenario.input }],
      });
      const driven = drive(handle, stub).then((value) => ({ value }));
      const stranded = strandedRun(handle, watching.signal).then((evidence) => ({ evidence }));
      try {
        const first = await Promise.race([driven, stranded]);
        if ('value' in first) return first;
        driven.catch(() => undefined); // ends with the termination below
        await handle.terminate(`stranded by the time-skipping server: ${first.evidence}`);
        return first;
      } finally {
        watching.abort();
      }
    });
    return { outcome, stub };
  }

  /**
   * Runs a release on the time-skipping server with stub activities, driven by the test. A run the
   * server strands (strandedRun) is terminated and the scenario run once more from the start, with a
   * line on stderr; a second stranding fails the test.
   */
  async function withRelease<T>(
    scenario: Scenario,
    drive: (handle: WorkflowHandle<typeof release>, stub: Stub) => Promise<T>,
    testEnv: TestWorkflowEnvironment = current(),
  ) {
    for (let attempt = 1; ; attempt++) {
      const { outcome, stub } = await runRelease(scenario, drive, testEnv);
      if ('value' in outcome) return { outcome: outcome.value, ...stub };
      if (attempt === 2) throw new Error(`stranded twice by the time-skipping server: ${outcome.evidence}`);
      process.stderr.write(
        `# time-skipping server stranded the run (${outcome.evidence}); running it again\n`,
      );
    }
  }

  /** Advances workflow time in small steps until the status matches. */
  async function waitForStatus(
    handle: WorkflowHandle,
    predicate: (s: ReleaseStatus) => boolean,
    what: string,
    stepMs = 5_000,
  ): Promise<ReleaseStatus> {
    for (let i = 0; i < 400; i++) {
      const status = await handle.query(statusQuery);
      if (predicate(status)) return status;
      await current().sleep(stepMs);
    }
    throw new Error(`status never reached: ${what}`);
  }

  return { env: current, withRelease, waitForStatus };
}

const READS = new Set([
  'releasePolicy',
  'captureStableState',
  'releaseObjectsPresent',
  'observeCandidate',
  'watchCandidate',
  'checkCapacity:promotion',
]);

/** The calls that change the cluster (reads and rollout waits left out). */
export function changes(calls: string[]): string[] {
  return calls.filter((c) => !READS.has(c) && !c.startsWith('waitForRollout'));
}

/** The part of the stub cluster a release is about: versions on the tracks and the traffic. */
export function versionsAndTraffic(cluster: FakeCluster) {
  const { stable, candidate, weights, mirror } = cluster;
  return { stable, candidate, weights, mirror };
}

/** A release that has ended with `version` on the stable track: no candidate, 100% stable, no mirror. */
export function settledOn(version: string) {
  return { stable: version, candidate: null, weights: { stable: 100, canary: 0 }, mirror: null };
}
