// Adopting a Deployment Slipway did not make, and drift, on the real stack (Temporal dev server,
// kube-apiserver + KWOK, Prometheus, the traffic simulator):
// - a Deployment created by `kubectl apply --server-side --field-manager=helm` is adopted as it runs
//   by examples/adopt-existing.yaml (no pod restarts, no new ReplicaSet), then released: only the
//   fields the spec sets change, and every other field stays helm's; a rollback restores its whole
//   spec;
// - a `helm upgrade` between releases (helm takes its image back) is drift: the next release is
//   refused in build, saying who changed it, and goes on with serving.onDrift: adopt;
// - a `kubectl rollout undo` of a Deployment Slipway made: the version Slipway reads is the one that
//   runs (its annotations went back with the template), the release is refused, then adopted;
//   revisionHistoryLimit is the spec's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type * as k8s from '@kubernetes/client-node';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { releaseWorkflowId } from '../../workflows/ids.ts';
import { statusQuery } from '../../workflows/messages.ts';
import { release, type ReleaseResult } from '../../workflows/release.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { resultWithin } from '../helpers/model-objects.ts';
import { releaseSpec } from '../helpers/release-fixtures.ts';
import { devServerEnv, startRealWorker, uniqueTaskQueue } from '../helpers/temporal.ts';
import { parse as parseYaml } from 'yaml';

const example = parseYaml(
  readFileSync(new URL('../../examples/adopt-existing.yaml', import.meta.url), 'utf8'),
) as ReleaseSpecInput & { serving: Record<string, unknown> };
/** The Deployment the example adopts (the chart's). */
const CHART = 'fraud-detector';

let env: TestWorkflowEnvironment;
let ns: TestNamespace;
let worker: Awaited<ReturnType<typeof startRealWorker>>;
const taskQueue = uniqueTaskQueue('adoption');

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('adopt');
  worker = await startRealWorker(env, taskQueue, ns.kc, { withTemporalClient: true });
});

after(async () => {
  await worker?.stop();
  await ns?.delete();
  await env?.teardown();
});

/** The project's own kubectl (built by the local stack), against the stack. */
function kubectl(args: string[], input?: string): string {
  const bin = process.env.SLIPWAY_KUBECTL;
  if (!bin) throw new Error('SLIPWAY_KUBECTL is not set: run tests through `npm test`');
  return execFileSync(bin, ['--namespace', ns.name, ...args], {
    encoding: 'utf8',
    ...(input === undefined ? {} : { input }),
  });
}

/** The chart's Deployment, as `helm template` would render it: it runs what the example says (v43). */
function helmManifest(image: string, logLevel = 'info'): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: CHART,
      labels: { 'app.kubernetes.io/instance': 'prod', 'helm.sh/chart': 'fraud-1.2.0' },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'fraud', 'app.kubernetes.io/instance': 'prod' } },
      template: {
        metadata: {
          labels: { app: 'fraud', 'app.kubernetes.io/instance': 'prod' },
          annotations: { 'pod-ready.stage.kwok.x-k8s.io/delay': '300ms' },
        },
        spec: {
          serviceAccountName: 'default',
          terminationGracePeriodSeconds: 45,
          containers: [
            {
              name: 'server',
              image,
              args: ['--model-repository=/models'],
              ports: [{ name: 'http', containerPort: 8000 }],
              env: [
                { name: 'LOG_LEVEL', value: logLevel },
                { name: 'MAX_BATCH_SIZE', value: '16' },
                { name: 'MODEL_URI', value: 's3://models/fraud-detector/43' },
              ],
              resources: { requests: { cpu: '250m', memory: '256Mi' } },
            },
            { name: 'metrics-proxy', image: 'envoyproxy/envoy:v1.30.0' },
          ],
        },
      },
    },
  });
}

function helmApply(image: string, logLevel?: string, forceConflicts = false): void {
  kubectl(
    [
      'apply',
      '--server-side',
      '--field-manager=helm',
      ...(forceConflicts ? ['--force-conflicts'] : []),
      '-f',
      '-',
    ],
    helmManifest(image, logLevel),
  );
}

const read = (name: string) => ns.apps.readNamespacedDeployment({ name, namespace: ns.name });

async function waitAvailable(name: string, replicas: number): Promise<k8s.V1Deployment> {
  for (let i = 0; i < 150; i++) {
    const d = await read(name);
    if (
      (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
      d.status?.updatedReplicas === replicas &&
      d.status.availableReplicas === replicas &&
      (d.status.replicas ?? 0) === replicas
    )
      return d;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not become available`);
}

async function podUids(selector: string): Promise<string[]> {
  const pods = await ns.core.listNamespacedPod({ namespace: ns.name, labelSelector: selector });
  return pods.items.map((p) => p.metadata?.uid ?? '').sort();
}

/** The example, in the test's namespace, with short holds and a gate the local Prometheus answers. */
function spec(version: string, serving: Record<string, unknown> = {}, extra: Partial<ReleaseSpecInput> = {}) {
  const fixture = releaseSpec({ namespace: ns.name, model: example.model, version });
  return {
    ...example,
    namespace: ns.name,
    version,
    serving: { ...example.serving, progressDeadlineSeconds: 60, ...serving },
    canary: { steps: [{ weight: 50, hold: '2s' }], gates: ['error-rate'] },
    gates: fixture.gates,
    ...extra,
  } as ReleaseSpecInput;
}

async function run(input: ReleaseSpecInput): Promise<ReleaseResult> {
  const handle: WorkflowHandle<typeof release> = await env.client.workflow.start(release, {
    taskQueue,
    workflowId: releaseWorkflowId(input.namespace, input.model),
    args: [{ spec: input, submittedBy: 'ci' }],
  });
  return resultWithin<ReleaseResult>(handle, 90_000);
}

const outcome = (r: ReleaseResult) =>
  `${r.outcome.result} (${r.outcome.failureType ?? '-'}): ${r.outcome.reason}`;

/** Which field manager owns `f:<field>` of the container named `name` (in any managedFields entry). */
function ownersOfContainerField(d: k8s.V1Deployment, name: string, field: string): string[] {
  return (d.metadata?.managedFields ?? [])
    .filter((entry) => {
      const fields = entry.fieldsV1 as Record<
        string,
        Record<string, Record<string, Record<string, Record<string, unknown>>>>
      >;
      const containers = fields?.['f:spec']?.['f:template']?.['f:spec']?.['f:containers'];
      const container = containers?.[`k:{"name":"${name}"}`] as Record<string, unknown> | undefined;
      return container?.[`f:${field}`] !== undefined;
    })
    .map((entry) => entry.manager ?? '');
}

describe('adopting a Deployment made by helm', { concurrency: false }, () => {
  const selector = 'app=fraud,app.kubernetes.io/instance=prod';
  let adoptedSpec: k8s.V1DeploymentSpec | undefined;

  it('adopts it as it runs: no pod restarts, no new ReplicaSet, helm keeps its fields', async () => {
    helmApply('registry.example.com/triton:24.06');
    const before = await waitAvailable(CHART, 2);
    const pods = await podUids(selector);
    const result = await run(spec('v43'));
    assert.equal(result.outcome.result, 'Promoted', outcome(result));
    const after = await read(CHART);
    // (Its generation moves: a Deployment's annotations count, as they are copied to ReplicaSets.)
    assert.equal(
      after.metadata?.annotations?.['deployment.kubernetes.io/revision'],
      before.metadata?.annotations?.['deployment.kubernetes.io/revision'],
    );
    assert.deepEqual(after.spec, before.spec);
    assert.deepEqual(await podUids(selector), pods, 'the same pods run');
    const sets = await ns.apps.listNamespacedReplicaSet({ namespace: ns.name, labelSelector: selector });
    assert.equal(sets.items.length, 1, 'no new ReplicaSet');
    assert.equal(after.metadata?.annotations?.['slipway.dev/version'], 'v43');
    assert.match(after.metadata?.labels?.['slipway.dev/template-hash'] ?? '', /^[0-9a-f]{16}$/);
    assert.deepEqual(ownersOfContainerField(after, 'server', 'image'), ['helm']);
    // Slipway's stable Service reaches the adopted pods; no Service named after the model was made.
    const stable = await ns.core.readNamespacedService({ name: 'fraud-detector-stable', namespace: ns.name });
    assert.deepEqual(stable.spec?.selector, { app: 'fraud', 'app.kubernetes.io/instance': 'prod' });
    await assert.rejects(ns.core.readNamespacedService({ name: 'fraud-detector', namespace: ns.name }));
    adoptedSpec = after.spec;
  });

  it('a release changes only what the spec says; the candidate never matches the adopted selector', async () => {
    const candidateLabels: Array<Record<string, string>> = [];
    const watching = (async () => {
      for (let i = 0; i < 400 && candidateLabels.length === 0; i++) {
        const c = await ns.apps
          .readNamespacedDeployment({ name: 'fraud-detector-canary', namespace: ns.name })
          .catch(() => undefined);
        if (c?.spec?.template.metadata?.labels) candidateLabels.push(c.spec.template.metadata.labels);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const result = await run(
      spec('v44', {
        image: 'registry.example.com/triton:24.07',
        env: [{ name: 'MAX_BATCH_SIZE', value: '32' }],
      }),
    );
    await watching;
    assert.equal(result.outcome.result, 'Promoted', outcome(result));
    assert.equal(candidateLabels.length, 1, 'the candidate ran');
    assert.equal(candidateLabels[0]!.app, undefined);
    assert.equal(candidateLabels[0]!['app.kubernetes.io/instance'], undefined);
    const after = await waitAvailable(CHART, 2);
    const [server, proxy] = after.spec?.template.spec?.containers ?? [];
    assert.equal(server?.image, 'registry.example.com/triton:24.07');
    assert.deepEqual(
      server?.env?.map((e) => [e.name, e.value]),
      [
        ['LOG_LEVEL', 'info'],
        ['MAX_BATCH_SIZE', '32'],
        ['MODEL_URI', 's3://models/fraud-detector/43'],
      ],
    );
    assert.deepEqual(server?.args, ['--model-repository=/models']);
    assert.equal(proxy?.image, 'envoyproxy/envoy:v1.30.0');
    // Everything but the serving container's image and env, and Slipway's pod annotations, is as helm left it.
    const strip = (s: k8s.V1DeploymentSpec | undefined) => {
      const copy = structuredClone(s)!;
      const c = copy.template.spec!.containers[0]!;
      delete c.image;
      delete c.env;
      for (const key of Object.keys(copy.template.metadata?.annotations ?? {}))
        if (key.startsWith('slipway.dev/')) delete copy.template.metadata!.annotations![key];
      return copy;
    };
    assert.deepEqual(strip(after.spec), strip(adoptedSpec));
    assert.equal(after.spec?.template.metadata?.annotations?.['slipway.dev/version'], 'v44');
    assert.deepEqual(ownersOfContainerField(after, 'server', 'args'), ['helm']);
    assert.ok(ownersOfContainerField(after, 'server', 'image').includes('slipway'));
    await assert.rejects(read('fraud-detector-canary'), 'the candidate is gone');
  });

  it('a rollback restores the whole adopted Deployment as it was', async () => {
    const before = await read(CHART);
    const result = await run(
      spec(
        'v45',
        {
          image: 'registry.example.com/triton:24.08',
          args: ['--strict-model-config'],
          minReadySeconds: 1,
          revisionHistoryLimit: 4,
          annotations: { 'sim.slipway.dev/error-rate': '0.5' },
        },
        { canary: { steps: [{ weight: 50, hold: '20s' }], gates: ['error-rate'] } },
      ),
    );
    assert.equal(result.outcome.result, 'RolledBack', outcome(result));
    assert.equal(result.outcome.failureType, 'GateFailed', outcome(result));
    const after = await read(CHART);
    assert.deepEqual(after.spec, before.spec);
    const slipway = (d: k8s.V1Deployment) =>
      Object.entries(d.metadata?.annotations ?? {}).filter(([k]) => k.startsWith('slipway.dev/'));
    assert.deepEqual(slipway(after), slipway(before));
  });

  it('a helm upgrade since the last release is drift: refused naming helm, then adopted', async () => {
    // helm takes its image back (and changes LOG_LEVEL): the template no longer is what Slipway left.
    helmApply('registry.example.com/triton:24.06', 'debug', true);
    await waitAvailable(CHART, 2);
    const before = await read(CHART);
    const refused = await run(spec('v46', { image: 'registry.example.com/triton:24.09' }));
    assert.equal(refused.outcome.result, 'RolledBack', outcome(refused));
    assert.equal(refused.outcome.failureType, 'StableDrifted', outcome(refused));
    assert.match(
      refused.outcome.reason,
      /changed outside Slipway since Slipway last released it \(last by helm/,
    );
    assert.deepEqual((await read(CHART)).spec, before.spec, 'nothing changed');

    const adopted = await run(spec('v46', { image: 'registry.example.com/triton:24.09', onDrift: 'adopt' }));
    assert.equal(adopted.outcome.result, 'Promoted', outcome(adopted));
    const after = await waitAvailable(CHART, 2);
    const server = after.spec?.template.spec?.containers[0];
    assert.equal(server?.image, 'registry.example.com/triton:24.09');
    assert.equal(server?.env?.find((e) => e.name === 'LOG_LEVEL')?.value, 'debug', "helm's change is kept");
  });
});

describe('kubectl rollout undo of a Deployment Slipway made', { concurrency: false }, () => {
  const model = 'undo-model';
  const own = (version: string, serving: Record<string, unknown> = {}) => {
    const base = releaseSpec({ namespace: ns.name, model, version, steps: [{ weight: 50, hold: '2s' }] });
    return { ...base, serving: { ...base.serving, revisionHistoryLimit: 3, ...serving } } as ReleaseSpecInput;
  };

  it('reads the version that runs, refuses the next release, and adopts it when asked', async () => {
    for (const version of ['v1', 'v2']) {
      const result = await run(own(version));
      assert.equal(result.outcome.result, 'Promoted', outcome(result));
    }
    const v2 = await waitAvailable(model, 2);
    assert.equal(v2.spec?.revisionHistoryLimit, 3);
    assert.equal(v2.spec?.template.metadata?.annotations?.['slipway.dev/version'], 'v2');
    kubectl(['rollout', 'undo', `deployment/${model}`]);
    const undone = await waitAvailable(model, 2);
    // The annotations went back with the template: they describe what runs.
    assert.equal(undone.spec?.template.metadata?.annotations?.['slipway.dev/version'], 'v1');
    assert.equal(undone.spec?.template.metadata?.labels?.['app.kubernetes.io/version'], 'v1');

    const refused = await run(own('v3'));
    assert.equal(refused.outcome.failureType, 'StableDrifted', outcome(refused));
    assert.match(refused.outcome.reason, /\(last by kubectl[ -].*it runs version v1/);
    assert.deepEqual((await read(model)).spec, undone.spec, 'nothing changed');

    const handle = await env.client.workflow.start(release, {
      taskQueue,
      workflowId: releaseWorkflowId(ns.name, model),
      args: [{ spec: own('v3', { onDrift: 'adopt' }), submittedBy: 'ci' }],
    });
    const adopted = await resultWithin<ReleaseResult>(handle, 90_000);
    assert.equal(adopted.outcome.result, 'Promoted', outcome(adopted));
    const { stableVersion, timeline } = await handle.query(statusQuery);
    assert.equal(stableVersion, 'v1', 'the release started from the version that ran');
    assert.ok(timeline.some((n) => /adopting it \(serving.onDrift: adopt\)/.test(n.message)));
    const events = await ns.core.listNamespacedEvent({
      namespace: ns.name,
      fieldSelector: 'reason=StableDrifted',
    });
    assert.ok(events.items.length >= 1, 'a Warning Event says so');
    // The next release finds no drift: the fingerprint Slipway left matches the template.
    const next = await run(own('v4'));
    assert.equal(next.outcome.result, 'Promoted', outcome(next));
  });
});
