// Releases next to a HorizontalPodAutoscaler, on the real stack (Temporal dev server, kube-apiserver,
// kube-controller-manager's HPA controller, KWOK, Prometheus, the traffic simulator). The stack has
// no metrics API: the HPA controller cannot compute a utilization, so it only enforces the HPA's
// minReplicas and maxReplicas (each test waits for that before relying on it) and otherwise leaves
// the replicas as they are — exactly what lets a test count every replica change and know who made it.
// - a promotion keeps the replicas the autoscaler (here: the test, through `/scale`, mid-release) set,
//   and no Slipway apply changes them: the stable's spec.replicas are watched for the whole release;
// - the candidate gets HPA `<model>-canary` while it runs, gone with it after a promotion and a rollback;
// - the replicas hand-over: an apply without `spec.replicas` that Slipway owned keeps them (and the
//   same apply without the hand-over does reset them to 1 on this apiserver: the hazard is real).
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import type { WorkflowHandle } from '@temporalio/client';
import { serverSideApply } from '../../activities/kubernetes/apply.ts';
import { HANDOVER_FIELD_MANAGER, slipwayOwnsReplicas } from '../../activities/kubernetes/autoscalers.ts';
import { createKubernetesClients } from '../../activities/kubernetes/clients.ts';
import { deployStable } from '../../activities/kubernetes/deployments.ts';
import { renderDeployment } from '../../activities/kubernetes/manifests.ts';
import { releaseWorkflowId } from '../../workflows/ids.ts';
import { release, type ReleaseResult } from '../../workflows/release.ts';
import { ReleaseSpec, type ReleaseSpecInput } from '../../workflows/spec/index.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { MERGE_PATCH, pollUntil, resultWithin, waitForStatus } from '../helpers/model-objects.ts';
import { clusterState, releaseSpec, type FixtureOptions } from '../helpers/release-fixtures.ts';
import { devServerEnv, startRealWorker, uniqueTaskQueue } from '../helpers/temporal.ts';

type Handle = WorkflowHandle<typeof release>;

let env: Awaited<ReturnType<typeof devServerEnv>>;
let ns: TestNamespace;
let hpas: k8s.AutoscalingV2Api;
let worker: Awaited<ReturnType<typeof startRealWorker>>;
const taskQueue = uniqueTaskQueue('autoscalers');
/** The HPA controller's sync period is 15 s: bounds are enforced within about that. */
const HPA_REACTS_MS = 40_000;

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('autoscalers');
  hpas = ns.kc.makeApiClient(k8s.AutoscalingV2Api);
  worker = await startRealWorker(env, taskQueue, ns.kc);
});

after(async () => {
  await worker?.stop();
  await ns?.delete();
  await env?.teardown();
});

interface Release extends Omit<FixtureOptions, 'namespace'> {
  replicas?: number;
}

function start(o: Release): Promise<Handle> {
  // Replicas only where a test says them: under an HPA the spec must leave them out.
  const { replicas, ...fixture } = o;
  const base = releaseSpec({ namespace: ns.name, ...fixture });
  const spec: ReleaseSpecInput = { ...base, serving: { ...base.serving, replicas } };
  return env.client.workflow.start(release, {
    taskQueue,
    workflowId: releaseWorkflowId(spec.namespace, spec.model),
    args: [{ spec, submittedBy: 'ci' }],
  });
}

function outcomeOf(result: ReleaseResult): string {
  return `${result.outcome.result} (${result.outcome.failureType ?? '-'}): ${result.outcome.reason}`;
}

async function released(o: Release, expected: 'Promoted' | 'RolledBack'): Promise<ReleaseResult> {
  const result = await resultWithin<ReleaseResult>(await start(o), 60_000);
  assert.equal(result.outcome.result, expected, outcomeOf(result));
  return result;
}

const readDeployment = (name: string) =>
  ns.apps.readNamespacedDeployment({ name, namespace: ns.name }).catch(() => undefined);

const replicasOf = async (name: string) => (await readDeployment(name))?.spec?.replicas;

/** An HPA on Deployment `model`, as a team would make it: CPU at 80%, within min..max. */
async function createHpa(model: string, minReplicas: number, maxReplicas: number): Promise<void> {
  await hpas.createNamespacedHorizontalPodAutoscaler({
    namespace: ns.name,
    body: {
      metadata: { name: model },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: model },
        minReplicas,
        maxReplicas,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
          },
        ],
      },
    },
  });
}

/** Waits until the HPA controller has brought Deployment `name` to `replicas` (its bounds, no metrics). */
async function autoscaledTo(name: string, replicas: number): Promise<void> {
  const seen = await pollUntil(
    () => replicasOf(name),
    (r) => r === replicas,
    HPA_REACTS_MS,
  );
  assert.equal(
    seen,
    replicas,
    `the HPA controller did not enforce its bounds on ${name} within ${HPA_REACTS_MS} ms (no HPA controller?)`,
  );
}

/** Scales a Deployment through the `/scale` subresource, as an autoscaler does. */
async function scaleTo(name: string, replicas: number): Promise<void> {
  await ns.apps.patchNamespacedDeploymentScale(
    { name, namespace: ns.name, fieldManager: 'test-autoscaler', body: { spec: { replicas } } },
    MERGE_PATCH,
  );
}

interface Recording<T> {
  values: T[];
  /** Stops the watch; throws if it broke on the way (a gap could hide a change). */
  stop(): T[];
}

/**
 * Every value `pick` takes on one object, seen through a watch of `listPath` (resumed from the last
 * resourceVersion if the server closes it, so no change is missed); consecutive repeats are folded.
 * The watch ends with the test, whatever happens.
 */
async function record<T>(
  t: TestContext,
  listPath: string,
  name: string,
  pick: (phase: string, object: k8s.KubernetesObject) => T,
): Promise<Recording<T>> {
  const watch = new k8s.Watch(ns.kc);
  const values: T[] = [];
  let resourceVersion: string | undefined;
  let controller: AbortController | undefined;
  let stopped = false;
  let broken: unknown;
  const close = () => {
    stopped = true;
    controller?.abort();
  };
  const open = async (): Promise<void> => {
    if (stopped) return;
    controller = await watch.watch(
      listPath,
      { fieldSelector: `metadata.name=${name}`, ...(resourceVersion ? { resourceVersion } : {}) },
      (phase: string, object: k8s.KubernetesObject) => {
        resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
        if (phase === 'BOOKMARK') return;
        const value = pick(phase, object);
        if (values.length === 0 || values.at(-1) !== value) values.push(value);
      },
      (error: unknown) => {
        if (stopped) return;
        if (error) {
          // A watch that fails (rather than being closed by the server) is a gap: say so, do not spin.
          broken = error;
          close();
        } else setTimeout(() => void open().catch((e: unknown) => (broken = e)), 100);
      },
    );
  };
  await open();
  t.after(close);
  return {
    values,
    stop() {
      close();
      if (broken) {
        const why = broken instanceof Error ? broken.message : JSON.stringify(broken);
        throw new Error(`the watch of ${name} broke: ${why}`);
      }
      return values;
    },
  };
}

const deploymentsPath = () => `/apis/apps/v1/namespaces/${ns.name}/deployments`;
const hpasPath = () => `/apis/autoscaling/v2/namespaces/${ns.name}/horizontalpodautoscalers`;

/** spec.replicas of Deployment `name`, every value it takes. */
const recordReplicas = (t: TestContext, name: string) =>
  record(t, deploymentsPath(), name, (_phase, object) => (object as k8s.V1Deployment).spec?.replicas);

/** The candidate HPA's life: `ADDED min..max`, `DELETED`. */
const recordCandidateHpa = (t: TestContext, model: string) =>
  record(t, hpasPath(), `${model}-canary`, (phase, object) => {
    const spec = (object as k8s.V2HorizontalPodAutoscaler).spec;
    return phase === 'DELETED' ? 'DELETED' : `present ${spec?.minReplicas}..${spec?.maxReplicas}`;
  });

const holdingAt = (canary: number) => (s: ReleaseStatus) =>
  s.weights.canary === canary && s.stage === 'canary';

/** A stable v1 released by Slipway, then an HPA on it, its bounds enforced. */
async function autoscaledStable(model: string, replicas: number, min: number, max: number): Promise<void> {
  await released({ model, version: 'v1', replicas }, 'Promoted');
  await createHpa(model, min, max);
  await autoscaledTo(model, Math.min(max, Math.max(min, replicas)));
}

/** The candidate while it runs: its HPA copies the stable's, its replicas are the HPA's to change. */
async function assertCandidateAutoscaled(model: string, replicas: number): Promise<void> {
  const hpa = await hpas.readNamespacedHorizontalPodAutoscaler({
    name: `${model}-canary`,
    namespace: ns.name,
  });
  const stable = await hpas.readNamespacedHorizontalPodAutoscaler({ name: model, namespace: ns.name });
  assert.deepEqual(
    { ...hpa.spec?.scaleTargetRef },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: `${model}-canary`,
    },
  );
  assert.equal(hpa.spec?.minReplicas, stable.spec?.minReplicas);
  assert.equal(hpa.spec?.maxReplicas, stable.spec?.maxReplicas);
  assert.deepEqual(hpa.spec?.metrics, stable.spec?.metrics);
  assert.equal(hpa.metadata?.labels?.['app.kubernetes.io/managed-by'], 'slipway');
  assert.equal(hpa.metadata?.labels?.['slipway.dev/track'], 'canary');
  const candidate = await readDeployment(`${model}-canary`);
  assert.ok(candidate, 'the candidate runs');
  assert.equal(candidate.spec?.replicas, replicas, "the candidate starts at the stable's live size");
  assert.equal(slipwayOwnsReplicas(candidate), false, "the candidate's replicas are handed over to its HPA");
}

async function assertCandidateGone(model: string): Promise<void> {
  const hpa = await pollUntil(
    () =>
      hpas
        .readNamespacedHorizontalPodAutoscaler({ name: `${model}-canary`, namespace: ns.name })
        .catch(() => undefined),
    (h) => h === undefined,
    10_000,
  );
  assert.equal(hpa, undefined, "the candidate's HPA is deleted");
  assert.equal((await clusterState(ns, ns.name, model)).candidateExists, false, 'the candidate is deleted');
  assert.ok(
    await hpas.readNamespacedHorizontalPodAutoscaler({ name: model, namespace: ns.name }),
    "the stable's HPA stays",
  );
}

describe('releases next to an HPA, on the real stack', { concurrency: 4, timeout: 150_000 }, () => {
  it(
    'a scale through /scale mid-release survives the promotion; Slipway changes no replica; the candidate HPA comes and goes',
    { timeout: 140_000 },
    async (t) => {
      const model = 'hpa-promote';
      // serving.replicas 2 under an HPA of 3..6: the controller scales the stable to 3 (and takes the field over).
      await autoscaledStable(model, 2, 3, 6);
      const replicas = await recordReplicas(t, model);
      const candidateHpa = await recordCandidateHpa(t, model);
      const handle = await start({ model, version: 'v2', steps: [{ weight: 50, hold: '8s' }] });
      await waitForStatus(handle, holdingAt(50), 'the canary at 50%');
      await assertCandidateAutoscaled(model, 3);
      await scaleTo(model, 5);
      const result = await resultWithin<ReleaseResult>(handle, 60_000);
      assert.equal(result.outcome.result, 'Promoted', outcomeOf(result));
      const seen = replicas.stop();
      t.diagnostic(`stable spec.replicas during the release: ${seen.join(' → ')}`);
      assert.deepEqual(seen, [3, 5], 'the only replica change on the stable is the scale to 5');
      assert.equal(await replicasOf(model), 5, "the autoscaler's count survives the promotion");
      assert.equal((await clusterState(ns, ns.name, model)).stableVersion, 'v2');
      await assertCandidateGone(model);
      assert.deepEqual(candidateHpa.stop(), ['present 3..6', 'DELETED']);
    },
  );

  it(
    'a promotion keeps replicas Slipway itself set and still owns (the hand-over), never resetting them',
    { timeout: 140_000 },
    async (t) => {
      const model = 'hpa-owned';
      // serving.replicas 3 under an HPA of 3..6: nothing to enforce, so `slipway` still owns spec.replicas.
      await autoscaledStable(model, 3, 3, 6);
      const live = await readDeployment(model);
      assert.ok(live && slipwayOwnsReplicas(live), 'precondition: Slipway owns the stable replicas');
      const replicas = await recordReplicas(t, model);
      const result = await resultWithin<ReleaseResult>(
        await start({ model, version: 'v2', steps: [{ weight: 50, hold: '2s' }] }),
        60_000,
      );
      assert.equal(result.outcome.result, 'Promoted', outcomeOf(result));
      // A reset would have happened before Promoted; give the watch a moment to deliver it.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const seen = replicas.stop();
      t.diagnostic(`stable spec.replicas during the release: ${seen.join(' → ')}`);
      assert.deepEqual(seen, [3], 'no replica change at all');
      const after = await readDeployment(model);
      assert.ok(after && !slipwayOwnsReplicas(after), 'Slipway no longer owns the replicas');
      assert.ok(
        after.metadata?.managedFields?.some((f) => f.manager === HANDOVER_FIELD_MANAGER),
        'the hand-over manager holds them until the autoscaler scales',
      );
      await assertCandidateGone(model);
    },
  );

  it(
    'serving.replicas under an HPA is refused in build, naming the HPA; nothing changes',
    { timeout: 140_000 },
    async () => {
      const model = 'hpa-refused';
      await autoscaledStable(model, 2, 3, 6);
      const before = await readDeployment(model);
      const result = await released({ model, version: 'v2', replicas: 4 }, 'RolledBack');
      assert.equal(result.outcome.failureType, 'DryRunFailed', outcomeOf(result));
      assert.match(
        result.outcome.reason,
        /^serving\.replicas: Deployment \S+\/hpa-refused is scaled by HorizontalPodAutoscaler hpa-refused, 3\.\.6 replicas: leave serving\.replicas out/,
      );
      const after = await readDeployment(model);
      assert.deepEqual(after?.spec, before?.spec, 'the stable is as it was');
      await assertCandidateGone(model);
    },
  );

  it(
    "a rollback removes the candidate's HPA and leaves the stable's replicas as the autoscaler set them",
    { timeout: 140_000 },
    async (t) => {
      const model = 'hpa-rollback';
      await autoscaledStable(model, 2, 3, 6);
      const replicas = await recordReplicas(t, model);
      const candidateHpa = await recordCandidateHpa(t, model);
      const result = await released(
        {
          model,
          version: 'v2',
          annotations: { 'sim.slipway.dev/error-rate': '0.5' },
          steps: [{ weight: 50, hold: '30s' }],
        },
        'RolledBack',
      );
      assert.equal(result.outcome.failureType, 'GateFailed', outcomeOf(result));
      const seen = replicas.stop();
      t.diagnostic(`stable spec.replicas during the release: ${seen.join(' → ')}`);
      assert.deepEqual(seen, [3], 'the stable keeps the 3 replicas its HPA set');
      assert.equal((await clusterState(ns, ns.name, model)).stableVersion, 'v1');
      await assertCandidateGone(model);
      assert.deepEqual(candidateHpa.stop(), ['present 3..6', 'DELETED']);
    },
  );

  it('the hand-over: an apply without the replicas Slipway owned keeps them (and without the hand-over, resets them to 1)', async () => {
    const clients = createKubernetesClients(ns.kc);
    const spec = (model: string) =>
      ReleaseSpec.parse(releaseSpec({ namespace: ns.name, model, version: 'v1' }));
    const owned = async (model: string) => {
      await deployStable(clients, spec(model), { releaseId: 'r1', replicas: 4 });
      const live = await readDeployment(model);
      assert.ok(live && slipwayOwnsReplicas(live), `Slipway owns the replicas of ${model}`);
      assert.equal(live.spec?.replicas, 4);
    };

    // The hazard, on this apiserver: Slipway's apply without replicas, and no hand-over.
    await owned('handover-control');
    await serverSideApply(
      clients,
      renderDeployment(spec('handover-control'), { track: 'stable', replicas: undefined, releaseId: 'r2' }),
    );
    assert.equal(
      await replicasOf('handover-control'),
      1,
      'without the hand-over the replicas fall back to 1',
    );

    // deployStable with replicas left to an autoscaler hands them over first.
    await owned('handover');
    await deployStable(clients, spec('handover'), { releaseId: 'r2', replicas: undefined });
    assert.equal(await replicasOf('handover'), 4, 'the replicas stay');
    const live = await readDeployment('handover');
    assert.ok(live && !slipwayOwnsReplicas(live), 'Slipway let go of them');
    // Run again (a retried activity): still nothing changes.
    await deployStable(clients, spec('handover'), { releaseId: 'r2', replicas: undefined });
    assert.equal(await replicasOf('handover'), 4);
  });
});
