// The strategies rolling, recreate and blueGreen on the real stack (kube-apiserver, KWOK, Temporal,
// Prometheus, the traffic simulator): each promotes a good version and rolls a bad one back, and the
// test compares the full Deployment spec, the Services and the HTTPRoute before and after, reads the
// strategy's own steps from the timeline, and watches the pods (recreate: never two versions at once;
// blue-green: the old version untouched while it is kept warm, the rollback a route flip).
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { releaseWorkflowId } from '../../workflows/ids.ts';
import { abortUpdate, statusQuery } from '../../workflows/messages.ts';
import { release, type ReleaseResult } from '../../workflows/release.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import {
  differences,
  pollUntil,
  promQuery,
  readModelObjects,
  resultWithin,
  waitForStatus,
  type ModelObjects,
} from '../helpers/model-objects.ts';
import { releaseSpec, clusterState } from '../helpers/release-fixtures.ts';
import { devServerEnv, startRealWorker, uniqueTaskQueue } from '../helpers/temporal.ts';

let env: TestWorkflowEnvironment;
let ns: TestNamespace;
let worker: Awaited<ReturnType<typeof startRealWorker>>;
const taskQueue = uniqueTaskQueue('strategies');
const BAD = { 'sim.slipway.dev/error-rate': '0.5' };

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('strategies');
  worker = await startRealWorker(env, taskQueue, ns.kc, { withTemporalClient: true });
});

after(async () => {
  await worker?.stop();
  await ns?.delete();
  await env?.teardown();
});

/** The fixture spec with `strategy` instead of the canary plan. */
function withStrategy(
  model: string,
  version: string,
  strategy: ReleaseSpecInput['strategy'],
  o: { annotations?: Record<string, string>; replicas?: number } = {},
): ReleaseSpecInput {
  const base = releaseSpec({
    namespace: ns.name,
    model,
    version,
    ...(o.annotations ? { annotations: o.annotations } : {}),
  });
  const { canary: _canary, ...rest } = base;
  return {
    ...rest,
    serving: { ...base.serving, ...(o.replicas === undefined ? {} : { replicas: o.replicas }) },
    strategy,
    promote: { approval: { required: false } },
  };
}

async function start(spec: ReleaseSpecInput): Promise<WorkflowHandle<typeof release>> {
  return env.client.workflow.start(release, {
    taskQueue,
    workflowId: releaseWorkflowId(spec.namespace, spec.model),
    args: [{ spec, submittedBy: 'ci' }],
  });
}

async function run(spec: ReleaseSpecInput) {
  const handle = await start(spec);
  const result = await resultWithin<ReleaseResult>(handle, 120_000);
  return { result, status: await handle.query(statusQuery) };
}

const outcome = (r: ReleaseResult) =>
  `${r.outcome.result} (${r.outcome.failureType ?? '-'}): ${r.outcome.reason}`;
const messages = (s: ReleaseStatus) => s.timeline.map((e) => e.message);

/** A model with v1 serving (a first release), and its objects as they are then. */
async function withStable(model: string, replicas?: number): Promise<ModelObjects> {
  const first = await run(
    withStrategy(model, 'v1', { type: 'rolling' }, replicas === undefined ? {} : { replicas }),
  );
  assert.equal(first.result.outcome.result, 'Promoted', outcome(first.result));
  return readModelObjects(ns, ns.name, model);
}

/** The versions of the model's running pods (not terminating), polled every 100 ms until `stop()`. */
function watchPodVersions(model: string) {
  const seen: string[][] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const pods = await ns.core.listNamespacedPod({
        namespace: ns.name,
        labelSelector: `app.kubernetes.io/name=${model}`,
      });
      const versions = pods.items
        .filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running')
        .map((p) => p.metadata?.labels?.['app.kubernetes.io/version'] ?? '?');
      seen.push([...new Set(versions)].sort());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop(): Promise<string[][]> {
      running = false;
      await loop;
      return seen;
    },
  };
}

/** What a promotion may change: the pod template and the label saying whose template it is. */
const promoted = (field: string) =>
  field.startsWith('Deployment spec.template.') || field === 'Deployment labels.slipway.dev/template-hash';

/** The fields that differ between two pictures of a model. */
function changedFields(before: ModelObjects, after: ModelObjects): string[] {
  return differences(before, after).map((line) => line.split(':')[0]!);
}

describe('strategies on the real stack', { concurrency: 3 }, () => {
  it('rolling: the stable Deployment rolls in place while its gates run; no candidate, route untouched', async () => {
    const model = 'rolling-good';
    const before = await withStable(model);
    const { result, status } = await run(
      withStrategy(model, 'v2', { type: 'rolling', gates: ['error-rate'], hold: '4s' }),
    );
    assert.equal(result.outcome.result, 'Promoted', outcome(result));
    const now = await readModelObjects(ns, ns.name, model);
    assert.equal(now.deployment?.uid, before.deployment?.uid, 'the same Deployment, updated in place');
    assert.equal(now.deployment?.podAnnotations['slipway.dev/version'], 'v2');
    // Only the pod template changed: strategy, replicas, Services and route are as they were.
    const changed = changedFields(before, now);
    assert.ok(changed.length > 0 && changed.every(promoted), changed.join('\n'));
    const text = messages(status);
    assert.ok(
      text.some((m) =>
        /^rolling update of rolling-good from v1 to v2 \(maxSurge 25%, maxUnavailable 0\); no canary split$/.test(
          m,
        ),
      ),
    );
    assert.ok(text.some((m) => /^rolled out in [\d.]+s: /.test(m)));
    assert.ok(text.some((m) => m === 'v2 passed error-rate after the rolling update'));
    assert.ok(status.measurements.some((m) => m.gate === 'error-rate' && m.verdict === 'pass'));
    assert.ok(!text.some((m) => m.startsWith('candidate deployed')), 'no candidate');
    assert.equal((await clusterState(ns, ns.name, model)).candidateExists, false);
  });

  it('rolling: a failing gate pauses the rollout and restores the previous template exactly', async () => {
    const model = 'rolling-bad';
    const before = await withStable(model);
    const { result, status } = await run(
      withStrategy(
        model,
        'v2',
        { type: 'rolling', gates: ['error-rate'], hold: '20s' },
        { annotations: BAD },
      ),
    );
    assert.equal(result.outcome.result, 'RolledBack', outcome(result));
    assert.equal(result.outcome.failureType, 'GateFailed', outcome(result));
    assert.ok(
      messages(status).includes(
        'rollback: stable Deployment restored to v1 (rollout paused, then the previous template restored)',
      ),
    );
    const now = await readModelObjects(ns, ns.name, model);
    assert.deepEqual(differences(before, now), [], 'v1 exactly as before the release');
    const d = await ns.apps.readNamespacedDeployment({ name: model, namespace: ns.name });
    assert.equal(d.spec?.paused, undefined, 'not left paused');
    assert.equal(d.status?.updatedReplicas, 2);
  });

  it('recreate: one version at a time, the downtime said while it lasts, the strategy Recreate', async () => {
    const model = 'recreate-good';
    const before = await withStable(model, 1);
    const pods = watchPodVersions(model);
    const handle = await start(
      withStrategy(model, 'v2', { type: 'recreate', gates: ['error-rate'], hold: '3s' }, { replicas: 1 }),
    );
    const during = await waitForStatus(
      handle,
      (s) => s.downtime !== undefined || s.outcome !== undefined,
      'the downtime in the status',
    );
    const result = await resultWithin<ReleaseResult>(handle, 90_000);
    const seen = await pods.stop();
    assert.equal(result.outcome.result, 'Promoted', outcome(result));
    assert.ok(during.downtime, 'the status said the downtime while it lasted');
    assert.equal(during.downtime.expectedSeconds, 30, 'terminationGracePeriodSeconds 30, no probes');
    assert.ok(
      !seen.some((v) => v.length > 1),
      `never two versions at once: ${JSON.stringify(seen.filter((v) => v.length > 1))}`,
    );
    assert.ok(
      seen.some((v) => v.length === 0),
      'a time with no version running (the downtime)',
    );
    const status = await handle.query(statusQuery);
    assert.equal(status.downtime, undefined);
    assert.ok(
      messages(status).some((m) =>
        /^v2 ready after [\d.]+s without a serving version \(expected up to 30s\)/.test(m),
      ),
    );
    const now = await readModelObjects(ns, ns.name, model);
    assert.deepEqual((now.deployment?.spec as { strategy?: unknown }).strategy, { type: 'Recreate' });
    assert.equal(now.deployment?.uid, before.deployment?.uid);
  });

  it('recreate: a failing gate re-creates the old version, one at a time, and gives back its strategy', async () => {
    const model = 'recreate-bad';
    const before = await withStable(model, 1);
    const pods = watchPodVersions(model);
    const { result, status } = await run(
      withStrategy(
        model,
        'v2',
        { type: 'recreate', gates: ['error-rate'], hold: '20s' },
        { replicas: 1, annotations: BAD },
      ),
    );
    const seen = await pods.stop();
    assert.equal(result.outcome.result, 'RolledBack', outcome(result));
    assert.equal(result.outcome.failureType, 'GateFailed', outcome(result));
    assert.ok(
      seen.some((v) => v.includes('v2')),
      'v2 ran',
    );
    assert.ok(!seen.some((v) => v.length > 1), 'never two versions at once, on the way there or back');
    assert.ok(
      messages(status).some((m) =>
        m.startsWith('rollback: stable Deployment restored to v1 (re-created: one version at a time'),
      ),
    );
    const now = await readModelObjects(ns, ns.name, model);
    assert.deepEqual(differences(before, now), [], 'v1 exactly as before, its RollingUpdate strategy too');
  });

  it('blueGreen: preview by header, one switch, the old version warm and untouched, then promoted', async (t: TestContext) => {
    const model = 'bg-good';
    const before = await withStable(model);
    const handle = await start(
      withStrategy(model, 'v2', {
        type: 'blueGreen',
        preview: { gates: ['error-rate'], hold: '6s' },
        scaleDownDelay: '6s',
        afterSwitch: { gates: ['error-rate'] },
      }),
    );
    await waitForStatus(
      handle,
      (s) => messages(s).some((m) => m.startsWith('preview open')),
      'the preview',
      60_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    // Only the preview's requests (the simulator sends its share with the preview header) reach v2.
    const q = (version: string, cohort: boolean) =>
      promQuery(
        `sum(increase(model_requests_total{namespace="${ns.name}",model="${model}",version="${version}",mirrored="false",cohort="${cohort}"}[4s])) or vector(0)`,
      );
    const [previewToV2, othersToV2, othersToV1] = await Promise.all([
      q('v2', true),
      q('v2', false),
      q('v1', false),
    ]);
    t.diagnostic(`preview: header → v2 ${previewToV2}, others → v2 ${othersToV2}, others → v1 ${othersToV1}`);
    assert.ok((previewToV2 ?? 0) > 5, `the preview reached v2 (${previewToV2})`);
    assert.equal(othersToV2, 0, 'no request without the header reached v2');
    assert.ok((othersToV1 ?? 0) > 20);

    const warm = await waitForStatus(handle, (s) => s.warmStandby !== undefined, 'the switch', 60_000);
    assert.deepEqual(warm.weights, { stable: 0, canary: 100 });
    const route = await clusterState(ns, ns.name, model);
    assert.deepEqual(route.weights, { stable: 0, canary: 100 });
    const stableWhileWarm = await readModelObjects(ns, ns.name, model);
    assert.deepEqual(
      differences(before, stableWhileWarm).filter((l) => l.startsWith('Deployment')),
      [],
      'the old version runs unchanged while it is kept warm',
    );
    const result = await resultWithin<ReleaseResult>(handle, 90_000);
    assert.equal(result.outcome.result, 'Promoted', outcome(result));
    const status = await handle.query(statusQuery);
    const text = messages(status);
    assert.ok(
      text.some((m) =>
        /^switched: 100% of traffic to v2; v1 kept warm until .* \(scaleDownDelay 6s\)/.test(m),
      ),
    );
    const stages = [...new Set(status.timeline.map((e) => e.stage))];
    assert.deepEqual(stages, ['build', 'preview', 'promote', 'done']);
    const now = await readModelObjects(ns, ns.name, model);
    assert.equal(now.deployment?.podAnnotations['slipway.dev/version'], 'v2');
    assert.deepEqual(await clusterState(ns, ns.name, model), {
      stableVersion: 'v2',
      stableImage: 'registry.example.com/triton:v2',
      candidateExists: false,
      weights: { stable: 100, canary: 0 },
      mirror: false,
    });
    assert.deepEqual(
      changedFields(before, now).filter((f) => !promoted(f)),
      [],
      'only the template changed',
    );
  });

  it('blueGreen: a failure while the old version is warm flips the route back; the stable never rolled', async (t: TestContext) => {
    const model = 'bg-bad';
    const before = await withStable(model);
    const { result, status } = await run(
      withStrategy(
        model,
        'v2',
        { type: 'blueGreen', scaleDownDelay: '60s', afterSwitch: { gates: ['error-rate'] } },
        { annotations: BAD },
      ),
    );
    assert.equal(result.outcome.result, 'RolledBack', outcome(result));
    assert.equal(result.outcome.failureType, 'GateFailed', outcome(result));
    const text = messages(status);
    assert.ok(text.some((m) => m.startsWith('switched: 100% of traffic to v2')));
    const flip = status.timeline.find(
      (e) => e.message === 'rollback: traffic back to 100% stable, no mirror',
    );
    const deciding = result.outcome.decidingMeasurement;
    assert.ok(flip && deciding);
    const flipMs = Date.parse(flip.at) - Date.parse(deciding.at);
    t.diagnostic(`route flip ${flipMs} ms after the failing measurement`);
    // The route flipped first; the stable's restore after it found nothing to change.
    const restored = text.findIndex((m) => m.startsWith('rollback: stable Deployment restored to v1'));
    assert.ok(restored > text.indexOf(flip.message), 'the stable restored after the route flipped');
    const now = await readModelObjects(ns, ns.name, model);
    assert.deepEqual(differences(before, now), [], 'v1, its Services and route exactly as before');
    assert.equal(now.deployment?.revision, before.deployment?.revision, 'the stable never rolled');
  });

  it('blueGreen: the warm old version deleted by hand, then an abort: the route flips and v1 is re-created as it was', async () => {
    const model = 'bg-deleted';
    const before = await withStable(model);
    const handle = await start(withStrategy(model, 'v2', { type: 'blueGreen', scaleDownDelay: '120s' }));
    await waitForStatus(handle, (s) => s.warmStandby !== undefined, 'the switch', 60_000);
    await ns.apps.deleteNamespacedDeployment({ name: model, namespace: ns.name });
    await handle.executeUpdate(abortUpdate, { args: [{ actor: 'dee', comment: 'v1 is gone, go back' }] });
    const result = await resultWithin<ReleaseResult>(handle, 90_000);
    assert.equal(result.outcome.result, 'RolledBack', outcome(result));
    assert.equal(result.outcome.failureType, 'ReleaseAborted');
    const now = await pollUntil(
      () => readModelObjects(ns, ns.name, model),
      (o) => o.deployment !== undefined,
      10_000,
    );
    // A new Deployment object (the old one was deleted), with exactly the recorded spec.
    assert.deepEqual(differences(before, now), ['Deployment: recreated (uid changed)']);
    assert.deepEqual(await clusterState(ns, ns.name, model), {
      stableVersion: 'v1',
      stableImage: 'registry.example.com/triton:v1',
      candidateExists: false,
      weights: { stable: 100, canary: 0 },
      mirror: false,
    });
  });
});
