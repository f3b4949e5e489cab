// The shipped GPU examples — examples/vllm.yaml and examples/triton-model-repo.yaml — released for
// real on the local stack (Temporal dev server, kube-apiserver + scheduler + KWOK nodes, Prometheus,
// the traffic simulator), through the real workflow and activities:
// - v1 (a first release) and v2 (a canary through the example's own steps) end Promoted;
// - the live stable (and, during v2's canary, the candidate) Deployment's pod template is the
//   example's, field by field: everything the example writes, plus only what docs/release-spec.md
//   says Slipway adds (its labels, MODEL_NAME/MODEL_VERSION/MODEL_URI, the `http` port, a GPU limit
//   equal to the request, the probes' port) and the apiserver's documented defaults — compared as a
//   whole, so a field lost, added or changed on the way fails;
// - the pods are scheduled where the example says: vLLM on the tainted A100 pool (kwok-a100-*) it
//   tolerates and selects, Triton (no selector, no toleration) on the untainted GPU nodes;
// - v3, whose candidate answers half its requests with 500s, is rolled back by its gate, and the
//   stable Deployment (whole spec, labels, Slipway annotations), Services and HTTPRoute are exactly
//   as they were before v3 started.
// Only what the local stack needs is changed in the examples: the namespace, the version, short
// holds, a 60 s progress deadline, KWOK's pod-ready delay and an error-rate gate the simulator's
// metrics answer. The examples run one after the other, Triton first: vLLM holds up to 10 of the
// A100 pool's 16 GPUs, which capacity.test.ts (earlier in the suite) expects to find free.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type * as k8s from '@kubernetes/client-node';
import type { WorkflowHandle } from '@temporalio/client';
import { parse as parseYaml } from 'yaml';
import { releaseWorkflowId } from '../../workflows/ids.ts';
import { statusQuery } from '../../workflows/messages.ts';
import { release, type ReleaseResult } from '../../workflows/release.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import {
  differences,
  jsonDiff,
  pollUntil,
  readModelObjects,
  resultWithin,
  waitForStatus,
  type ModelObjects,
} from '../helpers/model-objects.ts';
import { holdGpuPools } from '../helpers/gpu-pools.ts';
import { clusterState, ERROR_RATE_QUERY } from '../helpers/release-fixtures.ts';
import { devServerEnv, startRealWorker, uniqueTaskQueue } from '../helpers/temporal.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
type Handle = WorkflowHandle<typeof release>;

let env: Awaited<ReturnType<typeof devServerEnv>>;
let ns: TestNamespace;
let worker: Awaited<ReturnType<typeof startRealWorker>>;
const taskQueue = uniqueTaskQueue('examples');

/** What the local stack needs on every pod: KWOK makes it Ready after this delay (as release-fixtures.ts). */
const LOCAL_ANNOTATIONS = { 'pod-ready.stage.kwok.x-k8s.io/delay': '500ms' };
/** v3's candidate is a bad build: the simulator answers half its requests with 500. */
const FAILING_ANNOTATIONS = { 'sim.slipway.dev/error-rate': '0.5' };

// ---- the examples as written -------------------------------------------------------------------

interface Container extends JsonObject {
  name: string;
}
interface Example {
  model: string;
  serving: {
    image?: string;
    port?: number;
    modelUri?: string;
    replicas: number;
    container?: string;
    resources: { requests: Record<string, string | number>; limits?: Record<string, string | number> };
    probes: Record<'readiness' | 'liveness' | 'startup', JsonObject | undefined>;
    annotations?: Record<string, string>;
    template: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: JsonObject & { containers: Container[]; initContainers?: Container[] };
    };
  };
  canary: { steps: Array<{ weight: number; hold: string }>; gates?: string[] };
  gates?: unknown[];
}

/** The example file as written (a fresh copy each time). */
function example(file: string): Example {
  return parseYaml(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')) as Example;
}

/**
 * The example with only what the local stack needs changed: namespace, version, short holds, a
 * progress deadline a stuck rollout trips within the test, KWOK's pod-ready delay, and a gate on
 * the simulator's error rate.
 */
function localSpec(file: string, version: string, o: { hold: string; failing?: boolean }): ReleaseSpecInput {
  const written = example(file);
  // The test adds its own gate; one of the example's would need an answer from the local stack.
  assert.equal(written.gates, undefined, `${file} has gates: give the test an answer for them`);
  assert.equal(written.canary.gates, undefined, `${file} lists canary gates`);
  return {
    ...(written as unknown as ReleaseSpecInput),
    namespace: ns.name,
    version,
    serving: {
      ...(written.serving as unknown as ReleaseSpecInput['serving']),
      annotations: {
        ...written.serving.annotations,
        ...LOCAL_ANNOTATIONS,
        ...(o.failing ? FAILING_ANNOTATIONS : {}),
      },
      progressDeadlineSeconds: 60,
    },
    canary: {
      steps: written.canary.steps.map((step) => ({ ...step, hold: o.hold })),
      gates: ['error-rate'],
    },
    gates: [
      {
        name: 'error-rate',
        prometheus: { query: ERROR_RATE_QUERY },
        pass: { max: 0.05 },
        // As release-fixtures.ts: the query's 2 s window is the interval, so a first release's
        // first measurement does not reach back to the 503s served before its pods were ready.
        interval: '2s',
        // Right after weights change the candidate may not have served a request yet.
        onNoData: 'pass',
      },
    ],
  };
}

/** The Secrets (and keys) the example's pod template refers to: env, envFrom and secret volumes. */
function secretsReferredTo(value: unknown, found = new Map<string, Set<string>>()): Map<string, Set<string>> {
  if (Array.isArray(value)) for (const item of value) secretsReferredTo(item, found);
  else if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const ref = (object.secretKeyRef ?? object.secretRef) as { name?: string; key?: string } | undefined;
    const volume = object.secret as { secretName?: string } | undefined;
    for (const name of [ref?.name, volume?.secretName]) {
      if (name && !found.has(name)) found.set(name, new Set());
    }
    if (ref?.name && ref.key) found.get(ref.name)!.add(ref.key);
    for (const item of Object.values(object)) secretsReferredTo(item, found);
  }
  return found;
}

// ---- what the spec says the live pod template is -----------------------------------------------

/** The apiserver's defaults for fields the examples leave out (only these may appear unasked). */
const POD_DEFAULTS: JsonObject = {
  dnsPolicy: 'ClusterFirst',
  restartPolicy: 'Always',
  schedulerName: 'default-scheduler',
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};
const PROBE_DEFAULTS: JsonObject = {
  failureThreshold: 3,
  periodSeconds: 10,
  successThreshold: 1,
  timeoutSeconds: 1,
};

function containerDefaults(c: Container): Container {
  return {
    imagePullPolicy: typeof c.image === 'string' && c.image.endsWith(':latest') ? 'Always' : 'IfNotPresent',
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    ...c,
    ...(Array.isArray(c.ports)
      ? { ports: c.ports.map((p) => ({ protocol: 'TCP', ...(p as JsonObject) })) }
      : {}),
  };
}

const quantities = (m: Record<string, string | number> = {}): Record<string, string> =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)]));

/**
 * The pod template of `track`'s Deployment for `version`, from the example as written and the rules
 * of docs/release-spec.md#template-a-full-pod-template: the serving container gets the image, the
 * `http` port (added when it has none), MODEL_NAME/MODEL_VERSION(/MODEL_URI) before its own env,
 * the resources (a limit equal to the request for extended resources such as nvidia.com/gpu) and
 * the probes (httpGet port defaulting to `http`); the template's labels get Slipway's; everything
 * else passes through as written. Then the apiserver's defaults.
 */
function expectedTemplate(
  written: Example,
  version: string,
  track: 'stable' | 'canary',
  annotations: Record<string, string>,
): JsonObject {
  const { serving } = written;
  const spec = serving.template.spec;
  const servingName = serving.container ?? spec.containers[0]!.name;
  const requests = quantities(serving.resources.requests);
  const limits = {
    ...Object.fromEntries(Object.entries(requests).filter(([name]) => name.includes('/'))),
    ...quantities(serving.resources.limits),
  };
  const probe = (p: JsonObject | undefined): JsonObject | undefined => {
    if (!p) return undefined;
    const httpGet = p.httpGet as JsonObject | undefined;
    return {
      ...PROBE_DEFAULTS,
      ...p,
      ...(httpGet ? { httpGet: { port: 'http', scheme: 'HTTP', ...httpGet } } : {}),
    };
  };
  const servingContainer = (c: Container): Container => {
    const ports = (c.ports ?? []) as JsonObject[];
    const env: Json[] = [
      { name: 'MODEL_NAME', value: written.model },
      { name: 'MODEL_VERSION', value: version },
      ...(serving.modelUri ? [{ name: 'MODEL_URI', value: serving.modelUri }] : []),
      ...((c.env ?? []) as Json[]),
    ];
    const probes = {
      readinessProbe: probe(serving.probes.readiness),
      livenessProbe: probe(serving.probes.liveness),
      startupProbe: probe(serving.probes.startup),
    };
    return containerDefaults({
      ...c,
      image: serving.image ?? (c.image as string),
      ports: ports.some((p) => p.name === 'http')
        ? ports
        : [{ name: 'http', containerPort: serving.port ?? 8000 }, ...ports],
      env,
      resources: { requests, limits },
      ...(Object.fromEntries(Object.entries(probes).filter(([, p]) => p !== undefined)) as JsonObject),
    });
  };
  return {
    metadata: {
      labels: {
        ...serving.template.metadata?.labels,
        'app.kubernetes.io/managed-by': 'slipway',
        'app.kubernetes.io/name': written.model,
        'app.kubernetes.io/version': version,
        'slipway.dev/track': track,
      },
      annotations: { ...serving.template.metadata?.annotations, ...serving.annotations, ...annotations },
    },
    spec: {
      ...POD_DEFAULTS,
      ...spec,
      containers: spec.containers.map((c) =>
        c.name === servingName ? servingContainer(c) : containerDefaults(c),
      ),
      ...(spec.initContainers
        ? { initContainers: spec.initContainers.map((c) => containerDefaults({ resources: {}, ...c })) }
        : {}),
    },
  };
}

// ---- reading the cluster -----------------------------------------------------------------------

const plain = (value: unknown): Json => JSON.parse(JSON.stringify(value ?? null)) as Json;

/**
 * The live pod template of a Deployment, without Slipway's own `slipway.dev/*` pod annotations
 * (docs/release-spec.md: "with Slipway's labels and annotations added"; which ones is Slipway's
 * business, not the example's). A `slipway.dev/version` among them must name the version.
 */
async function liveTemplate(name: string, version: string): Promise<JsonObject> {
  const d = await ns.apps.readNamespacedDeployment({ name, namespace: ns.name });
  const template = plain(d.spec?.template) as JsonObject & { metadata?: { annotations?: JsonObject } };
  const annotations = template.metadata?.annotations ?? {};
  const slipway = Object.keys(annotations).filter((key) => key.startsWith('slipway.dev/'));
  if ('slipway.dev/version' in annotations)
    assert.equal(annotations['slipway.dev/version'], version, `${name}'s slipway.dev/version`);
  for (const key of slipway) delete annotations[key];
  return template;
}

interface Placement {
  pod: string;
  node: string;
  ready: boolean;
  nodeLabels: Record<string, string>;
  nodeTaints: k8s.V1Taint[];
  nodeGpus: number;
}

/** Where the live (not terminating) pods of one track and version run, with their nodes. */
async function placements(model: string, track: string, version: string): Promise<Placement[]> {
  const pods = await ns.core.listNamespacedPod({
    namespace: ns.name,
    labelSelector: `app.kubernetes.io/name=${model},slipway.dev/track=${track},app.kubernetes.io/version=${version}`,
  });
  const result: Placement[] = [];
  for (const pod of pods.items.filter((p) => !p.metadata?.deletionTimestamp)) {
    const nodeName = pod.spec?.nodeName ?? '';
    const node = nodeName ? await ns.core.readNode({ name: nodeName }) : undefined;
    result.push({
      pod: pod.metadata?.name ?? '?',
      node: nodeName,
      ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      nodeLabels: node?.metadata?.labels ?? {},
      nodeTaints: node?.spec?.taints ?? [],
      nodeGpus: Number(node?.status?.allocatable?.['nvidia.com/gpu'] ?? 0),
    });
  }
  return result.sort((a, b) => a.pod.localeCompare(b.pod));
}

// ---- the examples --------------------------------------------------------------------------------

interface Case {
  file: string;
  /** The nodes the example's pods must land on, and why. */
  nodes: RegExp;
  pool: string;
  /** Checks that name the issue's points literally, so an example that lost them fails here. */
  literal(template: JsonObject): void;
}

const cases: Case[] = [
  {
    file: 'triton-model-repo.yaml',
    nodes: /^kwok-gpu-[01]$/,
    pool: 'the untainted GPU nodes (no toleration, no selector)',
    literal(template) {
      const spec = template.spec as JsonObject;
      const [triton] = spec.containers as JsonObject[];
      const [init] = spec.initContainers as JsonObject[];
      assert.equal(triton?.name, 'triton');
      assert.equal(triton?.image, 'nvcr.io/nvidia/tritonserver:24.05-py3');
      assert.deepEqual(triton?.command, ['tritonserver']);
      assert.deepEqual(triton?.args, ['--model-repository=/models', '--http-port=8000', '--grpc-port=8001']);
      assert.deepEqual(triton?.volumeMounts, [
        { name: 'model-repository', mountPath: '/models', readOnly: true },
      ]);
      assert.deepEqual((triton?.resources as JsonObject).limits, { 'nvidia.com/gpu': '1' });
      assert.deepEqual(
        (triton?.env as JsonObject[]).find((e) => e.name === 'MODEL_URI'),
        { name: 'MODEL_URI', value: 's3://models/resnet/12' },
      );
      assert.equal(init?.name, 'fetch-model');
      assert.deepEqual(init?.command, ['aws', 's3', 'sync', 's3://models/resnet/', '/models/resnet/']);
      assert.deepEqual(init?.volumeMounts, [{ name: 'model-repository', mountPath: '/models' }]);
      assert.deepEqual(spec.volumes, [{ name: 'model-repository', emptyDir: { sizeLimit: '20Gi' } }]);
      assert.equal((triton?.startupProbe as JsonObject).failureThreshold, 60);
    },
  },
  {
    file: 'vllm.yaml',
    nodes: /^kwok-a100-[01]$/,
    pool: 'the tainted A100 pool',
    literal(template) {
      const spec = template.spec as JsonObject;
      const [vllm] = spec.containers as JsonObject[];
      assert.equal(vllm?.name, 'vllm');
      assert.deepEqual(vllm?.args, [
        '--model=meta-llama/Llama-3.1-8B-Instruct',
        '--tensor-parallel-size=2',
        '--port=8000',
      ]);
      assert.deepEqual(
        (vllm?.env as JsonObject[]).find((e) => e.name === 'HF_TOKEN'),
        { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token' } } },
      );
      assert.deepEqual(vllm?.volumeMounts, [{ name: 'dshm', mountPath: '/dev/shm' }]);
      assert.deepEqual(spec.volumes, [{ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '16Gi' } }]);
      assert.deepEqual(vllm?.resources, {
        requests: { cpu: '8', memory: '48Gi', 'nvidia.com/gpu': '2' },
        limits: { 'nvidia.com/gpu': '2' },
      });
      const startup = vllm?.startupProbe as JsonObject;
      assert.deepEqual([startup.periodSeconds, startup.failureThreshold], [10, 180]);
      assert.deepEqual(spec.tolerations, [
        { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
      ]);
      assert.deepEqual(spec.nodeSelector, { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' });
      assert.equal(spec.terminationGracePeriodSeconds, 60);
      assert.equal(((template.metadata as JsonObject).labels as JsonObject).team, 'llm');
    },
  },
];

function outcomeOf(result: ReleaseResult): string {
  return `${result.outcome.result} (${result.outcome.failureType ?? '-'}): ${result.outcome.reason}`;
}

function start(spec: ReleaseSpecInput): Promise<Handle> {
  return env.client.workflow.start(release, {
    taskQueue,
    workflowId: releaseWorkflowId(spec.namespace, spec.model),
    args: [{ spec, submittedBy: 'ci' }],
  });
}

let releaseGpuPools: (() => void) | undefined;

before(async () => {
  // Its releases fill the GPU pools, which other files need free.
  releaseGpuPools = await holdGpuPools();
  env = await devServerEnv();
  ns = await createTestNamespace('examples');
  // The Secrets the examples refer to (vLLM's HF_TOKEN), with every key they name.
  const secrets = new Map<string, Set<string>>();
  for (const { file } of cases) {
    for (const [name, keys] of secretsReferredTo(example(file).serving.template)) {
      secrets.set(name, new Set([...(secrets.get(name) ?? []), ...keys]));
    }
  }
  assert.deepEqual(
    [...secrets].map(([name, keys]) => [name, [...keys]]),
    [['hf-token', ['token']]],
  );
  for (const [name, keys] of secrets) {
    await ns.core.createNamespacedSecret({
      namespace: ns.name,
      body: {
        metadata: { name },
        stringData: Object.fromEntries([...keys].map((key) => [key, `test-${key}`])),
      },
    });
  }
  worker = await startRealWorker(env, taskQueue, ns.kc);
});

after(async () => {
  await worker?.stop();
  if (ns) {
    // The GPU pools are shared with other test files: wait until this file's pods are gone.
    await ns.delete();
    await pollUntil(
      () => ns.core.listNamespacedPod({ namespace: ns.name }).then((l) => l.items.length),
      (n) => n === 0,
      20_000,
    ).catch(() => undefined);
  }
  await env?.teardown();
  releaseGpuPools?.();
});

describe('the GPU examples released on the real stack', { timeout: 170_000 }, () => {
  for (const c of cases) {
    describe(`examples/${c.file}`, () => {
      const written = example(c.file);
      const model = written.model;
      let afterV1: ModelObjects | undefined;
      let afterV2: ModelObjects | undefined;

      async function assertOnPool(track: string, version: string): Promise<void> {
        const wanted = written.serving.replicas;
        const placed = await pollUntil(
          () => placements(model, track, version),
          (p) => p.length === wanted && p.every((x) => x.ready),
          15_000,
        );
        const described = JSON.stringify(placed.map((p) => [p.pod, p.node, p.ready]));
        assert.equal(placed.length, wanted, `${wanted} ${track} pods of ${version}: ${described}`);
        const selector = written.serving.template.spec.nodeSelector as Record<string, string> | undefined;
        const tolerated = (written.serving.template.spec.tolerations ?? []) as Json[];
        const gpus = Number(written.serving.resources.requests['nvidia.com/gpu']);
        for (const p of placed) {
          assert.ok(p.ready, `${p.pod} is Ready: ${described}`);
          assert.match(p.node, c.nodes, `${p.pod} runs on ${c.pool}: ${described}`);
          assert.ok(p.nodeGpus >= gpus, `${p.node} has ${p.nodeGpus} GPUs for ${gpus}`);
          for (const [key, value] of Object.entries(selector ?? {}))
            assert.equal(p.nodeLabels[key], value, `${p.node} has the nodeSelector's ${key}`);
          // vLLM tolerates the A100 pool's taint and lands there; Triton tolerates nothing and must
          // land on an untainted node.
          assert.equal(
            p.nodeTaints.some((t) => t.key === 'nvidia.com/gpu' && t.effect === 'NoSchedule'),
            tolerated.length > 0,
            `${p.node}'s taints ${JSON.stringify(p.nodeTaints)}`,
          );
        }
      }

      it(
        'v1, a first release, is Promoted; the stable pod template is the example, field by field, on the GPU pool',
        { timeout: 60_000 },
        async () => {
          const handle = await start(localSpec(c.file, 'v1', { hold: '6s' }));
          const result = await resultWithin<ReleaseResult>(handle, 60_000);
          assert.equal(result.outcome.result, 'Promoted', outcomeOf(result));
          const status = await handle.query(statusQuery);
          assert.equal(status.firstRelease, true);

          const template = await liveTemplate(model, 'v1');
          const diff = jsonDiff(expectedTemplate(written, 'v1', 'stable', LOCAL_ANNOTATIONS), template);
          assert.deepEqual(
            diff,
            [],
            `the live stable pod template differs from the example:\n${diff.join('\n')}`,
          );
          c.literal(template);
          // Every Secret key the live template refers to (vLLM's HF_TOKEN) is there to be read.
          for (const [name, keys] of secretsReferredTo(template)) {
            const secret = await ns.core.readNamespacedSecret({ name, namespace: ns.name });
            for (const key of keys) assert.ok(key in (secret.data ?? {}), `Secret ${name} has ${key}`);
          }
          await assertOnPool('stable', 'v1');
          afterV1 = await readModelObjects(ns, ns.name, model);
        },
      );

      it(
        "v2, a canary through the example's steps, is Promoted; both tracks ran the example's pod template on the GPU pool",
        { timeout: 60_000 },
        async () => {
          assert.ok(afterV1, 'v1 was released');
          const handle = await start(localSpec(c.file, 'v2', { hold: '6s' }));
          // The candidate runs the same pod template (track canary), on the same pool.
          await waitForStatus(
            handle,
            (s) => s.stage === 'canary' && s.weights.canary > 0,
            'the first canary step',
            30_000,
          );
          const candidate = await liveTemplate(`${model}-canary`, 'v2');
          const candidateDiff = jsonDiff(
            expectedTemplate(written, 'v2', 'canary', LOCAL_ANNOTATIONS),
            candidate,
          );
          assert.deepEqual(candidateDiff, [], `the candidate's pod template:\n${candidateDiff.join('\n')}`);
          await assertOnPool('canary', 'v2');

          const result = await resultWithin<ReleaseResult>(handle, 60_000);
          assert.equal(result.outcome.result, 'Promoted', outcomeOf(result));
          const status = await handle.query(statusQuery);
          assert.equal(status.firstRelease, false);
          assert.equal(status.stableVersion, 'v1');
          const messages = status.timeline.map((e) => e.message);
          for (const [i, step] of written.canary.steps.entries()) {
            const line = `canary step ${i + 1}/${written.canary.steps.length}: ${step.weight}% of traffic to v2`;
            assert.ok(messages.includes(line), `${line} in ${JSON.stringify(messages)}`);
          }
          const measured = status.measurements.filter(
            (m) => m.gate === 'error-rate' && m.value !== undefined,
          );
          assert.ok(
            measured.length > 0,
            `the gate measured the candidate's traffic: ${JSON.stringify(status.measurements)}`,
          );
          assert.ok(
            measured.every((m) => m.verdict === 'pass'),
            JSON.stringify(measured),
          );

          const template = await liveTemplate(model, 'v2');
          const diff = jsonDiff(expectedTemplate(written, 'v2', 'stable', LOCAL_ANNOTATIONS), template);
          assert.deepEqual(
            diff,
            [],
            `the live stable pod template differs from the example:\n${diff.join('\n')}`,
          );
          c.literal(template);
          await assertOnPool('stable', 'v2');

          // The promotion changed the stable Deployment in the version and nothing else: every
          // difference from v1 is v1 → v2 (or Slipway's own annotations), the pods' label and
          // MODEL_VERSION among them.
          afterV2 = await readModelObjects(ns, ns.name, model);
          const promoted = differences(afterV1, afterV2);
          const index = written.serving.template.spec.containers.findIndex(
            (x) =>
              x.name === (written.serving.container ?? written.serving.template.spec.containers[0]!.name),
          );
          for (const line of [
            'Deployment spec.template.metadata.labels.app.kubernetes.io/version: "v1" → "v2"',
            `Deployment spec.template.spec.containers[${index}].env[1].value: "v1" → "v2"`,
          ])
            assert.ok(promoted.includes(line), `${line} in:\n${promoted.join('\n')}`);
          const other = promoted.filter(
            (line) => !line.endsWith(': "v1" → "v2"') && !line.includes('slipway.dev/'),
          );
          assert.deepEqual(other, [], `the promotion changed more than the version:\n${other.join('\n')}`);
          assert.deepEqual(await clusterState(ns, ns.name, model), {
            stableVersion: 'v2',
            stableImage: written.serving.image ?? written.serving.template.spec.containers[0]!.image,
            candidateExists: false,
            weights: { stable: 100, canary: 0 },
            mirror: false,
          });
        },
      );

      it(
        'v3, whose gate fails, is RolledBack; the stable Deployment, Services and route are exactly as before v3',
        { timeout: 60_000 },
        async (t) => {
          assert.ok(afterV2, 'v2 was released');
          const before = await readModelObjects(ns, ns.name, model);
          assert.ok(before.deployment, 'a stable Deployment before v3');
          const handle = await start(localSpec(c.file, 'v3', { hold: '60s', failing: true }));
          const result = await resultWithin<ReleaseResult>(handle, 45_000);
          assert.equal(result.outcome.result, 'RolledBack', outcomeOf(result));
          assert.equal(result.outcome.failureType, 'GateFailed', outcomeOf(result));
          assert.match(result.outcome.reason, /^gate error-rate failed/);
          const { timeline } = await handle.query(statusQuery);
          const first = written.canary.steps[0]!;
          const step = `canary step 1/${written.canary.steps.length}: ${first.weight}% of traffic to v3`;
          assert.ok(
            timeline.some((e) => e.message === step),
            `v3's candidate took traffic before the rollback: ${JSON.stringify(timeline.map((e) => e.message))}`,
          );

          const restored = await readModelObjects(ns, ns.name, model);
          const notes: string[] = [];
          const diff = differences(before, restored, notes);
          for (const note of notes) t.diagnostic(`note: ${note}`);
          assert.deepEqual(diff, [], `not restored exactly:\n${diff.join('\n')}`);
          assert.equal(
            restored.deployment?.revision,
            before.deployment.revision,
            'no new revision of the stable',
          );
          assert.deepEqual(await clusterState(ns, ns.name, model), {
            stableVersion: 'v2',
            stableImage: written.serving.image ?? written.serving.template.spec.containers[0]!.image,
            candidateExists: false,
            weights: { stable: 100, canary: 0 },
            mirror: false,
          });
          await assertOnPool('stable', 'v2');
        },
      );
    });
  }
});
