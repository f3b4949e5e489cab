// Cluster errors on the real apiserver come out of the activities classified: a namespace the
// worker's ServiceAccount may not touch fails the build at once (final, one clean sentence), a used-up
// quota is ClusterCapacityExhausted, an unknown field is refused by strict validation, and the local
// Service IP range holds far more than a /24.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { serverSideApply } from '../../activities/kubernetes/apply.ts';
import { createKubernetesActivities } from '../../activities/kubernetes/activities.ts';
import { createKubernetesClients } from '../../activities/kubernetes/clients.ts';
import { renderDeployment } from '../../activities/kubernetes/manifests.ts';
import { ReleaseSpec } from '../../workflows/spec/index.ts';
import { createTestNamespace, serviceAccountKubeConfig, type TestNamespace } from '../helpers/cluster.ts';
import { releaseSpec } from '../helpers/release-fixtures.ts';

let home: TestNamespace;
let other: TestNamespace;
let narrow: k8s.KubeConfig;

before(async () => {
  [home, other] = await Promise.all([createTestNamespace('ce-home'), createTestNamespace('ce-other')]);
  // A narrow identity: it may work with Deployments in its own namespace only.
  const rbac = home.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace: home.name,
    body: {
      metadata: { name: 'deployments' },
      rules: [
        {
          apiGroups: ['apps'],
          resources: ['deployments'],
          verbs: ['get', 'list', 'watch', 'patch', 'create'],
        },
      ],
    },
  });
  narrow = await serviceAccountKubeConfig(home, 'narrow');
  await rbac.createNamespacedRoleBinding({
    namespace: home.name,
    body: {
      metadata: { name: 'narrow' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'deployments' },
      subjects: [{ kind: 'ServiceAccount', name: 'narrow', namespace: home.name }],
    },
  });
});

after(async () => {
  await Promise.all([home?.delete(), other?.delete()]);
});

const spec = (namespace: string, model = 'errs') =>
  ReleaseSpec.parse(releaseSpec({ namespace, model, version: 'v1' }));

/** Rejects with a final ApplicationFailure of one of `types` whose message matches, with no client dump. */
async function failsFinal(
  promise: Promise<unknown>,
  types: string[],
  message: RegExp,
): Promise<ApplicationFailure> {
  let failure: ApplicationFailure | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.ok(types.includes(error.type ?? ''), `type ${error.type}: ${error.message}`);
    assert.equal(error.nonRetryable, true, error.message);
    assert.match(error.message, message);
    assert.ok(!/HTTP-Code|Headers|"kind":"Status"|\n/.test(error.message), `a client dump: ${error.message}`);
    failure = error;
    return true;
  });
  return failure!;
}

describe('cluster errors on the real apiserver', { concurrency: true }, () => {
  it('a namespace the worker may not touch: captureStableState fails at once, final and clear', async () => {
    const kube = createKubernetesActivities(createKubernetesClients(narrow));
    const started = Date.now();
    await failsFinal(
      kube.captureStableState({ spec: spec(other.name) }),
      ['Forbidden'],
      new RegExp(
        `^Slipway may not get deployments in namespace ${other.name} \\(RBAC\\): deployments.apps "errs" is forbidden: User "system:serviceaccount:${home.name}:narrow" cannot get resource "deployments"`,
      ),
    );
    assert.ok(Date.now() - started < 2_000, 'no retries inside the activity');
  });

  it('the preflight in that namespace is a final DryRunFailed naming what RBAC refused', async () => {
    const kube = createKubernetesActivities(createKubernetesClients(narrow));
    const failure = await failsFinal(
      kube.preflight({ releaseId: 'r1', spec: spec(other.name) }),
      ['DryRunFailed'],
      /^Slipway may not \S+ \S+ (in namespace \S+|cluster-wide) \(RBAC\): .* is forbidden: User "system:serviceaccount:/,
    );
    assert.equal((failure.details?.[0] as { cause?: string } | undefined)?.cause, 'Forbidden');
  });

  it('a ResourceQuota of services: "0" is ClusterCapacityExhausted', async () => {
    const ns = await createTestNamespace('ce-quota');
    try {
      await ns.core.createNamespacedResourceQuota({
        namespace: ns.name,
        body: { metadata: { name: 'no-services' }, spec: { hard: { services: '0' } } },
      });
      // The quota admission needs the quota's status (the controller fills it in).
      for (let i = 0; i < 50; i++) {
        const q = await ns.core.readNamespacedResourceQuota({ name: 'no-services', namespace: ns.name });
        if (q.status?.hard) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const kube = createKubernetesActivities(createKubernetesClients(ns.kc));
      await failsFinal(
        kube.ensureServices({ spec: spec(ns.name) }),
        ['ClusterCapacityExhausted'],
        /^Slipway could not apply Service \S+\/errs\S*: a ResourceQuota is used up: .*exceeded quota: no-services/,
      );
      // The dry-run says the same, as DryRunFailed.
      await failsFinal(
        kube.preflight({ releaseId: 'r1', spec: spec(ns.name) }),
        ['DryRunFailed'],
        /exceeded quota: no-services/,
      );
    } finally {
      await ns.delete();
    }
  });

  it('an unknown field is refused by strict validation, for real and in a dry-run', async () => {
    const clients = createKubernetesClients(home.kc);
    const deployment = renderDeployment(spec(home.name, 'strict'), {
      track: 'canary',
      replicas: 1,
      releaseId: 'r1',
    });
    const typo = { ...deployment, spec: { ...deployment.spec, replicaz: 3 } } as k8s.KubernetesObject;
    await failsFinal(
      serverSideApply(clients, typo, { dryRun: true }),
      ['DryRunFailed'],
      /\.spec\.replicaz: field not declared in schema/,
    );
    await failsFinal(
      serverSideApply(clients, typo),
      ['InvalidObject'],
      /^Slipway could not apply Deployment \S+\/strict-canary: .*\.spec\.replicaz: field not declared in schema/,
    );
    const route = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'strict', namespace: home.name },
      spec: { rulez: [] },
    };
    await failsFinal(
      serverSideApply(clients, route as k8s.KubernetesObject),
      ['InvalidObject'],
      /\.spec\.rulez: field not declared in schema/,
    );
    const missing = await home.apps
      .readNamespacedDeployment({ name: 'strict-canary', namespace: home.name })
      .catch(() => undefined);
    assert.equal(missing, undefined, 'nothing was applied');
    // The same object without the typo is applied.
    const applied = await serverSideApply(clients, deployment);
    assert.ok(applied.metadata?.uid);
  });

  it('a namespace that does not exist fails the preflight as DryRunFailed naming it', async () => {
    const kube = createKubernetesActivities(createKubernetesClients(home.kc));
    await failsFinal(
      kube.preflight({ releaseId: 'r1', spec: spec('no-such-namespace-ce') }),
      ['DryRunFailed'],
      /^namespace no-such-namespace-ce does not exist$/,
    );
  });
});

describe('the local Service IP range', () => {
  it('is wide: a ServiceCIDR covers 10.0.0.0/16, and more than 254 Services get ClusterIPs', async () => {
    const networking = home.kc.makeApiClient(k8s.NetworkingV1Api);
    const cidrs = await networking.listServiceCIDR();
    const wide = cidrs.items.find((c) => c.spec?.cidrs?.includes('10.0.0.0/16'));
    assert.ok(wide, `ServiceCIDRs: ${JSON.stringify(cidrs.items.map((c) => c.spec?.cidrs))}`);
    assert.ok(
      wide.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      'the wide ServiceCIDR is Ready',
    );
    const ns = await createTestNamespace('ce-range');
    try {
      const names = Array.from({ length: 300 }, (_, i) => `s${i}`);
      const created: k8s.V1Service[] = [];
      for (let i = 0; i < names.length; i += 50) {
        created.push(
          ...(await Promise.all(
            names.slice(i, i + 50).map((name) =>
              ns.core.createNamespacedService({
                namespace: ns.name,
                body: { metadata: { name }, spec: { ports: [{ port: 80 }] } },
              }),
            ),
          )),
        );
      }
      const ips = new Set(created.map((s) => s.spec?.clusterIP));
      assert.equal(ips.size, 300, 'every Service has its own ClusterIP');
    } finally {
      await ns.delete();
    }
  });
});
