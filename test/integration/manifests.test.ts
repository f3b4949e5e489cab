// infra/k8s on the real local apiserver: the example overlay is rendered with the stack's own
// `kubectl kustomize`, every object passes a server-side dry-run, and then the manifests are
// installed for real (into test namespaces, cluster-scoped names made unique) so that their RBAC is
// proven by use: a release runs with the worker ServiceAccount's own token, the API's dry-run with
// the API's, and access reviews show what each may NOT do.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createKubernetesActivities } from '../../activities/kubernetes/activities.ts';
import { createKubernetesClients } from '../../activities/kubernetes/clients.ts';
import { release, type ReleaseInput } from '../../workflows/release.ts';
import { ReleaseSpec } from '../../workflows/spec/index.ts';
import { createTestNamespace, tokenKubeConfig, type TestNamespace } from '../helpers/cluster.ts';
import { clusterState, releaseSpec } from '../helpers/release-fixtures.ts';
import { devServerEnv, startRealWorker, uniqueTaskQueue } from '../helpers/temporal.ts';

interface Obj extends k8s.KubernetesObject {
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

function render(): Obj[] {
  const kubectl = process.env.SLIPWAY_KUBECTL;
  if (!kubectl) throw new Error('SLIPWAY_KUBECTL is not set: run tests through `npm test`');
  return k8s.loadAllYaml(
    execFileSync(kubectl, ['kustomize', 'infra/k8s/overlays/example'], { encoding: 'utf8' }),
  ) as Obj[];
}

// Loose accessor for a rendered Deployment's pod template (its shape is checked by the assertions).
function podSpec(o: Obj): {
  securityContext: Record<string, unknown>;
  containers: Array<Record<string, unknown>>;
  serviceAccountName: string;
} {
  return (o.spec as { template: { spec: never } }).template.spec;
}

describe('infra/k8s manifests', () => {
  it('carry the security settings, probes, PDBs and config the processes read', () => {
    const objs = render();
    const deployments = objs.filter((o) => o.kind === 'Deployment');
    assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ['slipway-api', 'slipway-worker']);
    for (const d of deployments) {
      const spec = podSpec(d);
      assert.equal(spec.securityContext.runAsNonRoot, true, d.metadata.name);
      assert.equal((spec.securityContext.seccompProfile as { type: string }).type, 'RuntimeDefault');
      assert.equal(spec.serviceAccountName, d.metadata.name);
      for (const c of spec.containers) {
        const sc = c.securityContext as Record<string, unknown>;
        assert.equal(sc.readOnlyRootFilesystem, true);
        assert.equal(sc.allowPrivilegeEscalation, false);
        assert.deepEqual([...(sc.capabilities as { drop: string[] }).drop], ['ALL']);
        assert.ok(c.readinessProbe && c.livenessProbe, `${d.metadata.name} probes`);
        assert.ok(c.resources, `${d.metadata.name} resources`);
        assert.equal(c.image, 'registry.example.com/slipway:0.1.0', 'the overlay pins the image');
      }
    }
    const env = (name: string) =>
      Object.fromEntries(
        (
          (podSpec(deployments.find((d) => d.metadata.name === name)!).containers[0]?.env ?? []) as Array<{
            name: string;
            value: string;
          }>
        ).map((e) => [e.name, e.value]),
      );
    assert.deepEqual(
      [
        ...(podSpec(deployments.find((d) => d.metadata.name === 'slipway-worker')!).containers[0]
          ?.command as string[]),
      ],
      ['node', 'worker/main.ts'],
    );
    assert.equal(env('slipway-worker').SLIPWAY_WORKER_HTTP, '0.0.0.0:9464');
    // The API must listen beyond loopback in a pod, and read the token table from the mounted Secret.
    assert.equal(env('slipway-api').SLIPWAY_API_HOST, '0.0.0.0');
    assert.equal(env('slipway-api').SLIPWAY_API_TOKENS_FILE, '/var/run/slipway/tokens.yaml');
    const tokens = objs.find((o) => o.kind === 'Secret' && o.metadata.name === 'slipway-api-tokens') as
      { stringData?: Record<string, string> } | undefined;
    assert.ok(tokens?.stringData?.['tokens.yaml'] !== undefined, 'the token Secret has tokens.yaml');
    assert.deepEqual(
      objs
        .filter((o) => o.kind === 'PodDisruptionBudget')
        .map((o) => o.metadata.name)
        .sort(),
      ['slipway-api', 'slipway-worker'],
    );
  });

  it('every rendered object passes a server-side dry-run', async () => {
    const system = await createTestNamespace('mf-dry');
    try {
      const client = k8s.KubernetesObjectApi.makeApiClient(system.kc);
      const objs = uniqueNames(render(), system.name, system.name);
      const kinds = [...new Set(objs.map((o) => o.kind))].sort();
      assert.deepEqual(kinds, [
        'ClusterRole',
        'ClusterRoleBinding',
        'ConfigMap',
        'Deployment',
        'Namespace',
        'PodDisruptionBudget',
        'RoleBinding',
        'Secret',
        'Service',
        'ServiceAccount',
      ]);
      for (const o of objs) {
        const created = await client.patch(
          o,
          undefined,
          'All',
          'slipway-manifests-test',
          true,
          k8s.PatchStrategy.ServerSideApply,
        );
        assert.equal(created.kind, o.kind, `${o.kind}/${o.metadata.name} accepted`);
      }
    } finally {
      await system.delete();
    }
  });
});

/**
 * The rendered objects moved into test namespaces: `slipway-system` → `system`, `models` → `managed`,
 * cluster-scoped objects (and the role references to them) suffixed so parallel runs cannot collide.
 */
function uniqueNames(objs: Obj[], system: string, managed: string): Obj[] {
  const suffix = `-${system}`;
  return objs.map((original) => {
    const o = structuredClone(original);
    if (o.kind === 'Namespace') o.metadata.name = system;
    if (o.metadata.namespace === 'slipway-system') o.metadata.namespace = system;
    if (o.metadata.namespace === 'models') o.metadata.namespace = managed;
    if (o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding') o.metadata.name += suffix;
    const roleRef = o.roleRef as { kind: string; name: string } | undefined;
    if (roleRef?.kind === 'ClusterRole') roleRef.name += suffix;
    for (const s of (o.subjects ?? []) as Array<{ namespace?: string }>) s.namespace = system;
    return o;
  });
}

describe('infra/k8s installed: least-privilege RBAC that is enough', () => {
  let env: TestWorkflowEnvironment;
  let system: TestNamespace;
  let managed: TestNamespace;
  let unmanaged: TestNamespace;
  let clusterScoped: Obj[] = [];

  before(async () => {
    env = await devServerEnv();
    [system, managed, unmanaged] = await Promise.all([
      createTestNamespace('mf-sys'),
      createTestNamespace('mf-models'),
      createTestNamespace('mf-other'),
    ]);
    const objs = uniqueNames(render(), system.name, managed.name);
    const client = k8s.KubernetesObjectApi.makeApiClient(system.kc);
    for (const o of objs)
      await client.patch(
        o,
        undefined,
        undefined,
        'slipway-manifests-test',
        true,
        k8s.PatchStrategy.ServerSideApply,
      );
    clusterScoped = objs.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding');
  });

  after(async () => {
    const client = system ? k8s.KubernetesObjectApi.makeApiClient(system.kc) : undefined;
    for (const o of clusterScoped) await client?.delete(o).catch(() => undefined);
    await Promise.all([system?.delete(), managed?.delete(), unmanaged?.delete()]);
    await env?.teardown();
  });

  it('the worker ServiceAccount runs a release end to end in a managed namespace', async () => {
    const workerKc = await tokenKubeConfig(system.kc, system.name, 'slipway-worker');
    const hpas = managed.kc.makeApiClient(k8s.AutoscalingV2Api);
    const taskQueue = uniqueTaskQueue('rbac');
    const worker = await startRealWorker(env, taskQueue, workerKc);
    try {
      const run = async (version: string, extra: Partial<ReleaseInput['spec']> = {}) => {
        const input: ReleaseInput = {
          spec: {
            ...releaseSpec({
              namespace: managed.name,
              model: 'rbac',
              version,
              steps: [{ weight: 50, hold: '2s' }],
            }),
            ...extra,
          },
          submittedBy: 'ci',
        };
        return (
          await env.client.workflow.start(release, {
            taskQueue,
            workflowId: `rbac-${managed.name}-${version}`,
            args: [input],
          })
        ).result();
      };
      const first = await run('v1');
      assert.equal(first.outcome.result, 'Promoted', first.outcome.reason);
      // An HPA on the stable (bounds around its 2 replicas): v2's candidate gets one, and loses it.
      await hpas.createNamespacedHorizontalPodAutoscaler({
        namespace: managed.name,
        body: {
          metadata: { name: 'rbac' },
          spec: {
            scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'rbac' },
            minReplicas: 2,
            maxReplicas: 4,
          },
        },
      });
      // v2 with a build Job: Jobs, pods, scale, the route, the candidate's HPA and removal all
      // exercised. Under an HPA the spec leaves replicas out (they are the autoscaler's).
      const fixture = releaseSpec({ namespace: managed.name, model: 'rbac', version: 'v2' });
      const { replicas: _replicas, ...serving } = fixture.serving;
      const second = await run('v2', {
        serving,
        build: { job: { image: 'registry.example.com/eval:1', timeout: '2m' } },
      });
      assert.equal(second.outcome.result, 'Promoted', second.outcome.reason);
    } finally {
      await worker.stop();
    }
    const left = await hpas.listNamespacedHorizontalPodAutoscaler({ namespace: managed.name });
    assert.deepEqual(
      left.items.map((h) => h.metadata?.name),
      ['rbac'],
      "the candidate's HPA is gone (not allowed to make it, the worker would have failed v2)",
    );
    assert.deepEqual(await clusterState(managed, managed.name, 'rbac'), {
      stableVersion: 'v2',
      stableImage: 'registry.example.com/triton:v2',
      candidateExists: false,
      weights: { stable: 100, canary: 0 },
      mirror: false,
    });
    // Events are best effort in the workflow, so prove they were allowed: they are there.
    const events = await managed.kc
      .makeApiClient(k8s.EventsV1Api)
      .listNamespacedEvent({ namespace: managed.name });
    assert.ok(
      events.items.some(
        (e) => e.reportingController === 'slipway.dev/release-controller' && e.reason === 'ReleaseCanary',
      ),
      'stage events recorded',
    );
  });

  it('the API ServiceAccount can dry-run in a managed namespace and nowhere else', async () => {
    const apiKc = await tokenKubeConfig(system.kc, system.name, 'slipway-api');
    const kube = createKubernetesActivities(createKubernetesClients(apiKc));
    const spec = (namespace: string) =>
      ReleaseSpec.parse(releaseSpec({ namespace, model: 'dry', version: 'v1' }));
    const result = await kube.preflight({ releaseId: 'dry-run', spec: spec(managed.name) });
    assert.deepEqual([...result.objects].sort(), [
      'Deployment/dry-canary',
      'HTTPRoute/dry',
      'Service/dry',
      'Service/dry-canary',
      'Service/dry-stable',
    ]);
    // The istio router's VirtualService is dry-run as well (its CRD's strict schema, the API's RBAC).
    const istio = await kube.preflight({
      releaseId: 'dry-run',
      spec: ReleaseSpec.parse({
        ...releaseSpec({ namespace: managed.name, model: 'dry', version: 'v1' }),
        traffic: { router: 'istio', gateways: ['istio-system/public-gw'] },
      }),
    });
    assert.ok(istio.objects.includes('VirtualService/dry'), istio.objects.join(', '));
    assert.ok(!istio.objects.includes('HTTPRoute/dry'), istio.objects.join(', '));
    // Refused, whichever of the dry-runs and reads the apiserver answers first: never retried.
    await assert.rejects(
      kube.preflight({ releaseId: 'dry-run', spec: spec(unmanaged.name) }),
      (error: unknown) => {
        assert.ok(
          error instanceof ApplicationFailure && error.nonRetryable && error.type === 'DryRunFailed',
          String(error),
        );
        assert.match(
          error.message,
          /^Slipway may not \S+ \S+ in namespace mf-other-\w+ \(RBAC\): .*forbidden: User "system:serviceaccount:[^"]+:slipway-api"/,
        );
        assert.ok(!/HTTP-Code|Headers/.test(error.message), error.message);
        return true;
      },
    );
    // A dry-run leaves nothing behind.
    assert.equal(
      (
        await managed.apps.listNamespacedDeployment({
          namespace: managed.name,
          labelSelector: 'app.kubernetes.io/name=dry',
        })
      ).items.length,
      0,
    );
  });

  it('access reviews: each identity may do its job and nothing beyond it', async () => {
    const authz = system.kc.makeApiClient(k8s.AuthorizationV1Api);
    const can = async (account: string, attrs: k8s.V1ResourceAttributes): Promise<boolean> => {
      const review = await authz.createSubjectAccessReview({
        body: {
          spec: {
            user: `system:serviceaccount:${system.name}:${account}`,
            groups: [
              'system:serviceaccounts',
              `system:serviceaccounts:${system.name}`,
              'system:authenticated',
            ],
            resourceAttributes: attrs,
          },
        },
      });
      return review.status?.allowed === true;
    };
    const m = managed.name;
    const cases: Array<[string, k8s.V1ResourceAttributes, boolean]> = [
      [
        'slipway-worker',
        { namespace: m, verb: 'patch', group: 'apps', resource: 'deployments', subresource: 'scale' },
        true,
      ],
      [
        'slipway-worker',
        { namespace: m, verb: 'list', group: 'autoscaling', resource: 'horizontalpodautoscalers' },
        true,
      ],
      [
        'slipway-worker',
        { namespace: m, verb: 'patch', group: 'autoscaling', resource: 'horizontalpodautoscalers' },
        true,
      ],
      [
        'slipway-worker',
        { namespace: m, verb: 'delete', group: 'autoscaling', resource: 'horizontalpodautoscalers' },
        true,
      ],
      [
        'slipway-worker',
        {
          namespace: unmanaged.name,
          verb: 'delete',
          group: 'autoscaling',
          resource: 'horizontalpodautoscalers',
        },
        false,
      ],
      ['slipway-worker', { namespace: m, verb: 'get', resource: 'secrets' }, true],
      ['slipway-worker', { namespace: m, verb: 'list', resource: 'secrets' }, false],
      [
        'slipway-worker',
        { namespace: unmanaged.name, verb: 'patch', group: 'apps', resource: 'deployments' },
        false,
      ],
      ['slipway-worker', { namespace: unmanaged.name, verb: 'get', resource: 'secrets' }, false],
      ['slipway-worker', { namespace: m, verb: 'delete', resource: 'pods' }, false],
      ['slipway-worker', { namespace: m, verb: 'delete', resource: 'services' }, true],
      [
        'slipway-worker',
        { namespace: m, verb: 'delete', group: 'gateway.networking.k8s.io', resource: 'httproutes' },
        true,
      ],
      ['slipway-worker', { namespace: unmanaged.name, verb: 'delete', resource: 'services' }, false],
      ['slipway-worker', { verb: 'delete', resource: 'namespaces' }, false],
      [
        'slipway-worker',
        { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
        false,
      ],
      [
        'slipway-api',
        { namespace: m, verb: 'patch', group: 'gateway.networking.k8s.io', resource: 'httproutes' },
        true,
      ],
      [
        'slipway-worker',
        { namespace: m, verb: 'delete', group: 'networking.istio.io', resource: 'virtualservices' },
        true,
      ],
      [
        'slipway-worker',
        {
          namespace: unmanaged.name,
          verb: 'patch',
          group: 'networking.istio.io',
          resource: 'virtualservices',
        },
        false,
      ],
      [
        'slipway-api',
        { namespace: m, verb: 'patch', group: 'networking.istio.io', resource: 'virtualservices' },
        true,
      ],
      [
        'slipway-api',
        { namespace: m, verb: 'delete', group: 'networking.istio.io', resource: 'virtualservices' },
        false,
      ],
      ['slipway-api', { verb: 'list', resource: 'nodes' }, true],
      ['slipway-api', { namespace: m, verb: 'delete', group: 'apps', resource: 'deployments' }, false],
      ['slipway-api', { namespace: m, verb: 'create', group: 'batch', resource: 'jobs' }, false],
      // The preflight checks that the Secrets and ConfigMaps a template names exist (metadata only).
      ['slipway-api', { namespace: m, verb: 'get', resource: 'secrets' }, true],
      ['slipway-api', { namespace: m, verb: 'list', resource: 'secrets' }, false],
      ['slipway-api', { namespace: unmanaged.name, verb: 'get', resource: 'secrets' }, false],
      ['slipway-api', { namespace: m, verb: 'get', resource: 'configmaps' }, true],
      ['slipway-api', { namespace: m, verb: 'get', group: 'apps', resource: 'deployments' }, true],
      ['slipway-worker', { namespace: m, verb: 'get', resource: 'configmaps' }, true],
    ];
    const wrong: string[] = [];
    for (const [account, attrs, expected] of cases) {
      if ((await can(account, attrs)) !== expected)
        wrong.push(
          `${account} ${attrs.verb} ${attrs.resource}${attrs.subresource ? `/${attrs.subresource}` : ''} in ${attrs.namespace ?? 'cluster'}: expected ${expected ? 'allowed' : 'denied'}`,
        );
    }
    assert.deepEqual(wrong, []);
  });
});
