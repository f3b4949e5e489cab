// serving.template: a full PodTemplateSpec passed through to both tracks, the shorthand fields
// filling its serving container, Slipway's own labels, annotations, replicas and strategy refused
// inside it, and the shipped examples (vLLM, Triton with a model repository) rendered field by field.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { renderDeployment } from '../../activities/kubernetes/manifests.ts';
import { formatIssuePath, ReleaseSpec } from '../../workflows/spec/index.ts';

const base = { model: 'llm', namespace: 'ml-serving', version: 'v1' } as const;

function withServing(serving: Record<string, unknown>): unknown {
  return { ...base, serving };
}

/** `path: message` of every issue (fails when the spec parses). */
function issues(input: unknown): string[] {
  const result = ReleaseSpec.safeParse(input);
  if (result.success) assert.fail(`expected a rejection: ${JSON.stringify(input)}`);
  return result.error.issues.map((issue) => `${formatIssuePath(issue.path)}: ${issue.message}`);
}

function render(input: unknown, track: 'stable' | 'canary' = 'canary'): V1Deployment {
  return renderDeployment(ReleaseSpec.parse(input), { track, replicas: 2, releaseId: 'r1' });
}

function containers(d: V1Deployment): V1Container[] {
  return d.spec!.template.spec!.containers;
}

const vllmTemplate = () => ({
  metadata: { labels: { team: 'llm' }, annotations: { 'example.com/owner': 'llm-team' } },
  spec: {
    containers: [
      { name: 'vllm', args: ['--model=m'], volumeMounts: [{ name: 'dshm', mountPath: '/dev/shm' }] },
      { name: 'metrics-proxy', image: 'proxy:1', ports: [{ name: 'metrics', containerPort: 9090 }] },
    ],
    volumes: [{ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } }],
  },
});

describe('serving.template: accepted and rendered', () => {
  it('passes the template through to both tracks, with Slipway labels and the shorthand in the serving container', () => {
    const spec = withServing({
      image: 'vllm/vllm-openai:v0.6.3',
      resources: { requests: { 'nvidia.com/gpu': 1 } },
      env: [{ name: 'LOG_LEVEL', value: 'info' }],
      labels: { tier: 'gpu' },
      template: vllmTemplate(),
    });
    for (const track of ['stable', 'canary'] as const) {
      const d = render(spec, track);
      const pod = d.spec!.template;
      assert.deepEqual(pod.metadata?.labels, {
        team: 'llm',
        tier: 'gpu',
        'app.kubernetes.io/name': 'llm',
        'slipway.dev/track': track,
        'app.kubernetes.io/version': 'v1',
        'app.kubernetes.io/managed-by': 'slipway',
      });
      // Slipway's own annotations are the pods' (a `rollout undo` takes them back with the template).
      assert.deepEqual(pod.metadata?.annotations, {
        'example.com/owner': 'llm-team',
        'slipway.dev/version': 'v1',
        'slipway.dev/release': 'r1',
      });
      assert.deepEqual(pod.spec?.volumes, vllmTemplate().spec.volumes);
      const [vllm, proxy] = containers(d);
      assert.equal(vllm?.name, 'vllm');
      assert.equal(vllm?.image, 'vllm/vllm-openai:v0.6.3');
      assert.deepEqual(vllm?.args, ['--model=m']);
      assert.deepEqual(vllm?.ports, [{ name: 'http', containerPort: 8000 }]);
      assert.deepEqual(vllm?.resources, {
        requests: { 'nvidia.com/gpu': '1' },
        limits: { 'nvidia.com/gpu': '1' },
      });
      assert.deepEqual(
        vllm?.env?.map((e) => e.name),
        ['MODEL_NAME', 'MODEL_VERSION', 'LOG_LEVEL'],
      );
      assert.deepEqual(proxy, vllmTemplate().spec.containers[1], 'other containers pass through untouched');
    }
  });

  it('serving.container picks the serving container; a template without containers gets model-server', () => {
    const d = render(withServing({ image: 'proxy:1', container: 'metrics-proxy', template: vllmTemplate() }));
    assert.equal(containers(d)[1]?.name, 'metrics-proxy');
    assert.deepEqual(
      containers(d)[1]?.env?.map((e) => e.name),
      ['MODEL_NAME', 'MODEL_VERSION'],
    );
    assert.deepEqual(containers(d)[1]?.ports, [
      { name: 'http', containerPort: 8000 },
      { name: 'metrics', containerPort: 9090 },
    ]);
    assert.equal(containers(d)[0]?.image, undefined, 'the other container is not filled');
    const bare = render(withServing({ image: 'm:1', template: { spec: { nodeSelector: { pool: 'gpu' } } } }));
    assert.deepEqual(
      containers(bare).map((c) => [c.name, c.image]),
      [['model-server', 'm:1']],
    );
    assert.deepEqual(bare.spec!.template.spec!.nodeSelector, { pool: 'gpu' });
  });

  it('takes image, port and resources from the template; the parsed spec shows them and re-parses to itself', () => {
    const input = withServing({
      template: {
        spec: {
          containers: [
            {
              name: 'triton',
              image: 'nvcr.io/nvidia/tritonserver:24.05-py3',
              ports: [{ name: 'http', containerPort: 9000 }],
              resources: { requests: { cpu: 2, 'nvidia.com/gpu': 1 }, claims: [{ name: 'gpu' }] },
              env: [{ name: 'MODEL_URI', value: 's3://m' }],
            },
          ],
        },
      },
      resources: { requests: { memory: '8Gi' } },
      modelUri: 's3://m',
    });
    const spec = ReleaseSpec.parse(input);
    assert.equal(spec.serving.image, 'nvcr.io/nvidia/tritonserver:24.05-py3');
    assert.equal(spec.serving.port, 9000);
    assert.deepEqual(spec.serving.resources, {
      requests: { cpu: '2', 'nvidia.com/gpu': '1', memory: '8Gi' },
    });
    assert.deepEqual(ReleaseSpec.parse(spec), spec);
    const [triton] = containers(render(input));
    assert.deepEqual(triton?.ports, [{ name: 'http', containerPort: 9000 }]);
    assert.deepEqual(triton?.resources, {
      claims: [{ name: 'gpu' }],
      requests: { cpu: '2', 'nvidia.com/gpu': '1', memory: '8Gi' },
      limits: { 'nvidia.com/gpu': '1' },
    });
    assert.deepEqual(
      triton?.env?.filter((e) => e.name === 'MODEL_URI'),
      [{ name: 'MODEL_URI', value: 's3://m' }],
      'the same value twice is set once',
    );
  });

  it('the same value in the shorthand and the template is fine', () => {
    const spec = withServing({
      image: 'm:1',
      port: 8080,
      env: [{ name: 'A', value: '1' }],
      labels: { team: 'x' },
      probes: { readiness: { httpGet: { path: '/ready' } } },
      template: {
        metadata: { labels: { team: 'x' } },
        spec: {
          containers: [
            {
              name: 'server',
              image: 'm:1',
              ports: [{ name: 'http', containerPort: 8080 }],
              env: [{ name: 'A', value: '1' }],
              readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
            },
          ],
        },
      },
    });
    const [server] = containers(render(spec));
    assert.deepEqual(server?.readinessProbe, { httpGet: { path: '/ready', port: 'http' } });
    assert.deepEqual(
      server?.env?.map((e) => e.name),
      ['MODEL_NAME', 'MODEL_VERSION', 'A'],
    );
  });

  it('passes unknown keys of the template and of its spec through (the dry-run judges them)', () => {
    const d = render(
      withServing({
        image: 'm:1',
        template: { spec: { hostIPC: false, dnsPolicy: 'ClusterFirst' }, extra: 1 },
      }),
    );
    assert.equal(d.spec!.template.spec!.dnsPolicy, 'ClusterFirst');
    assert.equal((d.spec!.template as unknown as Record<string, unknown>).extra, 1);
  });

  it('accepts init containers, sidecars and the rest of a PodSpec', () => {
    const spec = ReleaseSpec.parse(
      withServing({
        image: 'm:1',
        template: {
          spec: {
            initContainers: [
              { name: 'fetch', image: 'fetch:1', volumeMounts: [{ name: 'repo', mountPath: '/models' }] },
              { name: 'sidecar', image: 'envoy:1', restartPolicy: 'Always' },
            ],
            containers: [{ name: 'server', volumeMounts: [{ name: 'repo', mountPath: '/models' }] }],
            volumes: [{ name: 'repo', emptyDir: {} }],
            serviceAccountName: 'model-reader',
            imagePullSecrets: [{ name: 'registry' }],
            runtimeClassName: 'nvidia',
            priorityClassName: 'inference',
            securityContext: { runAsNonRoot: true, fsGroup: 1000 },
            terminationGracePeriodSeconds: 120,
            affinity: { nodeAffinity: {} },
            topologySpreadConstraints: [
              { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' },
            ],
          },
        },
      }),
    );
    assert.equal(spec.serving.template?.spec?.initContainers?.[1]?.restartPolicy, 'Always');
  });
});

describe('serving.template: refused, with the path', () => {
  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    [
      'a wrong type in the template',
      { image: 'm:1', template: { spec: { containers: [{ name: 'a', args: '--model=m' }] } } },
      ['serving.template.spec.containers[0].args: Invalid input: expected array, received string'],
    ],
    [
      'tolerations that are not a list',
      { image: 'm:1', template: { spec: { tolerations: { key: 'x' } } } },
      ['serving.template.spec.tolerations: Invalid input: expected array, received object'],
    ],
    [
      'a Slipway-owned label',
      { image: 'm:1', template: { metadata: { labels: { 'slipway.dev/track': 'stable' } } } },
      ['serving.template.metadata.labels["slipway.dev/track"]: slipway.dev/track is set by Slipway'],
    ],
    [
      'a Slipway annotation',
      { image: 'm:1', template: { metadata: { annotations: { 'slipway.dev/release': 'x' } } } },
      [
        'serving.template.metadata.annotations["slipway.dev/release"]: slipway.dev/* annotations are set by Slipway',
      ],
    ],
    [
      'replicas in the template',
      { image: 'm:1', template: { spec: { replicas: 3 } } },
      [
        'serving.template.spec.replicas: replicas is set by Slipway (serving.replicas), not in the pod template',
      ],
    ],
    [
      'strategy in the template',
      { image: 'm:1', template: { strategy: { type: 'Recreate' } } },
      [
        'serving.template.strategy: strategy is set by Slipway (serving.rollingUpdate), not in the pod template',
      ],
    ],
    [
      'a volumeMount naming no volume',
      {
        image: 'm:1',
        template: {
          spec: { containers: [{ name: 'a', volumeMounts: [{ name: 'dshm', mountPath: '/dev/shm' }] }] },
        },
      },
      [
        'serving.template.spec.containers[0].volumeMounts[0].name: no volume named dshm in serving.template.spec.volumes',
      ],
    ],
    [
      'duplicate container names (init and main)',
      {
        image: 'm:1',
        template: { spec: { initContainers: [{ name: 'a', image: 'i:1' }], containers: [{ name: 'a' }] } },
      },
      ['serving.template.spec.containers[0].name: container name a is used twice in the pod'],
    ],
    [
      'a container name that is not a DNS label',
      { image: 'm:1', template: { spec: { containers: [{ name: 'Model_Server' }] } } },
      [
        'serving.template.spec.containers[0].name: must be a DNS-1123 label: lower-case letters, digits and -, starting and ending alphanumeric',
      ],
    ],
    [
      'an image that is none',
      { template: { spec: { containers: [{ name: 'a', image: 'Not An Image' }] } } },
      [
        'serving.template.spec.containers[0].image: must be an image reference such as registry.example.com/team/server:1.2 (lower-case path, no spaces)',
      ],
    ],
    [
      'an int32 field out of range',
      {
        image: 'm:1',
        template: { spec: { containers: [{ name: 'a', startupProbe: { failureThreshold: 2 ** 31 } }] } },
      },
      [
        'serving.template.spec.containers[0].startupProbe.failureThreshold: must be a whole number from 1 to 2147483647',
      ],
    ],
    [
      'an integer beyond int32 in a field Slipway does not type',
      {
        image: 'm:1',
        template: { spec: { volumes: [{ name: 'v', emptyDir: { sizeLimit: 17179869184 } }] } },
      },
      [
        'serving.template.spec.volumes[0].emptyDir.sizeLimit: 17179869184 is beyond ±2147483647, the most a Kubernetes int32 field takes (the apiserver answers a larger one with an internal error); write a quantity as a string such as 16Gi',
      ],
    ],
    [
      'serving.container naming no container',
      { image: 'm:1', container: 'vllm', template: { spec: { containers: [{ name: 'triton' }] } } },
      ['serving.container: no container named vllm in serving.template.spec.containers (triton)'],
    ],
    [
      'no image anywhere',
      { template: { spec: { containers: [{ name: 'a' }] } } },
      ['serving.image: an image is required (here or as serving.template.spec.containers[0].image)'],
    ],
    [
      'a contradicting image',
      { image: 'm:1', template: { spec: { containers: [{ name: 'a', image: 'm:2' }] } } },
      [
        'serving.image: contradicts serving.template.spec.containers[0].image (m:2 ≠ m:1): set it once, or to the same value',
      ],
    ],
    [
      'a contradicting port',
      {
        image: 'm:1',
        port: 8000,
        template: { spec: { containers: [{ name: 'a', ports: [{ name: 'http', containerPort: 9000 }] }] } },
      },
      [
        'serving.port: contradicts serving.template.spec.containers[0].ports[0].containerPort (9000 ≠ 8000): set it once, or to the same value',
      ],
    ],
    [
      'the serving port under another name',
      {
        image: 'm:1',
        template: { spec: { containers: [{ name: 'a', ports: [{ name: 'api', containerPort: 8000 }] }] } },
      },
      [
        'serving.template.spec.containers[0].ports[0].name: port 8000 is the serving port: name it http (the Services target the port named http)',
      ],
    ],
    [
      'a contradicting env value (and a Secret where the shorthand gives a value)',
      {
        image: 'm:1',
        env: [
          { name: 'A', value: '1' },
          { name: 'TOKEN', value: 'x' },
        ],
        template: {
          spec: {
            containers: [
              {
                name: 'a',
                env: [
                  { name: 'A', value: '2' },
                  { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
                ],
              },
            ],
          },
        },
      },
      [
        'serving.env[0].value: contradicts serving.template.spec.containers[0].env[0] (A is "2" there): set it once, or to the same value',
        'serving.env[1].value: contradicts serving.template.spec.containers[0].env[1] (TOKEN is valueFrom there): set it once, or to the same value',
      ],
    ],
    [
      'a contradicting resource',
      {
        image: 'm:1',
        resources: { requests: { cpu: '2' } },
        template: { spec: { containers: [{ name: 'a', resources: { requests: { cpu: '1000m' } } }] } },
      },
      [
        'serving.resources.requests.cpu: contradicts serving.template.spec.containers[0].resources.requests.cpu (1000m ≠ 2): set it once, or to the same value',
      ],
    ],
    [
      'a contradicting probe',
      {
        image: 'm:1',
        probes: { readiness: { httpGet: { path: '/ready' } } },
        template: {
          spec: { containers: [{ name: 'a', readinessProbe: { httpGet: { path: '/health', port: 8000 } } }] },
        },
      },
      [
        'serving.probes.readiness: contradicts serving.template.spec.containers[0].readinessProbe (two different probes): set it once, or to the same value',
      ],
    ],
    [
      'a contradicting label',
      { image: 'm:1', labels: { team: 'a' }, template: { metadata: { labels: { team: 'b' } } } },
      [
        'serving.labels.team: contradicts serving.template.metadata.labels.team (b ≠ a): set it once, or to the same value',
      ],
    ],
  ];
  for (const [name, serving, expected] of cases) {
    it(name, () => assert.deepEqual(issues(withServing(serving)), expected));
  }
});

describe('examples with a pod template', () => {
  interface Example {
    serving: {
      image: string;
      template: {
        spec: {
          containers: V1Container[];
          initContainers: V1Container[];
          nodeSelector: Record<string, string>;
        };
      };
    };
  }
  const load = (file: string) =>
    parseYaml(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')) as Example;

  it('examples/vllm.yaml renders the vLLM server the spec describes', () => {
    const input = load('vllm.yaml');
    const spec = ReleaseSpec.parse(input);
    assert.deepEqual(ReleaseSpec.parse(spec), spec);
    const written = input.serving.template.spec;
    for (const track of ['stable', 'canary'] as const) {
      const pod = render(input, track).spec!.template;
      const [vllm, ...others] = pod.spec!.containers;
      assert.equal(others.length, 0);
      assert.equal(vllm?.name, 'vllm');
      assert.equal(vllm?.image, input.serving.image);
      assert.deepEqual(vllm?.args, written.containers[0]?.args);
      assert.ok(vllm?.args?.some((a) => a.startsWith('--model=')));
      assert.ok(vllm?.args?.includes('--tensor-parallel-size=2'));
      assert.deepEqual(vllm?.ports, [{ name: 'http', containerPort: 8000 }]);
      assert.deepEqual(pod.spec?.volumes, [
        { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '16Gi' } },
      ]);
      assert.deepEqual(vllm?.volumeMounts, [{ name: 'dshm', mountPath: '/dev/shm' }]);
      assert.deepEqual(pod.spec?.tolerations, [
        { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
      ]);
      assert.deepEqual(pod.spec?.nodeSelector, written.nodeSelector);
      assert.deepEqual(vllm?.startupProbe, {
        httpGet: { path: '/health', port: 'http' },
        periodSeconds: 10,
        failureThreshold: 180,
      });
      assert.deepEqual(vllm?.readinessProbe, {
        httpGet: { path: '/health', port: 'http' },
        periodSeconds: 10,
      });
      assert.deepEqual(
        vllm?.env?.find((e) => e.name === 'HF_TOKEN'),
        { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token' } } },
      );
      assert.deepEqual(vllm?.resources, {
        requests: { cpu: '8', memory: '48Gi', 'nvidia.com/gpu': '2' },
        limits: { 'nvidia.com/gpu': '2' },
      });
      assert.equal(pod.spec?.terminationGracePeriodSeconds, 60);
      assert.equal(pod.metadata?.labels?.team, 'llm');
      assert.equal(pod.metadata?.labels?.['slipway.dev/track'], track);
    }
  });

  it('examples/triton-model-repo.yaml renders an init container filling the repository Triton reads', () => {
    const input = load('triton-model-repo.yaml');
    const spec = ReleaseSpec.parse(input);
    assert.deepEqual(ReleaseSpec.parse(spec), spec);
    assert.equal(
      spec.serving.image,
      'nvcr.io/nvidia/tritonserver:24.05-py3',
      'the image comes from the template',
    );
    const pod = render(input).spec!.template.spec!;
    const [fetch] = pod.initContainers ?? [];
    const [triton] = pod.containers;
    assert.deepEqual(
      fetch,
      input.serving.template.spec.initContainers[0],
      'the init container passes through',
    );
    assert.equal(pod.volumes?.[0]?.name, 'model-repository');
    assert.ok(pod.volumes?.[0]?.emptyDir);
    const repo = fetch?.volumeMounts?.find((m) => m.name === 'model-repository')?.mountPath;
    assert.equal(repo, '/models');
    assert.deepEqual(triton?.volumeMounts, [
      { name: 'model-repository', mountPath: '/models', readOnly: true },
    ]);
    assert.ok(triton?.args?.includes(`--model-repository=${repo}`));
    assert.deepEqual(triton?.ports, input.serving.template.spec.containers[0]?.ports);
    assert.deepEqual(
      triton?.env?.find((e) => e.name === 'MODEL_URI'),
      { name: 'MODEL_URI', value: 's3://models/resnet/12' },
    );
    assert.deepEqual(triton?.startupProbe, {
      httpGet: { path: '/v2/health/live', port: 'http' },
      periodSeconds: 10,
      failureThreshold: 60,
    });
    assert.deepEqual(triton?.resources?.limits, { 'nvidia.com/gpu': '1' });
  });
});
