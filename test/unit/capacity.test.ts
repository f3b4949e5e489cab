// The capacity check as the scheduler sees it: node fit (taints, nodeSelector, affinity), the
// requests it counts, what a release runs at its peak, and the sentence a refusal says.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  V1Node,
  V1NodeSelectorTerm,
  V1Pod,
  V1PodSpec,
  V1Taint,
  V1Toleration,
} from '@kubernetes/client-node';
import { checkCapacity, formatQuantity, podsFitting } from '../../activities/kubernetes/capacity.ts';
import {
  matchesNodeSelection,
  matchesTerm,
  nodeRefusal,
  podRequests,
  tolerates,
  untoleratedTaints,
} from '../../activities/kubernetes/node-fit.ts';
import { capacityVerdict } from '../../activities/kubernetes/preflight.ts';
import { candidatePeak, releaseDemand, surgePods } from '../../activities/kubernetes/release-demand.ts';
import { ReleaseSpec } from '../../workflows/spec/index.ts';

function node(
  name: string,
  allocatable: Record<string, string>,
  o: { labels?: Record<string, string>; taints?: V1Taint[]; ready?: boolean; cordoned?: boolean } = {},
): V1Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.cordoned ? { unschedulable: true } : {}) },
    status: {
      allocatable: { pods: '110', ...allocatable },
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  };
}

function template(requests: Record<string, string>, more: Partial<V1PodSpec> = {}): V1PodSpec {
  return { containers: [{ name: 'server', resources: { requests } }], ...more };
}

function pod(nodeName: string, requests: Record<string, string>, namespace = 'other', labels = {}): V1Pod {
  return {
    metadata: { namespace, labels },
    spec: { nodeName, containers: [{ name: 'c', resources: { requests } }] },
    status: { phase: 'Running' },
  };
}

const gpuTaint: V1Taint = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' };

describe('tolerations against taints', () => {
  const cases: Array<[string, V1Toleration, V1Taint, boolean]> = [
    [
      'Equal, same key and value',
      { key: 'k', operator: 'Equal', value: 'v' },
      { key: 'k', value: 'v', effect: 'NoSchedule' },
      true,
    ],
    [
      'Equal is the default operator',
      { key: 'k', value: 'v' },
      { key: 'k', value: 'v', effect: 'NoSchedule' },
      true,
    ],
    [
      'Equal, other value',
      { key: 'k', operator: 'Equal', value: 'w' },
      { key: 'k', value: 'v', effect: 'NoSchedule' },
      false,
    ],
    [
      'Exists, any value',
      { key: 'k', operator: 'Exists' },
      { key: 'k', value: 'v', effect: 'NoExecute' },
      true,
    ],
    [
      'Exists, other key',
      { key: 'j', operator: 'Exists' },
      { key: 'k', value: 'v', effect: 'NoSchedule' },
      false,
    ],
    [
      'empty key with Exists tolerates everything',
      { operator: 'Exists' },
      { key: 'k', value: 'v', effect: 'NoExecute' },
      true,
    ],
    [
      'empty key with Equal tolerates nothing',
      { operator: 'Equal' },
      { key: 'k', value: 'v', effect: 'NoSchedule' },
      false,
    ],
    [
      'effect must match when given',
      { key: 'k', operator: 'Exists', effect: 'NoExecute' },
      { key: 'k', effect: 'NoSchedule' },
      false,
    ],
    [
      'no effect matches every effect',
      { key: 'k', operator: 'Exists' },
      { key: 'k', effect: 'NoSchedule' },
      true,
    ],
    [
      'Equal with no value matches a taint with no value',
      { key: 'k', operator: 'Equal' },
      { key: 'k', effect: 'NoSchedule' },
      true,
    ],
  ];
  for (const [name, toleration, taint, expected] of cases) {
    it(name, () => assert.equal(tolerates(toleration, taint), expected));
  }
  it('PreferNoSchedule never keeps a pod away; NoSchedule and NoExecute do unless tolerated', () => {
    const n = node(
      'n',
      {},
      {
        taints: [
          { key: 'soft', effect: 'PreferNoSchedule' },
          { key: 'hard', value: 'x', effect: 'NoSchedule' },
          { key: 'evict', effect: 'NoExecute' },
        ],
      },
    );
    assert.deepEqual(
      untoleratedTaints(n).map((t) => t.key),
      ['hard', 'evict'],
    );
    assert.deepEqual(
      untoleratedTaints(n, [{ key: 'hard', operator: 'Exists' }]).map((t) => t.key),
      ['evict'],
    );
    assert.deepEqual(untoleratedTaints(n, [{ operator: 'Exists' }]), []);
  });
});

describe('nodeSelector and required node affinity', () => {
  const n = node('gpu-3', {}, { labels: { pool: 'a100', gen: '4', zone: 'z1' } });
  const term = (t: V1NodeSelectorTerm): V1PodSpec =>
    template(
      {},
      {
        affinity: {
          nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [t] } },
        },
      },
    );
  const cases: Array<[string, V1PodSpec, boolean]> = [
    ['no selection matches', template({}), true],
    ['nodeSelector equal', template({}, { nodeSelector: { pool: 'a100' } }), true],
    ['nodeSelector other value', template({}, { nodeSelector: { pool: 'h100' } }), false],
    ['nodeSelector missing label', template({}, { nodeSelector: { rack: '1' } }), false],
    ['In', term({ matchExpressions: [{ key: 'pool', operator: 'In', values: ['h100', 'a100'] }] }), true],
    ['In, absent label', term({ matchExpressions: [{ key: 'rack', operator: 'In', values: ['1'] }] }), false],
    ['NotIn', term({ matchExpressions: [{ key: 'pool', operator: 'NotIn', values: ['a100'] }] }), false],
    [
      'NotIn, absent label matches',
      term({ matchExpressions: [{ key: 'rack', operator: 'NotIn', values: ['1'] }] }),
      true,
    ],
    ['Exists', term({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }), true],
    ['DoesNotExist', term({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }), false],
    ['Gt', term({ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['3'] }] }), true],
    ['Gt, equal', term({ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] }), false],
    ['Lt', term({ matchExpressions: [{ key: 'gen', operator: 'Lt', values: ['5'] }] }), true],
    ['Lt, not a number', term({ matchExpressions: [{ key: 'pool', operator: 'Lt', values: ['5'] }] }), false],
    [
      'matchFields metadata.name In',
      term({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['gpu-3'] }] }),
      true,
    ],
    [
      'matchFields metadata.name NotIn',
      term({ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['gpu-3'] }] }),
      false,
    ],
    [
      'expressions in a term are ANDed',
      term({
        matchExpressions: [
          { key: 'pool', operator: 'In', values: ['a100'] },
          { key: 'zone', operator: 'In', values: ['z2'] },
        ],
      }),
      false,
    ],
    ['an empty term matches nothing', term({}), false],
  ];
  for (const [name, spec, expected] of cases) {
    it(name, () => assert.equal(matchesNodeSelection(n, spec), expected));
  }
  it('terms are ORed, and nodeSelector must hold as well', () => {
    const spec = template(
      {},
      {
        nodeSelector: { zone: 'z1' },
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'pool', operator: 'In', values: ['h100'] }] },
                { matchExpressions: [{ key: 'pool', operator: 'In', values: ['a100'] }] },
              ],
            },
          },
        },
      },
    );
    assert.equal(matchesNodeSelection(n, spec), true);
    assert.equal(matchesNodeSelection(n, { ...spec, nodeSelector: { zone: 'z2' } }), false);
    assert.equal(
      matchesTerm(n, { matchFields: [{ key: 'spec.podCIDR', operator: 'In', values: ['x'] }] }),
      false,
    );
  });
  it('refusals: cordoned, NotReady, outside the selection, untolerated taint', () => {
    assert.deepEqual(nodeRefusal(node('c', {}, { cordoned: true }), template({})), { kind: 'cordoned' });
    assert.deepEqual(nodeRefusal(node('r', {}, { ready: false }), template({})), { kind: 'not-ready' });
    assert.deepEqual(nodeRefusal(n, template({}, { nodeSelector: { pool: 'x' } })), { kind: 'selection' });
    assert.deepEqual(nodeRefusal(node('t', {}, { taints: [gpuTaint] }), template({})), {
      kind: 'taint',
      taints: [gpuTaint],
    });
    assert.equal(
      nodeRefusal(
        node('t', {}, { taints: [gpuTaint] }),
        template({}, { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }] }),
      ),
      undefined,
    );
  });
});

describe('the requests the scheduler counts', () => {
  it('sums containers, takes the larger of each init container, adds sidecars and the pod', () => {
    const spec: V1PodSpec = {
      containers: [
        { name: 'a', resources: { requests: { cpu: '1', memory: '1Gi' } } },
        { name: 'b', resources: { requests: { cpu: '500m', 'nvidia.com/gpu': '1' } } },
      ],
      initContainers: [
        { name: 'download', resources: { requests: { cpu: '4', memory: '512Mi' } } },
        { name: 'proxy', restartPolicy: 'Always', resources: { requests: { cpu: '250m', memory: '256Mi' } } },
        { name: 'warm', resources: { requests: { memory: '2Gi' } } },
      ],
    };
    assert.deepEqual(podRequests(spec), {
      cpu: 4, // the download init container alone beats 1.5 + 0.25
      memory: 2 * 2 ** 30 + 256 * 2 ** 20, // warm runs beside the proxy sidecar
      'nvidia.com/gpu': 1,
      pods: 1,
    });
  });
  it('a pod without requests still takes a pod slot', () => {
    assert.deepEqual(podRequests({ containers: [{ name: 'a' }] }), { pods: 1 });
    assert.equal(podsFitting({ pods: 2 }, { pods: 1 }), 2);
  });
  it('formats quantities as people write them', () => {
    assert.equal(formatQuantity('cpu', 0.5), '500m');
    assert.equal(formatQuantity('memory', 8 * 2 ** 30), '8Gi');
    assert.equal(formatQuantity('nvidia.com/gpu', 3), '3');
  });
});

describe('what a release runs at its peak', () => {
  const spec = (o: {
    router?: string;
    replicas?: number;
    maxSurge?: number | string;
    steps?: number[];
    mode?: string;
  }) =>
    ReleaseSpec.parse({
      model: 'm',
      namespace: 'ns',
      version: 'v2',
      serving: {
        image: 'registry.example/m:2',
        replicas: o.replicas ?? 4,
        resources: { requests: { cpu: '2', 'nvidia.com/gpu': '1' } },
        ...(o.maxSurge === undefined ? {} : { rollingUpdate: { maxSurge: o.maxSurge } }),
      },
      traffic: { router: o.router ?? 'gateway-api' },
      canary: { steps: (o.steps ?? [20, 50]).map((weight) => ({ weight, hold: '1m' })) },
      ...(o.mode ? { promote: { mode: o.mode } } : {}),
    });
  const cases: Array<[string, Parameters<typeof spec>[0], number, number]> = [
    ['gateway-api: full candidate', {}, 4, 1],
    ['replica-ratio: the largest step share', { router: 'replica-ratio', steps: [20, 50] }, 4, 1],
    ['replica-ratio: 25% of 4 → 1 pod', { router: 'replica-ratio', steps: [25] }, 1, 1],
    ['surge as an int', { maxSurge: 2 }, 4, 2],
    ['surge percent rounds up', { replicas: 5, maxSurge: '30%' }, 5, 2],
    ['a 1% surge is still a pod', { maxSurge: '1%' }, 4, 1],
  ];
  for (const [name, o, candidate, surge] of cases) {
    it(name, () => {
      const s = spec(o);
      assert.equal(candidatePeak(s), candidate);
      assert.equal(surgePods(s.serving.rollingUpdate.maxSurge, s.serving.replicas ?? 1), surge);
    });
  }
  it('parts of the release, of the promotion, of a first release', () => {
    assert.equal(surgePods('0%', 4), 0);
    assert.equal(surgePods(0, 4), 0);
    assert.deepEqual(releaseDemand(spec({}), 'release'), [
      { what: 'candidate', pods: 4 },
      { what: 'promotion surge', pods: 1 },
    ]);
    assert.deepEqual(releaseDemand(spec({}), 'promotion'), [{ what: 'promotion surge', pods: 1 }]);
    assert.deepEqual(releaseDemand(spec({ mode: 'handoff' }), 'release'), [
      { what: 'candidate (full size for the handoff)', pods: 4 },
      { what: 'promotion surge', pods: 1 },
    ]);
    assert.deepEqual(releaseDemand(spec({}), 'release', false), [
      { what: 'stable (first release)', pods: 4 },
    ]);
  });

  const gpuNode = (name: string, gpus: string) => node(name, { cpu: '64', 'nvidia.com/gpu': gpus });
  const stablePod = (nodeName: string) =>
    pod(nodeName, { cpu: '2', 'nvidia.com/gpu': '1' }, 'ns', {
      'app.kubernetes.io/name': 'm',
      'slipway.dev/track': 'stable',
    });
  it('counts the candidate and the surge, names the taint the pod does not tolerate and the numbers', () => {
    const verdict = capacityVerdict(spec({}), 'release', {
      nodes: [
        gpuNode('kwok-node-0', '4'),
        gpuNode('kwok-node-1', '3'),
        { ...gpuNode('a100-0', '8'), spec: { taints: [gpuTaint] } },
      ],
      pods: [
        stablePod('kwok-node-0'),
        stablePod('kwok-node-0'),
        stablePod('kwok-node-1'),
        stablePod('kwok-node-1'),
      ],
      quotas: [],
    });
    assert.equal(verdict.fits, false);
    assert.equal(verdict.placeablePods, 3);
    assert.equal(
      verdict.reasons[0],
      'the release needs 5 pods of {cpu 2, nvidia.com/gpu 1} at its peak (4 candidate + 1 promotion surge); 3 fit: ' +
        'nodes with free nvidia.com/gpu are tainted nvidia.com/gpu=present:NoSchedule, which the pod does not tolerate (a100-0); ' +
        'nodes the pod may use (kwok-node-0, kwok-node-1) have 3 nvidia.com/gpu free',
    );
  });
  it('the promotion re-check counts only the surge; a leftover candidate is not in the way of the build', () => {
    const nodes = [gpuNode('g', '6')];
    const candidatePods = [1, 2, 3, 4].map(() =>
      pod('g', { 'nvidia.com/gpu': '1' }, 'ns', {
        'app.kubernetes.io/name': 'm',
        'slipway.dev/track': 'canary',
      }),
    );
    const read = { nodes, pods: [...candidatePods, stablePod('g')], quotas: [] };
    // The build: 4 + 1 on the 5 GPUs the stable leaves (the old candidate's pods will be replaced).
    assert.equal(capacityVerdict(spec({}), 'release', read).fits, true);
    assert.equal(capacityVerdict(spec({}), 'promotion', read).fits, true);
    const full = { ...read, pods: [...read.pods, pod('g', { 'nvidia.com/gpu': '1' })] };
    const verdict = capacityVerdict(spec({}), 'promotion', full);
    assert.equal(verdict.fits, false);
    assert.match(
      verdict.reasons[0] ?? '',
      /^the release needs 1 pod of .* for the promotion \(1 promotion surge\); 0 fit: nodes the pod may use \(g\) have 0 nvidia.com\/gpu free$/,
    );
  });
  it('a pod that tolerates the pool and selects it fits there; the quota counts the peak', () => {
    const tolerant = template(
      { 'nvidia.com/gpu': '4' },
      {
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
        nodeSelector: { 'slipway.dev/pool': 'gpu-a100' },
      },
    );
    const pool = [0, 1].map((i) =>
      node(
        `a100-${i}`,
        { 'nvidia.com/gpu': '8' },
        { labels: { 'slipway.dev/pool': 'gpu-a100' }, taints: [gpuTaint] },
      ),
    );
    const nodes = [...pool, node('plain', { 'nvidia.com/gpu': '8' })];
    const demand = [
      { what: 'candidate', pods: 3 },
      { what: 'promotion surge', pods: 1 },
    ];
    assert.equal(checkCapacity({ nodes, pods: [], quotas: [], template: tolerant, demand }).fits, true);
    const more = checkCapacity({
      nodes,
      pods: [],
      quotas: [],
      template: tolerant,
      demand: [{ what: 'candidate', pods: 5 }],
    });
    assert.equal(more.placeablePods, 4);
    assert.match(
      more.reasons[0] ?? '',
      /nodes with free nvidia.com\/gpu are outside the pod's nodeSelector and node affinity \(plain\); nodes the pod may use \(a100-0, a100-1\) have 16 nvidia.com\/gpu free/,
    );
    const quota = checkCapacity({
      nodes,
      pods: [],
      quotas: [
        { metadata: { name: 'gpus' }, status: { hard: { 'requests.nvidia.com/gpu': '12' }, used: {} } },
      ],
      template: tolerant,
      demand,
    });
    assert.deepEqual(quota.reasons, [
      'ResourceQuota gpus: requests.nvidia.com/gpu needs 16, 12 left of 12 (4 pods at its peak: 3 candidate + 1 promotion surge)',
    ]);
  });
  it('enough in total but not on one node says so', () => {
    const verdict = checkCapacity({
      nodes: [node('a', { cpu: '4', memory: '1Gi' }), node('b', { cpu: '1', memory: '8Gi' })],
      pods: [],
      quotas: [],
      template: template({ cpu: '2', memory: '4Gi' }),
      demand: [{ what: 'candidate', pods: 1 }],
    });
    assert.match(
      verdict.reasons[0] ?? '',
      /0 fit: no node has room for the whole pod: a has \{cpu 4, memory 1Gi\} free, b has \{cpu 1, memory 8Gi\} free/,
    );
  });
});
