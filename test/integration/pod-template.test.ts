// serving.template on the real apiserver: the rendered Deployments (both tracks) and Services of the
// shipped examples pass a server-side dry-run with strict field validation — the path the API's
// start and the build's preflight take — so they are real Kubernetes; a mistyped field the schema
// lets through (`tolerations[0].efect`) is refused by that dry-run with the apiserver's reason.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { parse as parseYaml } from 'yaml';
import { serverSideApply } from '../../activities/kubernetes/apply.ts';
import { createKubernetesClients } from '../../activities/kubernetes/clients.ts';
import { renderDeployment, renderServices } from '../../activities/kubernetes/manifests.ts';
import { ReleaseSpec } from '../../workflows/spec/index.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';

function example(file: string, namespace: string): ReleaseSpec {
  const input = parseYaml(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')) as {
    namespace: string;
  };
  return ReleaseSpec.parse({ ...input, namespace });
}

function rendered(spec: ReleaseSpec): KubernetesObject[] {
  return [
    renderDeployment(spec, { track: 'canary', replicas: spec.serving.replicas, releaseId: 'r1' }),
    renderDeployment(spec, {
      track: 'stable',
      replicas: undefined,
      releaseId: 'r1',
      qualityScores: { a: 1 },
    }),
    ...renderServices(spec),
  ];
}

describe('serving.template on the real apiserver', () => {
  let ns: TestNamespace;
  before(async () => {
    ns = await createTestNamespace('podtpl');
    // The Secret examples/vllm.yaml reads HF_TOKEN from.
    await ns.core.createNamespacedSecret({
      namespace: ns.name,
      body: { metadata: { name: 'hf-token' }, stringData: { token: 'hf_test' } },
    });
  });
  after(async () => ns?.delete());

  for (const file of ['vllm.yaml', 'triton-model-repo.yaml']) {
    it(`examples/${file}: every rendered object passes a strict server-side dry-run`, async () => {
      const clients = createKubernetesClients(ns.kc);
      for (const object of rendered(example(file, ns.name))) {
        const stored = await serverSideApply(clients, object, { dryRun: true });
        assert.equal(stored.kind, object.kind, `${object.kind}/${object.metadata?.name}`);
        if (object.kind === 'Deployment') {
          // Nothing was dropped on the way: the apiserver stored the pod template as sent.
          const sent = (object as { spec: { template: { spec: Record<string, unknown> } } }).spec.template
            .spec;
          const kept = (stored as { spec: { template: { spec: Record<string, unknown> } } }).spec.template
            .spec;
          for (const key of Object.keys(sent)) assert.ok(key in kept, `${file}: ${key} kept`);
        }
      }
    });
  }

  it('a mistyped field in the template is refused by the dry-run with the apiserver reason', async () => {
    const clients = createKubernetesClients(ns.kc);
    const spec = ReleaseSpec.parse({
      model: 'typo',
      namespace: ns.name,
      version: 'v1',
      serving: {
        image: 'registry.example.com/server:1',
        template: {
          spec: { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', efect: 'NoSchedule' }] },
        },
      },
    });
    await assert.rejects(
      serverSideApply(clients, renderDeployment(spec, { track: 'canary', replicas: 1, releaseId: 'r1' }), {
        dryRun: true,
      }),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure, String(error));
        assert.equal(error.type, 'DryRunFailed');
        assert.equal(error.nonRetryable, true);
        assert.match(
          error.message,
          /\.spec\.template\.spec\.tolerations\[0\]\.efect: field not declared in schema/,
        );
        return true;
      },
    );
  });
});
