// Post-promotion verification (promote.verify) on the real stack: a version that passes its canary
// but fails once it serves everyone is rolled back after its promotion — the stable Deployment,
// Services and route exactly as before the release — and the release ends RolledBack; a good one
// is Promoted after its verification.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { releaseWorkflowId } from '../../workflows/ids.ts';
import { statusQuery } from '../../workflows/messages.ts';
import { release, type ReleaseResult } from '../../workflows/release.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { differences, readModelObjects, resultWithin } from '../helpers/model-objects.ts';
import { releaseSpec, type FixtureOptions } from '../helpers/release-fixtures.ts';
import { devServerEnv, startRealWorker, uniqueTaskQueue } from '../helpers/temporal.ts';

let env: TestWorkflowEnvironment;
let ns: TestNamespace;
let worker: Awaited<ReturnType<typeof startRealWorker>>;
const taskQueue = uniqueTaskQueue('verify');

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('verify');
  worker = await startRealWorker(env, taskQueue, ns.kc, { withTemporalClient: true });
});

after(async () => {
  await worker?.stop();
  await ns?.delete();
  await env?.teardown();
});

/** The fixture release, with no canary gates (the canary passes whatever the version does) and a verification. */
function verified(o: Omit<FixtureOptions, 'namespace'>, duration: string): ReleaseSpecInput {
  const base = releaseSpec({ namespace: ns.name, steps: [{ weight: 50, hold: '2s' }], ...o });
  return {
    ...base,
    canary: { steps: base.canary!.steps },
    promote: { verify: { duration, gates: ['error-rate'] } },
  };
}

async function run(spec: ReleaseSpecInput) {
  const handle = await env.client.workflow.start(release, {
    taskQueue,
    workflowId: releaseWorkflowId(spec.namespace, spec.model),
    args: [{ spec, submittedBy: 'ci' }],
  });
  const result = await resultWithin<ReleaseResult>(handle, 90_000);
  return { result, status: await handle.query(statusQuery) };
}

const outcome = (r: ReleaseResult) =>
  `${r.outcome.result} (${r.outcome.failureType ?? '-'}): ${r.outcome.reason}`;

describe('post-promotion verification on the real stack', { concurrency: 2 }, () => {
  it('a version failing after its promotion is rolled back to the previous one, exactly', async () => {
    const model = 'verify-bad';
    const first = await run(releaseSpec({ namespace: ns.name, model, version: 'v1' }));
    assert.equal(first.result.outcome.result, 'Promoted', outcome(first.result));
    const beforeRelease = await readModelObjects(ns, ns.name, model);

    const { result, status } = await run(
      verified({ model, version: 'v2', annotations: { 'sim.slipway.dev/error-rate': '0.5' } }, '30s'),
    );
    assert.equal(result.outcome.result, 'RolledBack', outcome(result));
    assert.equal(result.outcome.failureType, 'GateFailed', outcome(result));
    const messages = status.timeline.map((e) => e.message);
    const promotedAt = messages.findIndex((m) => /^stable rolled to v2/.test(m));
    const verifyingAt = messages.findIndex((m) => /^verifying v2 on the stable track for 30s/.test(m));
    assert.ok(promotedAt >= 0 && verifyingAt > promotedAt, 'the stable served v2 and was being verified');
    const afterRelease = await readModelObjects(ns, ns.name, model);
    assert.deepEqual(differences(beforeRelease, afterRelease), [], 'v1 exactly as before the release');
    assert.equal(afterRelease.deployment?.podAnnotations['slipway.dev/version'], 'v1');
  });

  it('a good version is Promoted once its verification passes', async () => {
    const model = 'verify-good';
    const first = await run(releaseSpec({ namespace: ns.name, model, version: 'v1' }));
    assert.equal(first.result.outcome.result, 'Promoted', outcome(first.result));
    const { result, status } = await run(verified({ model, version: 'v2' }, '6s'));
    assert.equal(result.outcome.result, 'Promoted', outcome(result));
    assert.ok(status.timeline.some((e) => e.message === 'v2 verified for 6s'));
    assert.equal(status.gates['error-rate']?.status, 'passed');
    const now = await readModelObjects(ns, ns.name, model);
    assert.equal(now.deployment?.podAnnotations['slipway.dev/version'], 'v2');
  });
});
