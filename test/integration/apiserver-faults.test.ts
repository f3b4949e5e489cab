// Releases through an apiserver that misbehaves (infra/local/faults): the worker's kubeconfig points
// at the fault proxy, which throttles with Retry-After, answers 500/503, resets connections, holds
// requests, cuts watch streams and answers 410 Gone to watches that resume. A good release is still
// Promoted and a bad one RolledBack, with the cluster (read directly, not through the proxy) in the
// state its outcome says; no release runs past its deadline; every throttled request comes back no
// sooner than its Retry-After; cut and refused watches are watched (or read) again.
//
// CI size: 2 models, 4 releases (v1 then v2 of each), one release at a time, ~250 requests through
// the proxy, about 60 s. The big runs are `npm run bench -- fault` (bench/fault-bench.ts).
// One release at a time, so that a request seen again after a 429 is that release's retry, not the
// same read by another release (the preflight's cluster-wide lists of nodes and pods are the same
// request for every release).
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startFaultProxy, type FaultProxy } from '../../infra/local/faults/proxy.ts';
import { FaultPlan } from '../../infra/local/faults/plan.ts';
import { loadStackConfig } from '../../infra/local/stack/config.ts';
import { pkiPaths } from '../../infra/local/stack/pki.ts';
import { releaseWorkflowId } from '../../workflows/ids.ts';
import { release, type ReleaseResult } from '../../workflows/release.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { differences, readModelObjects, resultWithin } from '../helpers/model-objects.ts';
import { clusterState, releaseSpec, type FixtureOptions } from '../helpers/release-fixtures.ts';
import { devServerEnv, startRealWorker, uniqueTaskQueue } from '../helpers/temporal.ts';

const RETRY_AFTER_S = 1;
/** Each release's deadline: far above its fault-free time (10–20 s), far below its activities' own timeouts. */
const DEADLINE_MS = 120_000;
const plan = FaultPlan.parse({
  seed: 13,
  throttle: 0.06,
  throttleRetryAfterSeconds: RETRY_AFTER_S,
  serverError: 0.05,
  reset: 0.03,
  slow: 0.1,
  slowMs: 300,
  dropWatch: 0.5,
  dropWatchAfterMs: 2_000,
  goneOnResume: 0.5,
});

let env: TestWorkflowEnvironment;
let ns: TestNamespace;
let proxy: FaultProxy;
let worker: Awaited<ReturnType<typeof startRealWorker>>;
const taskQueue = uniqueTaskQueue('faults');

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('faults');
  const config = loadStackConfig();
  proxy = await startFaultProxy({ upstreamPort: config.ports.apiserver, pki: pkiPaths(config), plan });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(proxy.kubeconfigFor(join(mkdtempSync(join(tmpdir(), 'slipway-faults-')), 'kubeconfig')));
  worker = await startRealWorker(env, taskQueue, kc);
});

after(async () => {
  await worker?.stop();
  await proxy?.close();
  await ns?.delete();
  await env?.teardown();
});

/** How long each release took, by `model@version`. */
const took: Record<string, number> = {};

async function run(o: Omit<FixtureOptions, 'namespace'>): Promise<ReleaseResult> {
  const spec = releaseSpec({ namespace: ns.name, ...o });
  const started = Date.now();
  const handle = await env.client.workflow.start(release, {
    taskQueue,
    workflowId: releaseWorkflowId(spec.namespace, spec.model),
    args: [{ spec, submittedBy: 'ci' }],
  });
  // Past its deadline the release is terminated and this throws, saying where it was.
  const result = await resultWithin<ReleaseResult>(handle, DEADLINE_MS);
  took[`${o.model}@${o.version}`] = Date.now() - started;
  return result;
}

const outcome = (r: ReleaseResult) =>
  `${r.outcome.result} (${r.outcome.failureType ?? '-'}): ${r.outcome.reason}`;

describe('releases through a faulty apiserver', () => {
  it('a good release is promoted and a bad one rolled back, exactly, through every injected fault', async (t: TestContext) => {
    const promote = async () => {
      assert.equal((await run({ model: 'faulty-good', version: 'v1' })).outcome.result, 'Promoted');
      const result = await run({ model: 'faulty-good', version: 'v2' });
      assert.equal(result.outcome.result, 'Promoted', outcome(result));
      assert.deepEqual(await clusterState(ns, ns.name, 'faulty-good'), {
        stableVersion: 'v2',
        stableImage: 'registry.example.com/triton:v2',
        candidateExists: false,
        weights: { stable: 100, canary: 0 },
        mirror: false,
      });
    };
    const rollBack = async () => {
      assert.equal((await run({ model: 'faulty-bad', version: 'v1' })).outcome.result, 'Promoted');
      const before = await readModelObjects(ns, ns.name, 'faulty-bad');
      const result = await run({
        model: 'faulty-bad',
        version: 'v2',
        annotations: { 'sim.slipway.dev/error-rate': '0.5' },
        steps: [{ weight: 50, hold: '30s' }],
      });
      assert.equal(result.outcome.result, 'RolledBack', outcome(result));
      assert.equal(result.outcome.failureType, 'GateFailed', outcome(result));
      assert.deepEqual(differences(before, await readModelObjects(ns, ns.name, 'faulty-bad')), []);
    };
    await promote();
    await rollBack();

    const stats = proxy.stats();
    t.diagnostic(
      `fault proxy: ${JSON.stringify(stats.injected)} in ${stats.requests} requests (${stats.watches} watches)`,
    );
    for (const kind of ['throttle', 'serverError', 'reset', 'slow', 'goneOnResume'] as const)
      assert.ok(stats.injected[kind] > 0, `${kind} was injected (${JSON.stringify(stats.injected)})`);

    // Nothing hangs past its deadline (resultWithin would have thrown; the figures for the record).
    t.diagnostic(`release times (ms, deadline ${DEADLINE_MS}): ${JSON.stringify(took)}`);
    assert.equal(Object.keys(took).length, 4);
    assert.ok(Math.max(...Object.values(took)) < DEADLINE_MS);

    // Retries honour Retry-After: every throttled request came again, none sooner than it said.
    const throttle = stats.summary.throttle;
    t.diagnostic(`after a 429: ${JSON.stringify(throttle)}`);
    assert.equal(throttle.notFollowedUp, 0, 'every throttled request was asked again');
    assert.deepEqual(throttle.early, [], `repeats sooner than Retry-After ${RETRY_AFTER_S} s`);
    assert.ok((throttle.medianFollowUpMs ?? 0) >= RETRY_AFTER_S * 1000);

    // Errors and resets were asked again; cut and refused watches were watched or read again.
    const { serverError, reset, dropWatch, goneOnResume } = stats.summary;
    t.diagnostic(`followed up: ${JSON.stringify({ serverError, reset, dropWatch, goneOnResume })}`);
    assert.ok(serverError.followedUp > 0 && reset.followedUp > 0);
    assert.ok(goneOnResume.followedUp > 0, 'a watch refused with 410 Gone was re-established');
  });
});
