// The autoscaler logic without a cluster: the candidate HPA rendered from the stable's (a plain HPA
// and KEDA's), the candidate's size within the bounds, who owns `spec.replicas`, and the hand-over
// re-reading after a conflict instead of overwriting a scale. The real stack's behaviour is in
// test/integration/autoscalers.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApiException,
  type V1Deployment,
  type V1ManagedFieldsEntry,
  type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import {
  candidateScaling,
  HANDOVER_FIELD_MANAGER,
  handOverReplicas,
  readAutoscaler,
  renderCandidateAutoscaler,
  slipwayOwnsReplicas,
  withinBounds,
} from '../../activities/kubernetes/autoscalers.ts';
import type { KubernetesClients } from '../../activities/kubernetes/clients.ts';
import { ReleaseSpec } from '../../workflows/spec/index.ts';

const spec = (router: 'gateway-api' | 'replica-ratio' = 'gateway-api') =>
  ReleaseSpec.parse({
    model: 'fraud',
    namespace: 'team-b',
    version: 'v2',
    serving: { image: 'registry.example.com/fraud:2', replicas: 2 },
    traffic: { router },
  });

const cpu = {
  type: 'Resource',
  resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
};

function hpa(
  name: string,
  target: string,
  extra: Partial<V2HorizontalPodAutoscaler> = {},
): V2HorizontalPodAutoscaler {
  return {
    metadata: { name, namespace: 'team-b' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      minReplicas: 3,
      maxReplicas: 6,
      metrics: [cpu],
      behavior: { scaleDown: { stabilizationWindowSeconds: 120 } },
    },
    ...extra,
  };
}

const applied = (manager: string, fields: object, subresource?: string): V1ManagedFieldsEntry => ({
  manager,
  operation: subresource ? 'Update' : 'Apply',
  fieldsType: 'FieldsV1',
  fieldsV1: fields,
  ...(subresource ? { subresource } : {}),
});
const REPLICAS = { 'f:spec': { 'f:replicas': {}, 'f:template': {} } };
const TEMPLATE_ONLY = { 'f:spec': { 'f:template': {} } };

function deployment(
  replicas: number,
  resourceVersion: string,
  managedFields: V1ManagedFieldsEntry[],
): V1Deployment {
  return {
    metadata: { name: 'fraud', namespace: 'team-b', resourceVersion, managedFields },
    spec: { replicas } as V1Deployment['spec'],
  };
}

const apiError = (code: number, reason: string, message: string) =>
  new ApiException(
    code,
    'Unknown API Status Code!',
    JSON.stringify({ kind: 'Status', code, reason, message }),
    {},
  );

interface Patch {
  fieldManager: string;
  force: boolean;
  body: { metadata: { resourceVersion?: string }; spec: { replicas?: number } };
}

/** A cluster of one Deployment read in turn from `reads`; each patch answers from `answers` (an error, or fine). */
function fakeCluster(
  reads: V1Deployment[],
  answers: Array<Error | undefined> = [],
  hpas: V2HorizontalPodAutoscaler[] = [],
) {
  const patches: Patch[] = [];
  let read = 0;
  const calls: string[] = [];
  const clients = {
    apps: {
      readNamespacedDeployment: () => {
        calls.push('read deployment');
        const next = reads[Math.min(read++, reads.length - 1)];
        return next ? Promise.resolve(next) : Promise.reject(apiError(404, 'NotFound', 'not found'));
      },
      patchNamespacedDeployment: (request: Patch) => {
        patches.push(request);
        const answer = answers[patches.length - 1];
        return answer ? Promise.reject(answer) : Promise.resolve({});
      },
    },
    autoscaling: {
      listNamespacedHorizontalPodAutoscaler: () => {
        calls.push('list hpas');
        return Promise.resolve({ items: hpas });
      },
    },
  } as unknown as KubernetesClients;
  return { clients, patches, calls };
}

describe('autoscalers', () => {
  it('the candidate starts at the stable size within the HPA bounds', () => {
    const bounds = hpa('fraud', 'fraud');
    assert.equal(withinBounds(2, bounds), 3);
    assert.equal(withinBounds(5, bounds), 5);
    assert.equal(withinBounds(9, bounds), 6);
    assert.equal(
      withinBounds(0, { spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 4 } }),
      1,
    );
  });

  it('the candidate HPA copies the stable one (bounds, metrics, behavior) and targets the candidate', () => {
    const rendered = renderCandidateAutoscaler(spec(), { hpa: hpa('fraud', 'fraud') }, 'release-7');
    assert.deepEqual(rendered.metadata?.name, 'fraud-canary');
    assert.deepEqual(rendered.spec, {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'fraud-canary' },
      minReplicas: 3,
      maxReplicas: 6,
      metrics: [cpu],
      behavior: { scaleDown: { stabilizationWindowSeconds: 120 } },
    });
    assert.equal(rendered.metadata?.labels?.['app.kubernetes.io/managed-by'], 'slipway');
    assert.equal(rendered.metadata?.labels?.['slipway.dev/track'], 'canary');
    assert.equal(rendered.metadata?.annotations?.['slipway.dev/release'], 'release-7');
  });

  it("KEDA's HPA counts, and the copy says which ScaledObject it came from", async () => {
    const keda = hpa('keda-hpa-fraud', 'fraud', {
      metadata: {
        name: 'keda-hpa-fraud',
        ownerReferences: [{ apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', name: 'fraud', uid: 'u1' }],
      },
    });
    const { clients } = fakeCluster([], [], [hpa('other', 'someone-else'), keda]);
    const found = await readAutoscaler(clients, 'team-b', 'fraud');
    assert.ok(found, "KEDA's HPA is the stable's autoscaler");
    assert.equal(found.ownedBy, 'ScaledObject fraud');
    const rendered = renderCandidateAutoscaler(spec(), found, 'r');
    assert.equal(
      rendered.metadata?.annotations?.['slipway.dev/copied-from'],
      'keda-hpa-fraud (owned by ScaledObject fraud)',
    );
  });

  it('a worker that may not list HPAs sees none', async () => {
    const clients = {
      autoscaling: {
        listNamespacedHorizontalPodAutoscaler: () => Promise.reject(apiError(403, 'Forbidden', 'forbidden')),
      },
    } as unknown as KubernetesClients;
    assert.equal(await readAutoscaler(clients, 'team-b', 'fraud'), undefined);
  });

  it('replica-ratio gets no candidate HPA and asks the cluster nothing', async () => {
    const { clients, calls } = fakeCluster([], [], [hpa('fraud', 'fraud')]);
    assert.deepEqual(await candidateScaling(clients, spec('replica-ratio'), 0), { replicas: 0 });
    assert.deepEqual(calls, []);
  });

  it('who owns spec.replicas: only an apply by slipway counts', () => {
    assert.equal(slipwayOwnsReplicas(deployment(3, '1', [applied('slipway', REPLICAS)])), true);
    assert.equal(slipwayOwnsReplicas(deployment(3, '1', [applied('slipway', TEMPLATE_ONLY)])), false);
    // replica-ratio's scale through /scale is an update, which an apply without replicas does not drop.
    assert.equal(slipwayOwnsReplicas(deployment(3, '1', [applied('slipway', REPLICAS, 'scale')])), false);
    assert.equal(
      slipwayOwnsReplicas(deployment(3, '1', [applied('horizontal-pod-autoscaler', REPLICAS, 'scale')])),
      false,
    );
  });

  it('the hand-over applies only the live replicas, conditionally, as its own manager, without force', async () => {
    const { clients, patches } = fakeCluster([deployment(3, '41', [applied('slipway', REPLICAS)])]);
    await handOverReplicas(clients, 'team-b', 'fraud');
    assert.equal(patches.length, 1);
    const [patch] = patches;
    assert.equal(patch?.fieldManager, HANDOVER_FIELD_MANAGER);
    assert.equal(patch?.force, false);
    assert.deepEqual(patch?.body.spec, { replicas: 3 });
    assert.equal(patch?.body.metadata.resourceVersion, '41');
  });

  it('a scale between the read and the hand-over is a conflict: read again, never overwritten', async () => {
    const { clients, patches } = fakeCluster(
      [
        deployment(3, '41', [applied('slipway', REPLICAS)]),
        deployment(4, '42', [applied('slipway', REPLICAS)]),
      ],
      [apiError(409, 'Conflict', 'the object has been modified')],
    );
    await handOverReplicas(clients, 'team-b', 'fraud');
    assert.deepEqual(
      patches.map((p) => [p.body.spec.replicas, p.body.metadata.resourceVersion]),
      [
        [3, '41'],
        [4, '42'],
      ],
    );
  });

  it('nothing to hand over: no Deployment, or replicas Slipway does not own', async () => {
    const none = fakeCluster([]);
    await handOverReplicas(none.clients, 'team-b', 'fraud');
    const scaled = fakeCluster([
      deployment(5, '9', [
        applied('slipway', TEMPLATE_ONLY),
        applied('kube-controller-manager', REPLICAS, 'scale'),
      ]),
    ]);
    await handOverReplicas(scaled.clients, 'team-b', 'fraud');
    assert.equal(none.patches.length + scaled.patches.length, 0);
  });

  it('a hand-over the worker may not make is one final sentence', async () => {
    const { clients } = fakeCluster(
      [deployment(3, '1', [applied('slipway', REPLICAS)])],
      [
        apiError(
          403,
          'Forbidden',
          'deployments.apps "fraud" is forbidden: User "w" cannot patch resource "deployments" in API group "apps" in the namespace "team-b"',
        ),
      ],
    );
    await assert.rejects(handOverReplicas(clients, 'team-b', 'fraud'), (error: unknown) => {
      assert.ok(
        error instanceof ApplicationFailure && error.nonRetryable && error.type === 'Forbidden',
        String(error),
      );
      assert.match(error.message, /^Slipway may not patch deployments in namespace team-b \(RBAC\)/);
      return true;
    });
  });
});
