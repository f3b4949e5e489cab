// Pure parts of the activities: rendering, rollout status, capacity, quantities, templating, routers' maths.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment, V1Node, V1Pod } from '@kubernetes/client-node';
import { checkCapacity } from '../../activities/kubernetes/capacity.ts';
import { renderDeployment, renderHttpRoute, renderResources } from '../../activities/kubernetes/manifests.ts';
import { rolloutState, unreadyPodReasons } from '../../activities/kubernetes/rollout-status.ts';
import { escapePromQLString, renderTemplate } from '../../activities/gates/template.ts';
import { candidateReplicasFor } from '../../activities/traffic/replica-ratio.ts';
import { quantityValue as parseQuantity, ReleaseSpec } from '../../workflows/spec/index.ts';

const spec = ReleaseSpec.parse({
  model: 'fraud-detector',
  namespace: 'ml-serving',
  version: 'v42',
  serving: {
    image: 'triton:24.05',
    replicas: 4,
    resources: { requests: { cpu: '2', 'nvidia.com/gpu': '1' } },
  },
});

describe('manifests', () => {
  it('renders the candidate Deployment with Slipway labels and a GPU limit equal to the request', () => {
    const d = renderDeployment(spec, { track: 'canary', replicas: 4, releaseId: 'r1' });
    assert.equal(d.metadata?.name, 'fraud-detector-canary');
    assert.deepEqual(d.spec?.selector.matchLabels, {
      'app.kubernetes.io/name': 'fraud-detector',
      'slipway.dev/track': 'canary',
    });
    assert.equal(d.spec?.template.metadata?.labels?.['app.kubernetes.io/version'], 'v42');
    assert.deepEqual(d.spec?.template.spec?.containers[0]?.resources, {
      requests: { cpu: '2', 'nvidia.com/gpu': '1' },
      limits: { 'nvidia.com/gpu': '1' },
    });
    assert.equal(d.spec?.replicas, 4);
    assert.equal(
      renderDeployment(spec, { track: 'stable', replicas: undefined, releaseId: 'r1' }).spec?.replicas,
      undefined,
    );
  });

  it('keeps an explicit limit and adds none for cpu', () => {
    assert.deepEqual(renderResources({ requests: { cpu: '1' }, limits: { 'nvidia.com/gpu': '2' } }), {
      requests: { cpu: '1' },
      limits: { 'nvidia.com/gpu': '2' },
    });
    assert.deepEqual(renderResources({ requests: { cpu: '1' } }), { requests: { cpu: '1' } });
  });

  it('renders route weights and a mirror only when asked', () => {
    const route = renderHttpRoute(spec, { stable: 75, canary: 25 }, 50);
    assert.deepEqual(
      route.spec.rules[0]?.backendRefs.map((b) => [b.name, b.weight]),
      [
        ['fraud-detector-stable', 75],
        ['fraud-detector-canary', 25],
      ],
    );
    assert.equal(route.spec.rules[0]?.filters?.[0]?.requestMirror.percent, 50);
    assert.equal(renderHttpRoute(spec, { stable: 100, canary: 0 }, null).spec.rules[0]?.filters, undefined);
  });
});

function deployment(status: V1Deployment['status'], generation = 2, replicas = 2): V1Deployment {
  return { metadata: { name: 'm', generation }, spec: { replicas, selector: {}, template: {} }, status };
}

describe('rollout status (kubectl rules)', () => {
  it('waits for the new generation to be observed', () => {
    assert.equal(
      rolloutState(
        deployment({ observedGeneration: 1, updatedReplicas: 2, replicas: 2, availableReplicas: 2 }),
      ).phase,
      'progressing',
    );
  });
  it('waits for old replicas to go and new ones to be available', () => {
    assert.equal(
      rolloutState(
        deployment({ observedGeneration: 2, updatedReplicas: 2, replicas: 3, availableReplicas: 2 }),
      ).phase,
      'progressing',
    );
    assert.equal(
      rolloutState(
        deployment({ observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 1 }),
      ).phase,
      'progressing',
    );
    assert.equal(
      rolloutState(
        deployment({ observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 2 }),
      ).phase,
      'complete',
    );
  });
  it('fails on ProgressDeadlineExceeded', () => {
    const s = rolloutState(
      deployment({
        observedGeneration: 2,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "m-1" has timed out progressing.',
          },
        ],
      }),
    );
    assert.equal(s.phase, 'failed');
    assert.match(s.message, /timed out progressing/);
  });
  it('explains unready pods', () => {
    const pods: V1Pod[] = [
      {
        metadata: { name: 'p1' },
        status: {
          phase: 'Pending',
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: '0/4 nodes are available: 4 Insufficient nvidia.com/gpu.',
            },
          ],
        },
      },
      {
        metadata: { name: 'p2' },
        status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
      },
    ];
    assert.deepEqual(unreadyPodReasons(pods), [
      'pod p1 (Pending): Unschedulable: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu.',
    ]);
  });
});

describe('capacity', () => {
  const node = (name: string, gpus: number): V1Node => ({
    metadata: { name },
    status: {
      allocatable: { cpu: '8', memory: '32Gi', pods: '110', 'nvidia.com/gpu': String(gpus) },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  });
  const pod = (nodeName: string, gpus: number): V1Pod => ({
    spec: {
      nodeName,
      containers: [{ name: 'c', resources: { requests: { 'nvidia.com/gpu': String(gpus) } } }],
    },
    status: { phase: 'Running' },
  });

  const oneGpu = { containers: [{ name: 'c', resources: { requests: { 'nvidia.com/gpu': '1' } } }] };
  const candidate = (pods: number) => [{ what: 'candidate', pods }];
  it('counts free GPUs per node after running pods', () => {
    const verdict = checkCapacity({
      nodes: [node('a', 4), node('b', 4)],
      pods: [pod('a', 3)],
      quotas: [],
      template: oneGpu,
      demand: candidate(5),
    });
    assert.equal(verdict.fits, true);
    const tooMany = checkCapacity({
      nodes: [node('a', 4), node('b', 4)],
      pods: [pod('a', 3)],
      quotas: [],
      template: oneGpu,
      demand: candidate(6),
    });
    assert.equal(tooMany.fits, false);
    assert.equal(tooMany.placeablePods, 5);
  });
  it('checks ResourceQuota headroom', () => {
    const verdict = checkCapacity({
      nodes: [node('a', 8)],
      pods: [],
      quotas: [
        {
          metadata: { name: 'gpu-quota' },
          status: { hard: { 'requests.nvidia.com/gpu': '4' }, used: { 'requests.nvidia.com/gpu': '2' } },
        },
      ],
      template: oneGpu,
      demand: candidate(3),
    });
    assert.equal(verdict.fits, false);
    assert.match(verdict.reasons[0] ?? '', /gpu-quota.*needs 3, 2 left of 4/);
  });
});

describe('small pure helpers', () => {
  it('parses quantities', () => {
    assert.equal(parseQuantity('500m'), 0.5);
    assert.equal(parseQuantity('8Gi'), 8 * 2 ** 30);
    assert.equal(parseQuantity('1e3'), 1000);
    assert.throws(() => parseQuantity('eight'));
  });
  it('templates queries and rejects unknown placeholders', () => {
    assert.equal(
      renderTemplate(
        'm="{{model}}",v="{{ version }}"',
        { model: 'a"b', namespace: 'n', version: 'v1', window: '30s' },
        escapePromQLString,
      ),
      'm="a\\"b",v="v1"',
    );
    assert.throws(
      () => renderTemplate('{{modle}}', { model: 'a', namespace: 'n', version: 'v', window: '30s' }),
      /modle/,
    );
  });
  it('scales the candidate for a replica-ratio share', () => {
    assert.deepEqual(
      [0, 10, 25, 50, 75, 100].map((w) => candidateReplicasFor(w, 4)),
      [0, 1, 1, 4, 12, 4],
    );
  });
});
