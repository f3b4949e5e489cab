// Activities for what a release creates and leaves behind, on the real cluster: which Services and
// HTTPRoute exist before a release and their removal on a first release's rollback; the build Job
// deleted by deleteJob and by cancelling runJob; restoreStable keeping the stable's own release id;
// the separation-of-duties policy from the installation and from a namespace annotation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createKubernetesActivities } from '../../activities/kubernetes/activities.ts';
import { createKubernetesClients } from '../../activities/kubernetes/clients.ts';
import type { JobRequest } from '../../activities/kubernetes/jobs.ts';
import { ANNOTATION_RELEASE } from '../../activities/kubernetes/labels.ts';
import { createTrafficActivities } from '../../activities/traffic/activities.ts';
import { ReleaseSpec } from '../../workflows/spec/index.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { releaseSpec } from '../helpers/release-fixtures.ts';

let ns: TestNamespace;
let kube: ReturnType<typeof createKubernetesActivities>;

before(async () => {
  ns = await createTestNamespace('rel-objects');
  kube = createKubernetesActivities(createKubernetesClients(ns.kc));
});
after(async () => {
  await ns?.delete();
});

const spec = (model: string, version = 'v1') =>
  ReleaseSpec.parse(releaseSpec({ namespace: ns.name, model, version }));
const activityEnv = () => new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });

async function jobGone(name: string): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    const job = await ns.batch.readNamespacedJob({ name, namespace: ns.name }).catch(() => undefined);
    if (!job) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe('objects a release creates', { concurrency: true }, () => {
  it('releaseObjectsPresent sees exactly what exists; removeReleaseObjects deletes exactly what it is given', async () => {
    const s = spec('objs');
    assert.deepEqual(await kube.releaseObjectsPresent({ spec: s }), { services: [], route: false });
    // A Service the user made before Slipway came (it must survive the rollback).
    await ns.core.createNamespacedService({
      namespace: ns.name,
      body: { metadata: { name: 'objs' }, spec: { ports: [{ name: 'http', port: s.serving.port }] } },
    });
    const before = await kube.releaseObjectsPresent({ spec: s });
    assert.deepEqual(before, { services: ['objs'], route: false });
    await kube.ensureServices({ spec: s });
    await createTrafficActivities(createKubernetesClients(ns.kc)).resetTraffic({ spec: s }); // creates the HTTPRoute
    assert.deepEqual(await kube.releaseObjectsPresent({ spec: s }), {
      services: ['objs', 'objs-stable', 'objs-canary'],
      route: true,
    });
    // The rollback of a first release: remove what did not exist before.
    const created = { services: ['objs-stable', 'objs-canary'], route: true };
    await kube.removeReleaseObjects({ spec: s, ...created });
    await kube.removeReleaseObjects({ spec: s, ...created }); // idempotent
    assert.deepEqual(await kube.releaseObjectsPresent({ spec: s }), before);
  });

  it('removeReleaseObjects refuses names that are not the model’s Services', async () => {
    await assert.rejects(
      kube.removeReleaseObjects({ spec: spec('objs2'), services: ['kubernetes'], route: false }),
      (error: unknown) => {
        assert.ok(
          error instanceof ApplicationFailure && error.nonRetryable && error.type === 'InvalidObject',
          String(error),
        );
        return true;
      },
    );
  });
});

describe('build Jobs on abort', { concurrency: true }, () => {
  const job = (name: string): JobRequest => ({
    namespace: ns.name,
    name,
    model: 'jobs',
    version: 'v1',
    image: 'registry.example.com/build:1',
    timeoutSeconds: 120,
    // The pod runs for a minute: long enough to be cancelled while it runs.
    annotations: { 'pod-complete.stage.kwok.x-k8s.io/delay': '60s' },
  });

  it('deleteJob removes a Job and is fine when it is gone', async () => {
    await ns.batch.createNamespacedJob({
      namespace: ns.name,
      body: {
        metadata: { name: 'to-delete' },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } },
      },
    });
    await kube.deleteJob({ namespace: ns.name, name: 'to-delete' });
    assert.ok(await jobGone('to-delete'));
    await kube.deleteJob({ namespace: ns.name, name: 'to-delete' });
  });

  it('cancelling runJob deletes its Job and rejects with the cancellation', async () => {
    const env = activityEnv();
    const running = env.run((request: JobRequest) => kube.runJob(request), job('cancelled-build'));
    for (
      let i = 0;
      i < 50 &&
      !(await ns.batch
        .readNamespacedJob({ name: 'cancelled-build', namespace: ns.name })
        .catch(() => undefined));
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    env.cancel();
    await assert.rejects(running, (error: unknown) => error instanceof CancelledFailure);
    assert.ok(await jobGone('cancelled-build'), 'the Job was deleted');
  });
});

describe('restoreStable', () => {
  it('puts back the release annotation of the release that made the stable version', async () => {
    const first = spec('restored', 'v1');
    await kube.deployStable({ releaseId: 'release-v1', spec: first, autoscaled: false });
    const snapshot = await kube.captureStableState({ spec: first });
    assert.equal(snapshot.releaseAnnotation, 'release-v1');
    // A failing release v2 rolls the stable track, then is rolled back.
    await kube.deployStable({ releaseId: 'release-v2', spec: spec('restored', 'v2'), autoscaled: false });
    await kube.restoreStable({ spec: spec('restored', 'v2'), snapshot });
    const restored = await ns.apps.readNamespacedDeployment({ name: 'restored', namespace: ns.name });
    assert.equal(restored.spec?.template.metadata?.annotations?.[ANNOTATION_RELEASE], 'release-v1');
    assert.equal(restored.spec?.template.metadata?.labels?.['app.kubernetes.io/version'], 'v1');
  });
});

describe('releasePolicy', { concurrency: true }, () => {
  it('separation of duties from the namespace annotation, or from the installation', async () => {
    assert.deepEqual(await kube.releasePolicy({ namespace: ns.name }), { separationOfDuties: false });
    const strict = await createTestNamespace('rel-sod');
    try {
      await strict.core.patchNamespace(
        {
          name: strict.name,
          body: { metadata: { annotations: { 'slipway.dev/separation-of-duties': 'true' } } },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      assert.deepEqual(await kube.releasePolicy({ namespace: strict.name }), { separationOfDuties: true });
    } finally {
      await strict.delete();
    }
    const installation = createKubernetesActivities(createKubernetesClients(ns.kc), {
      policy: { separationOfDuties: true },
    });
    assert.deepEqual(await installation.releasePolicy({ namespace: ns.name }), { separationOfDuties: true });
  });

  it('a namespace the worker may not read: the installation setting alone', async () => {
    // A ServiceAccount without any role: it may not get namespaces.
    await ns.core.createNamespacedServiceAccount({
      namespace: ns.name,
      body: { metadata: { name: 'blind' } },
    });
    const token = await ns.core.createNamespacedServiceAccountToken({
      name: 'blind',
      namespace: ns.name,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const cluster = ns.kc.getCurrentCluster();
    assert.ok(cluster && token.status?.token);
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'blind', token: token.status.token }],
      contexts: [{ name: 'blind', cluster: cluster.name, user: 'blind' }],
      currentContext: 'blind',
    });
    const blind = (separationOfDuties: boolean) =>
      createKubernetesActivities(createKubernetesClients(kc), { policy: { separationOfDuties } });
    assert.deepEqual(await blind(false).releasePolicy({ namespace: ns.name }), { separationOfDuties: false });
    assert.deepEqual(await blind(true).releasePolicy({ namespace: ns.name }), { separationOfDuties: true });
  });
});
