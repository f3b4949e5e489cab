// The istio router end to end on the real stack (Temporal dev server, kube-apiserver with Istio's
// CRDs + KWOK, Prometheus, the traffic simulator playing the mesh). No istiod runs: the
// VirtualService is stored by the apiserver (strict schema validation) and the simulator routes by it.
// - a good release (shadow, two canary steps) is promoted: the VirtualService is back to 100% stable,
//   the candidate is gone, the Services and the VirtualService are exactly as before, and the stable
//   Deployment differs only in what makes it v2;
// - a bad release (v2 answering 50% errors) is rolled back by its gate: the VirtualService, the
//   Deployments and the Services exactly as before;
// - the simulator honours the VirtualService: the mirror's percentage during shadow, the header
//   route (the A/B cohort) and the weights during the canary, measured through Prometheus.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { virtualServiceState, type VirtualService } from '../../activities/traffic/istio-manifests.ts';
import { releaseWorkflowId } from '../../workflows/ids.ts';
import { release, type ReleaseResult } from '../../workflows/release.ts';
import { ReleaseSpec, type ReleaseSpecInput } from '../../workflows/spec/index.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import {
  differences,
  modelLeftovers,
  pollUntil,
  promQuery,
  readModelObjects,
  resultWithin,
  VIRTUAL_SERVICE,
  waitForStatus,
} from '../helpers/model-objects.ts';
import { releaseSpec, type FixtureOptions } from '../helpers/release-fixtures.ts';
import { devServerEnv, startRealWorker, uniqueTaskQueue } from '../helpers/temporal.ts';

type Handle = WorkflowHandle<typeof release>;

let env: TestWorkflowEnvironment;
let ns: TestNamespace;
let worker: Awaited<ReturnType<typeof startRealWorker>>;
const taskQueue = uniqueTaskQueue('istio');

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('istio');
  worker = await startRealWorker(env, taskQueue, ns.kc, { withTemporalClient: true });
});

after(async () => {
  await worker?.stop();
  await ns?.delete();
  await env?.teardown();
});

const HEADER = { name: 'x-model-variant', value: 'b' };

function istioSpec(
  o: Omit<FixtureOptions, 'namespace'> & { cohort?: boolean; failureLimit?: number },
): ReleaseSpecInput {
  const { cohort, failureLimit, ...fixture } = o;
  const base = releaseSpec({ namespace: ns.name, ...fixture });
  return {
    ...base,
    traffic: { router: 'istio' },
    canary: { ...base.canary!, ...(cohort ? { cohort: { headers: [HEADER] } } : {}) },
    gates: (base.gates ?? []).map((g) => (failureLimit === undefined ? g : { ...g, failureLimit })),
  };
}

function start(spec: ReleaseSpecInput): Promise<Handle> {
  return env.client.workflow.start(release, {
    taskQueue,
    workflowId: releaseWorkflowId(spec.namespace, spec.model),
    args: [{ spec, submittedBy: 'ci' }],
  });
}

const outcomeOf = (r: ReleaseResult) =>
  `${r.outcome.result} (${r.outcome.failureType ?? '-'}): ${r.outcome.reason}`;

async function firstRelease(model: string): Promise<void> {
  const result = await resultWithin<ReleaseResult>(await start(istioSpec({ model, version: 'v1' })), 45_000);
  assert.equal(result.outcome.result, 'Promoted', outcomeOf(result));
}

async function readVirtualService(model: string): Promise<VirtualService | undefined> {
  return (await ns.custom
    .getNamespacedCustomObject({ ...VIRTUAL_SERVICE, namespace: ns.name, name: model })
    .catch(() => undefined)) as VirtualService | undefined;
}

/** The weights, mirror and header route the stored VirtualService has. */
async function routed(model: string) {
  const vs = await readVirtualService(model);
  assert.ok(vs, `VirtualService ${model}`);
  return virtualServiceState(vs, ReleaseSpec.parse(istioSpec({ model, version: 'v1' })));
}

const allStable = { weights: { stable: 100, canary: 0 }, mirrorPercent: null, cohort: false };

/** Requests over the last `seconds` that match the labels, summed (0 when there were none). */
async function requests(model: string, labels: string, seconds: number): Promise<number> {
  const query = `sum(increase(model_requests_total{namespace="${ns.name}",model="${model}",${labels}}[${seconds}s])) or vector(0)`;
  return (await promQuery(query)) ?? 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the istio router on the real stack', { concurrency: 3, timeout: 120_000 }, () => {
  it('a good release is promoted: the VirtualService back to 100% stable, the candidate removed', async (t: TestContext) => {
    const model = 'vs-good';
    await firstRelease(model);
    assert.deepEqual(await routed(model), allStable);
    const before = await readModelObjects(ns, ns.name, model, VIRTUAL_SERVICE);
    assert.ok(before.deployment && before.route, 'v1 serves behind its VirtualService');

    const handle = await start(
      istioSpec({
        model,
        version: 'v2',
        shadow: { duration: '2s', mirrorPercent: 20 },
        steps: [
          { weight: 20, hold: '2s' },
          { weight: 50, hold: '2s' },
        ],
      }),
    );
    await waitForStatus(handle, (s) => s.mirrorPercent === 20, 'the shadow mirror', 30_000);
    assert.deepEqual(await routed(model), { ...allStable, mirrorPercent: 20 });
    await waitForStatus(handle, (s) => s.weights.canary === 50, 'canary at 50%', 30_000);
    assert.deepEqual((await routed(model)).weights, { stable: 50, canary: 50 });

    const result = await resultWithin<ReleaseResult>(handle, 45_000);
    assert.equal(result.outcome.result, 'Promoted', outcomeOf(result));
    assert.deepEqual(await routed(model), allStable);
    const left = await pollUntil(
      () => modelLeftovers(ns, ns.name, model, VIRTUAL_SERVICE),
      (objects) => !objects.includes(`Deployment ${model}-canary`),
      10_000,
    );
    assert.ok(!left.includes(`Deployment ${model}-canary`), `the candidate is removed: ${left.join(', ')}`);
    for (const kept of [`Deployment ${model}`, `Service ${model}-stable`, `VirtualService ${model}`])
      assert.ok(left.includes(kept), `${kept} stays: ${left.join(', ')}`);

    const afterPromotion = await readModelObjects(ns, ns.name, model, VIRTUAL_SERVICE);
    const notes: string[] = [];
    const diff = differences(before, afterPromotion, notes);
    for (const note of notes) t.diagnostic(`note: ${note}`);
    // Only what makes the stable v2 changed; the Services and the VirtualService are as they were.
    const paths = diff.map((line) => line.slice(0, line.indexOf(':')));
    assert.deepEqual(
      paths.filter((p) => !p.startsWith('Deployment ')),
      [],
      `Services or VirtualService changed:\n${diff.join('\n')}`,
    );
    t.diagnostic(`the stable's changes: ${paths.join(', ')}`);
    assert.ok(paths.length > 0, 'the stable Deployment runs v2');
    for (const line of diff)
      assert.match(
        line,
        /v1.* → .*v2|^Deployment labels\.slipway\.dev\/template-hash:/,
        `an unexpected change: ${line}`,
      );
    assert.equal(
      afterPromotion.deployment?.uid,
      before.deployment.uid,
      'the stable Deployment was rolled, not replaced',
    );
    assert.equal(afterPromotion.route?.uid, before.route.uid, 'the VirtualService was kept, not recreated');
  });

  it('a bad release is rolled back by its gate: VirtualService, Deployments and Services exactly as before', async (t: TestContext) => {
    const model = 'vs-bad';
    await firstRelease(model);
    const before = await readModelObjects(ns, ns.name, model, VIRTUAL_SERVICE);
    assert.ok(before.deployment && before.route);

    const handle = await start(
      istioSpec({
        model,
        version: 'v2',
        annotations: { 'sim.slipway.dev/error-rate': '0.5' },
        steps: [{ weight: 50, hold: '60s' }],
      }),
    );
    await waitForStatus(handle, (s) => s.weights.canary === 50, 'canary at 50%', 30_000);
    assert.deepEqual((await routed(model)).weights, { stable: 50, canary: 50 });
    const result = await resultWithin<ReleaseResult>(handle, 45_000);
    assert.equal(result.outcome.result, 'RolledBack', outcomeOf(result));
    assert.equal(result.outcome.failureType, 'GateFailed', outcomeOf(result));
    assert.match(result.outcome.reason, /^gate error-rate failed/);

    await pollUntil(
      () =>
        ns.apps
          .readNamespacedDeployment({ name: `${model}-canary`, namespace: ns.name })
          .catch(() => undefined),
      (d) => d === undefined,
      10_000,
    );
    const restored = await readModelObjects(ns, ns.name, model, VIRTUAL_SERVICE);
    const notes: string[] = [];
    const diff = differences(before, restored, notes);
    for (const note of notes) t.diagnostic(`note: ${note}`);
    assert.deepEqual(diff, [], `not restored exactly:\n${diff.join('\n')}`);
    assert.equal(restored.route?.uid, before.route.uid, 'the VirtualService was kept, not recreated');
    assert.deepEqual(await routed(model), allStable);
    const left = await modelLeftovers(ns, ns.name, model, VIRTUAL_SERVICE);
    assert.ok(!left.includes(`Deployment ${model}-canary`), `the candidate is removed: ${left.join(', ')}`);
  });

  it('the simulator follows the VirtualService: the mirror percentage, the header route, the weights', async (t: TestContext) => {
    const model = 'vs-sim';
    await firstRelease(model);
    const handle = await start(
      istioSpec({
        model,
        version: 'v2',
        shadow: { duration: '12s', mirrorPercent: 50 },
        steps: [{ weight: 30, hold: '12s' }],
        cohort: true,
      }),
    );
    const window = 6;

    // Shadow: half of v1's requests are copied to v2; v2 answers none of the live ones.
    await waitForStatus(
      handle,
      (s) => s.stage === 'shadow' && s.mirrorPercent === 50,
      'the mirror at 50%',
      30_000,
    );
    await sleep((window + 1.5) * 1_000);
    const [mirrored, liveV1, liveV2] = await Promise.all([
      requests(model, 'version="v2",mirrored="true"', window),
      requests(model, 'version="v1",mirrored="false"', window),
      requests(model, 'version="v2",mirrored="false"', window),
    ]);
    const mirrorShare = mirrored / liveV1;
    t.diagnostic(
      `shadow, ${window} s: v1 ${liveV1}, mirrored to v2 ${mirrored} (${mirrorShare.toFixed(3)}), live v2 ${liveV2}`,
    );
    assert.ok(liveV1 > 100, `v1 serves (${liveV1})`);
    assert.ok(
      Math.abs(mirrorShare - 0.5) < 0.05,
      `mirrorPercentage 50 mirrors half of v1's requests (${mirrorShare})`,
    );
    assert.equal(liveV2, 0, 'no live request reaches v2 in shadow');

    // Canary at 30% with the cohort: the header route sends the cohort to v2, the rest split 70/30.
    const holding = (s: ReleaseStatus) =>
      s.stage === 'canary' &&
      s.timeline.some((e) => /^canary step 1\/1: \d+% of traffic and the cohort/.test(e.message));
    await waitForStatus(handle, holding, 'holding at 30% with the cohort', 30_000);
    const vs = await readVirtualService(model);
    assert.deepEqual(vs?.spec.http[0]?.match, [{ headers: { [HEADER.name]: { exact: HEADER.value } } }]);
    assert.deepEqual(await routed(model), {
      weights: { stable: 70, canary: 30 },
      mirrorPercent: null,
      cohort: true,
    });
    await sleep((window + 1.5) * 1_000);
    const live = 'mirrored="false"';
    const [cohortV2, cohortV1, othersV2, othersV1, mirroredNow] = await Promise.all([
      requests(model, `version="v2",${live},cohort="true"`, window),
      requests(model, `version="v1",${live},cohort="true"`, window),
      requests(model, `version="v2",${live},cohort="false"`, window),
      requests(model, `version="v1",${live},cohort="false"`, window),
      requests(model, 'mirrored="true"', 3),
    ]);
    const share = othersV2 / (othersV2 + othersV1);
    t.diagnostic(
      `canary 30%, ${window} s: cohort → v2 ${cohortV2}, v1 ${cohortV1}; others → v2 ${othersV2}, v1 ${othersV1} (${share.toFixed(3)}); mirrored over 3 s ${mirroredNow}`,
    );
    assert.ok(cohortV2 > 20, `the cohort reached v2 (${cohortV2})`);
    assert.equal(cohortV1, 0, 'the whole cohort is on v2');
    assert.ok(Math.abs(share - 0.3) < 0.05, `the others follow the weights (${share})`);
    assert.equal(mirroredNow, 0, 'the mirror is gone after shadow');

    const result = await resultWithin<ReleaseResult>(handle, 45_000);
    assert.equal(result.outcome.result, 'Promoted', outcomeOf(result));
    assert.deepEqual(await routed(model), allStable);
  });
});
