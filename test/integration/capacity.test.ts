// The capacity preflight against the real apiserver, kube-scheduler and KWOK nodes: a GPU pool the
// pod does not tolerate, a promotion surge that does not fit, MIG resources, and a spec that fits.
// Only the tainted A100 pool (8 GPUs per node) and the MIG node (7 × nvidia.com/mig-1g.10gb) are
// used for the refusals: no other test asks for 8 GPUs in one pod or for MIG slices, so GPUs other
// tests hold on the shared nodes cannot change the outcome.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { serverSideApply } from '../../activities/kubernetes/apply.ts';
import { createKubernetesActivities } from '../../activities/kubernetes/activities.ts';
import { createKubernetesClients, type KubernetesClients } from '../../activities/kubernetes/clients.ts';
import { renderDeployment } from '../../activities/kubernetes/manifests.ts';
import { ReleaseSpec } from '../../workflows/spec/index.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { holdGpuPools } from '../helpers/gpu-pools.ts';
import { releaseSpec } from '../helpers/release-fixtures.ts';

let ns: TestNamespace;
let clients: KubernetesClients;
let kube: ReturnType<typeof createKubernetesActivities>;
let releaseGpuPools: (() => void) | undefined;

before(async () => {
  // Its figures need the GPU pools free of other files' pods.
  releaseGpuPools = await holdGpuPools();
  ns = await createTestNamespace('cap');
  clients = createKubernetesClients(ns.kc);
  kube = createKubernetesActivities(clients);
});

after(async () => {
  await ns?.delete();
  releaseGpuPools?.();
});

function spec(
  model: string,
  o: { replicas?: number; requests: Record<string, string>; maxSurge?: number; template?: object },
) {
  const input = releaseSpec({ namespace: ns.name, model, version: 'v2' });
  return ReleaseSpec.parse({
    ...input,
    serving: {
      ...input.serving,
      replicas: o.replicas ?? 1,
      resources: { requests: o.requests },
      ...(o.maxSurge === undefined ? {} : { rollingUpdate: { maxSurge: o.maxSurge } }),
      ...(o.template ? { template: o.template } : {}),
    },
  });
}

/** Rejects with a final InsufficientCapacity whose message matches every pattern; returns the message. */
async function insufficient(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<string> {
  let message = '';
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, 'InsufficientCapacity', error.message);
    assert.equal(error.nonRetryable, true);
    message = error.message;
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
  return message;
}

async function deploymentsIn(namespace: string): Promise<string[]> {
  const list = await ns.apps.listNamespacedDeployment({ namespace });
  return list.items.map((d) => d.metadata?.name ?? '');
}

describe('capacity preflight on the real cluster', () => {
  it('the only nodes with room for the pod are a GPU pool it does not tolerate: refused, naming the taint and the numbers', async () => {
    await insufficient(
      kube.preflight({
        releaseId: 'r1',
        spec: spec('llm', { requests: { cpu: '4', 'nvidia.com/gpu': '8' } }),
      }),
      /^the release does not fit: the release needs 1 pod of \{cpu 4, nvidia\.com\/gpu 8\} at its peak \(1 stable \(first release\)\); 0 fit: /,
      /nodes with free nvidia\.com\/gpu are tainted nvidia\.com\/gpu=present:NoSchedule, which the pod does not tolerate \(kwok-a100-0, kwok-a100-1\)/,
      /nodes the pod may use \([^)]*kwok-gpu-0, kwok-gpu-1[^)]*\) have \d+ nvidia\.com\/gpu free/,
    );
    assert.deepEqual(await deploymentsIn(ns.name), [], 'a refused preflight applies nothing');
  });

  it('a MIG slice fits on the MIG node; more slices than it has are refused, named', async () => {
    const fits = await kube.preflight({
      releaseId: 'r1',
      spec: spec('mig-small', { replicas: 2, requests: { cpu: '1', 'nvidia.com/mig-1g.10gb': '3' } }),
    });
    assert.equal(fits.capacity.fits, true);
    assert.equal(fits.capacity.placeablePods, 2);
    await insufficient(
      kube.preflight({
        releaseId: 'r1',
        spec: spec('mig-large', { replicas: 2, requests: { cpu: '1', 'nvidia.com/mig-1g.10gb': '4' } }),
      }),
      /the release needs 2 pods of \{cpu 1, nvidia\.com\/mig-1g\.10gb 4\} at its peak \(2 stable \(first release\)\); 1 fit: nodes the pod may use \(kwok-mig-0\) have 7 nvidia\.com\/mig-1g\.10gb free$/,
    );
    assert.deepEqual(await deploymentsIn(ns.name), []);
  });

  it('the candidate fits but the promotion surge does not: refused, naming the surge; the promotion re-check alone fits', async () => {
    // A running stable of 3 pods holds 3 of the MIG node's 7 slices: 4 are left.
    const s = (maxSurge: number) =>
      spec('surge', { replicas: 3, requests: { cpu: '1', 'nvidia.com/mig-1g.10gb': '1' }, maxSurge });
    await serverSideApply(clients, renderDeployment(s(1), { track: 'stable', replicas: 3, releaseId: 'r0' }));
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const pods = await ns.core.listNamespacedPod({ namespace: ns.name });
        if (pods.items.filter((p) => p.spec?.nodeName === 'kwok-mig-0').length === 3) break;
        assert.ok(Date.now() < deadline, 'the stable pods were not scheduled on kwok-mig-0 in 30 s');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // 3 candidate + 1 surge = 4: fits exactly.
      assert.equal((await kube.preflight({ releaseId: 'r1', spec: s(1) })).capacity.fits, true);
      // 3 candidate + 2 surge = 5 > 4.
      await insufficient(
        kube.preflight({ releaseId: 'r1', spec: s(2) }),
        /the release needs 5 pods of \{cpu 1, nvidia\.com\/mig-1g\.10gb 1\} at its peak \(3 candidate \+ 2 promotion surge\); 4 fit: nodes the pod may use \(kwok-mig-0\) have 4 nvidia\.com\/mig-1g\.10gb free$/,
      );
      // Before the promotion the candidate runs already: the re-check counts the surge alone.
      const promotion = await kube.checkCapacity({ spec: s(2), phase: 'promotion' });
      assert.equal(promotion.fits, true);
      assert.equal(promotion.wantedPods, 2);
      await insufficient(
        kube.checkCapacity({ spec: s(5), phase: 'promotion' }),
        /^the promotion does not fit: the release needs 5 pods of .* for the promotion \(5 promotion surge\); 4 fit: /,
      );
    } finally {
      await ns.apps.deleteNamespacedDeployment({ name: 'surge', namespace: ns.name }).catch(() => undefined);
    }
  });

  it('a pod template that tolerates the A100 pool and selects it fits there, up to its 16 GPUs', async () => {
    const template = {
      spec: {
        nodeSelector: { 'slipway.dev/pool': 'gpu-a100' },
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      },
    };
    const a100 = (replicas: number) =>
      spec(`a100-${replicas}`, { replicas, requests: { cpu: '8', 'nvidia.com/gpu': '8' }, template });
    assert.equal((await kube.preflight({ releaseId: 'r1', spec: a100(2) })).capacity.placeablePods, 2);
    await insufficient(
      kube.preflight({ releaseId: 'r1', spec: a100(3) }),
      /the release needs 3 pods of \{cpu 8, nvidia\.com\/gpu 8\} at its peak \(3 stable \(first release\)\); 2 fit: nodes the pod may use \(kwok-a100-0, kwok-a100-1\) have 16 nvidia\.com\/gpu free$/,
    );
  });

  it('a spec that fits passes', async () => {
    const result = await kube.preflight({
      releaseId: 'r1',
      spec: spec('fits', { replicas: 2, requests: { cpu: '500m', memory: '1Gi' } }),
    });
    assert.equal(result.capacity.fits, true);
    assert.deepEqual(result.capacity.reasons, []);
  });
});
