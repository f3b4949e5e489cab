// The Secrets and ConfigMaps a pod template names, at the paths a person wrote them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { podReferences } from '../../activities/kubernetes/pod-references.ts';

describe('podReferences', () => {
  it('finds env, envFrom, volumes and projected sources in init and main containers, not optional ones', () => {
    const refs = podReferences(
      {
        initContainers: [{ name: 'pull', envFrom: [{ secretRef: { name: 's3' } }] }],
        containers: [
          {
            name: 'vllm',
            env: [
              { name: 'A', value: '1' },
              { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf', key: 'token' } } },
              { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'modes', key: 'm', optional: true } } },
            ],
            envFrom: [{ configMapRef: { name: 'tuning' } }],
          },
        ],
        volumes: [
          { name: 'tls', secret: { secretName: 'tls' } },
          { name: 'cfg', configMap: { name: 'cfg', optional: true } },
          { name: 'all', projected: { sources: [{ configMap: { name: 'labels-map' } }] } },
        ],
      },
      'serving.template.spec',
    );
    assert.deepEqual(refs, [
      { kind: 'Secret', name: 's3', path: 'serving.template.spec.initContainers.0.envFrom.0.secretRef' },
      { kind: 'Secret', name: 'hf', path: 'serving.template.spec.containers.0.env.1.valueFrom.secretKeyRef' },
      {
        kind: 'ConfigMap',
        name: 'tuning',
        path: 'serving.template.spec.containers.0.envFrom.0.configMapRef',
      },
      { kind: 'Secret', name: 'tls', path: 'serving.template.spec.volumes.0.secret' },
      {
        kind: 'ConfigMap',
        name: 'labels-map',
        path: 'serving.template.spec.volumes.2.projected.sources.0.configMap',
      },
    ]);
  });

  it('a pod without references has none', () => {
    assert.deepEqual(podReferences({ containers: [{ name: 'x', image: 'y' }] }, 'p'), []);
    assert.deepEqual(podReferences(undefined, 'p'), []);
  });
});
