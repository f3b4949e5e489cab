// Model-quality scores kept with the stable version: recorded on the stable Deployment by
// deployStable, read back by captureStableState, put back by restoreStable — on the real apiserver.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createKubernetesClients } from '../../activities/kubernetes/clients.ts';
import { createKubernetesActivities } from '../../activities/kubernetes/activities.ts';
import { ANNOTATION_QUALITY_SCORES } from '../../activities/kubernetes/labels.ts';
import { ReleaseSpec } from '../../workflows/spec/index.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { releaseSpec } from '../helpers/release-fixtures.ts';

let ns: TestNamespace;
before(async () => {
  ns = await createTestNamespace('quality-scores');
});
after(async () => {
  await ns?.delete();
});

describe("quality scores on the stable Deployment's pods", () => {
  it('are recorded, read back, replaced by the next version and restored on rollback', async () => {
    const kube = createKubernetesActivities(createKubernetesClients(ns.kc));
    const v1 = ReleaseSpec.parse(releaseSpec({ namespace: ns.name, model: 'scored', version: 'v1' }));
    const v2 = ReleaseSpec.parse(releaseSpec({ namespace: ns.name, model: 'scored', version: 'v2' }));
    const annotation = async () =>
      (await ns.apps.readNamespacedDeployment({ name: 'scored', namespace: ns.name })).spec?.template.metadata
        ?.annotations?.[ANNOTATION_QUALITY_SCORES];

    await kube.deployStable({
      releaseId: 'r1',
      spec: v1,
      autoscaled: false,
      qualityScores: { accuracy: 0.93, f1: 0.88 },
    });
    assert.equal(await annotation(), '{"accuracy":0.93,"f1":0.88}');
    const snapshot = await kube.captureStableState({ spec: v2 });
    assert.deepEqual(snapshot.qualityScores, { accuracy: 0.93, f1: 0.88 });

    // v2 is promoted without build gates: v1's scores do not describe it, so they go.
    await kube.deployStable({ releaseId: 'r2', spec: v2, autoscaled: false });
    assert.equal(await annotation(), undefined);
    assert.equal((await kube.captureStableState({ spec: v2 })).qualityScores, undefined);

    // Rolling v2 back restores v1 and its scores exactly.
    await kube.restoreStable({ spec: v2, snapshot });
    assert.equal(await annotation(), '{"accuracy":0.93,"f1":0.88}');
    assert.equal((await kube.captureStableState({ spec: v2 })).version, 'v1');
  });

  it('an annotation someone edited into nonsense is ignored, not fatal', async () => {
    const kube = createKubernetesActivities(createKubernetesClients(ns.kc));
    const spec = ReleaseSpec.parse(releaseSpec({ namespace: ns.name, model: 'edited', version: 'v1' }));
    await kube.deployStable({ releaseId: 'r1', spec, autoscaled: false, qualityScores: { accuracy: 0.9 } });
    await ns.apps.patchNamespacedDeployment({
      name: 'edited',
      namespace: ns.name,
      body: [
        {
          op: 'replace',
          path: `/spec/template/metadata/annotations/${ANNOTATION_QUALITY_SCORES.replace('/', '~1')}`,
          value: '{"accuracy":"high"',
        },
      ],
    });
    const snapshot = await kube.captureStableState({ spec });
    assert.equal(snapshot.exists, true);
    assert.equal(snapshot.qualityScores, undefined);
  });
});
