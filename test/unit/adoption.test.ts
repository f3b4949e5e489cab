// Adopting an existing Deployment (serving.deploymentRef): the schema's rules, and the pure
// rendering of the candidate and of the promotion over the live template.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import {
  changesNothing,
  overlayTemplate,
  renderAdoptedCandidate,
  renderAdoptedPromotion,
  templateHash,
  type AdoptedBase,
} from '../../activities/kubernetes/adopted-manifests.ts';
import { ReleaseSpec, replicasToApply, type ReleaseSpecInput } from '../../workflows/spec/index.ts';
import { issuePaths, messages } from './spec-fixtures.ts';

/** What `helm install` made: its own labels and selector, a sidecar, a Secret in env. */
function helmTemplate(): V1PodTemplateSpec {
  return {
    metadata: {
      labels: { 'app.kubernetes.io/instance': 'prod', app: 'fraud' },
      annotations: { team: 'risk' },
    },
    spec: {
      serviceAccountName: 'fraud',
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      containers: [
        {
          name: 'server',
          image: 'triton:24.04',
          args: ['--model-repository=/models'],
          ports: [{ name: 'grpc', containerPort: 8001 }],
          env: [
            { name: 'LOG_LEVEL', value: 'info' },
            { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'hf', key: 'token' } } },
          ],
          resources: { requests: { cpu: '2', 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } },
        },
        { name: 'metrics-proxy', image: 'envoy:1.30' },
      ],
    },
  };
}

const base = (template = helmTemplate()): AdoptedBase => ({
  name: 'fraud',
  selector: { app: 'fraud', 'app.kubernetes.io/instance': 'prod' },
  template,
  replicas: 3,
});

function adopted(serving: Record<string, unknown> = {}): ReleaseSpecInput {
  return {
    model: 'fraud-detector',
    namespace: 'ml',
    version: 'v42',
    serving: { deploymentRef: 'fraud', image: 'triton:24.04', ...serving },
  };
}

const parse = (input: ReleaseSpecInput) => ReleaseSpec.parse(input);

describe('serving.deploymentRef: the schema', () => {
  it('keeps the adopted Deployment’s replicas unless the spec says some', () => {
    assert.equal(parse(adopted()).serving.replicas, undefined);
    assert.equal(parse(adopted({ replicas: 5 })).serving.replicas, 5);
    // Without deploymentRef an absent replicas is 1 when applied.
    const own = parse({ ...adopted(), serving: { image: 'triton:1' } });
    assert.equal(own.serving.replicas, undefined);
    assert.equal(replicasToApply(own), 1);
    assert.equal(replicasToApply(parse(adopted())), undefined);
    assert.equal(replicasToApply(parse(adopted({ replicas: 4 }))), 4);
  });

  it('refuses a template (the template is the adopted Deployment’s), at serving.template', () => {
    const spec = adopted({ template: { spec: { containers: [{ name: 'x', image: 'y' }] } } });
    assert.deepEqual(issuePaths(spec), [['serving', 'template']]);
    assert.match(messages(spec)[0]!, /pod template is fraud's own/);
  });

  it('needs an image, at serving.image', () => {
    const spec = adopted({ image: undefined });
    assert.deepEqual(issuePaths(spec), [['serving', 'image']]);
  });

  it('refuses the candidate’s own name', () => {
    const spec = adopted({ deploymentRef: 'fraud-detector-canary' });
    assert.deepEqual(issuePaths(spec), [['serving', 'deploymentRef']]);
  });

  it('refuses a deploymentRef that is not a DNS label', () => {
    assert.deepEqual(issuePaths(adopted({ deploymentRef: 'Fraud_Detector' })), [
      ['serving', 'deploymentRef'],
    ]);
  });

  it('parses its own output to the same spec', () => {
    const once = parse(adopted({ env: [{ name: 'A', value: '1' }], args: ['--x'] }));
    assert.deepEqual(parse(once as ReleaseSpecInput), once);
  });
});

describe('serving.command and serving.args', () => {
  it('fill the template’s serving container, and contradict a different list there', () => {
    const template = { spec: { containers: [{ name: 'vllm', image: 'vllm:1', args: ['--a'] }] } };
    const spec = { ...adopted(), serving: { template, args: ['--b'] } } as ReleaseSpecInput;
    assert.deepEqual(issuePaths(spec), [['serving', 'args']]);
    const same = { ...adopted(), serving: { template, args: ['--a'] } } as ReleaseSpecInput;
    assert.equal(ReleaseSpec.safeParse(same).success, true);
  });
});

describe('adopted rendering', () => {
  it('a spec matching what runs changes nothing (no rollout, no restart)', () => {
    assert.equal(changesNothing(parse(adopted()), base()), true);
    assert.equal(
      changesNothing(parse(adopted({ env: [{ name: 'LOG_LEVEL', value: 'info' }] })), base()),
      true,
    );
    // The same quantity written another way is the same value.
    assert.equal(changesNothing(parse(adopted({ resources: { requests: { cpu: '2000m' } } })), base()), true);
    assert.equal(changesNothing(parse(adopted({ image: 'triton:24.05' })), base()), false);
    assert.equal(changesNothing(parse(adopted({ args: ['--strict'] })), base()), false);
  });

  it('lays only the spec’s fields over the live template', () => {
    const spec = parse(
      adopted({
        image: 'triton:24.05',
        modelUri: 's3://m/42',
        env: [{ name: 'LOG_LEVEL', value: 'debug' }],
        resources: { requests: { memory: '8Gi' } },
        annotations: { 'example.com/build': '42' },
      }),
    );
    const template = overlayTemplate(spec, helmTemplate());
    const [server, proxy] = template.spec?.containers ?? [];
    assert.equal(server?.image, 'triton:24.05');
    assert.deepEqual(server?.args, ['--model-repository=/models']);
    assert.deepEqual(server?.env, [
      { name: 'LOG_LEVEL', value: 'debug' },
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'hf', key: 'token' } } },
      { name: 'MODEL_URI', value: 's3://m/42' },
    ]);
    assert.deepEqual(server?.resources?.requests, { cpu: '2', 'nvidia.com/gpu': '1', memory: '8Gi' });
    assert.deepEqual(proxy, { name: 'metrics-proxy', image: 'envoy:1.30' });
    assert.deepEqual(template.spec?.tolerations, helmTemplate().spec?.tolerations);
    assert.equal(template.spec?.serviceAccountName, 'fraud');
    assert.deepEqual(template.metadata?.annotations, { team: 'risk', 'example.com/build': '42' });
  });

  it('serving.container picks the serving container by name', () => {
    const spec = parse(adopted({ container: 'metrics-proxy', image: 'envoy:1.31' }));
    const [server, proxy] = overlayTemplate(spec, helmTemplate()).spec?.containers ?? [];
    assert.equal(server?.image, 'triton:24.04');
    assert.equal(proxy?.image, 'envoy:1.31');
  });

  it('the candidate carries none of the adopted selector’s labels, and Slipway’s own', () => {
    const spec = parse(adopted({ image: 'triton:24.05' }));
    const candidate = renderAdoptedCandidate(spec, base(), {
      releaseId: 'r1',
      replicas: 3,
      podAnnotations: { 'slipway.dev/version': 'v42' },
    });
    assert.equal(candidate.metadata?.name, 'fraud-detector-canary');
    const labels = candidate.spec?.template.metadata?.labels ?? {};
    assert.equal(labels.app, undefined);
    assert.equal(labels['app.kubernetes.io/instance'], undefined);
    assert.equal(labels['slipway.dev/track'], 'canary');
    assert.deepEqual(candidate.spec?.selector.matchLabels, {
      'app.kubernetes.io/name': 'fraud-detector',
      'slipway.dev/track': 'canary',
    });
    assert.equal(candidate.spec?.replicas, 3);
    assert.equal(candidate.spec?.template.spec?.serviceAccountName, 'fraud');
  });

  it('the promotion applies only the fields the spec sets', () => {
    const spec = parse(adopted({ image: 'triton:24.05', args: ['--strict'] }));
    const fields = renderAdoptedPromotion(spec, base(), {
      releaseId: 'r1',
      replicas: undefined,
      podAnnotations: { 'slipway.dev/version': 'v42' },
      annotations: {},
    });
    assert.deepEqual(fields.spec, {
      template: {
        metadata: { annotations: { 'slipway.dev/version': 'v42' } },
        spec: { containers: [{ name: 'server', image: 'triton:24.05', args: ['--strict'] }] },
      },
    });
    assert.equal(fields.metadata.name, 'fraud');
  });

  it('fingerprints a template whatever the order of its keys', () => {
    const a = helmTemplate();
    assert.equal(templateHash(a), templateHash({ spec: a.spec, metadata: a.metadata }));
    assert.match(templateHash(a), /^[0-9a-f]{16}$/);
    // `kubectl rollout restart` restarts the pods; it does not change what runs.
    const restarted = helmTemplate();
    restarted.metadata!.annotations!['kubectl.kubernetes.io/restartedAt'] = '2026-12-02T01:00:00Z';
    assert.equal(templateHash(restarted), templateHash(a));
    assert.notEqual(templateHash(a), templateHash(overlayTemplate(parse(adopted({ image: 'x:1' })), a)));
  });
});
