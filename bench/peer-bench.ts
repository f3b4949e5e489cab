// The peer, side by side: Slipway and Argo Rollouts (v1.10.x, built from the Go module proxy) run the
// same scenario on the same local cluster, traffic simulator and Prometheus (bench/peer/scenario.ts):
// replica-based canary (Slipway's replica-ratio router, Argo's canary without a traffic router), a
// good candidate through 25% and 50% with 3 s holds, then a bad one (50% errors) failing the same
// error-rate query at the same 2 s interval (an AnalysisTemplate for Argo, run as background analysis).
// Figures, for both, measured the same way:
//  - reaction: the first failing sample of the gate's query in Prometheus (100 ms resolution) → the
//    first poll (25 ms) with no ready, non-terminating candidate pod (the simulator's split follows
//    ready pods, so that is 100% stable);
//  - per-step overhead: a step's duration (set the weight, pods ready, hold) minus its hold: Slipway's
//    from its timeline, Argo's from the Rollout's currentStepIndex seen through a watch;
//  - apiserver requests each tool sent (through its own counting proxy; a watch counts once), and
//    apiserver_request_total's increase during its part less the bench's own requests (the tool and
//    every other client of the shared stack: controller-manager, scheduler, KWOK, simulator, others);
//  - resident memory (peak and at the end) of the Argo controller process and of a Slipway worker
//    process (worker/main.ts with a prebuilt workflow bundle, as operators run it).
// Prints a JSON document and a table. `npm run bench -- peer [--runs 2]`
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../worker/create-worker.ts';
import { startWorkerProcess } from '../test/helpers/worker-process.ts';
import { summary } from './local-worker.ts';
import { apiserverRequestTotal } from './peer/apiserver-metrics.ts';
import { startArgoController } from './peer/argo-controller.ts';
import { ArgoSide, watchRollout } from './peer/argo-side.ts';
import { startCountingProxy, type RequestCounts } from './peer/counting-proxy.ts';
import { firstFailingSample, watchCandidatePods } from './peer/observe.ts';
import { sampleMemory } from './peer/process-memory.ts';
import { BAD_STEP, GATE, GOOD_STEPS, REPLICAS, VERSIONS, gateQuery } from './peer/scenario.ts';
import { SLIPWAY_BAD_STEPS, SlipwaySide } from './peer/slipway-side.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '2' } } });
const runs = Number(values.runs);

const admin = new k8s.KubeConfig();
admin.loadFromDefault();
const namespace = `peer-bench-${Date.now().toString(36)}`;
await admin.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
// The bench's own requests (its pod polls, the Rollouts it writes and waits for) go through a
// counting proxy too, so they can be taken out of the apiserver's all-clients figure.
const observer = await startCountingProxy('bench', namespace);
const kc = new k8s.KubeConfig();
kc.loadFromFile(observer.kubeconfig);
const core = kc.makeApiClient(k8s.CoreV1Api);

interface ToolFigures {
  tool: string;
  version: string;
  releases: number;
  reactionMs: number[];
  overheadPerStepMs: number[];
  requests: RequestCounts;
  /** apiserver_request_total's increase during the tool's part, less the bench's own requests. */
  apiserverRequestsOtherClients: number;
  memory: { peakMiB: number; lastMiB: number; samples: number };
  durationMs: number;
}

/** Reaction of one bad release: first failing sample → candidate without ready pods. */
async function reaction(
  model: string,
  startedAt: number,
  pods: ReturnType<typeof watchCandidatePods>,
  waitGone: number,
): Promise<number> {
  const deadline = Date.now() + waitGone;
  let failing: number | undefined;
  let gone: number | undefined;
  while (Date.now() < deadline) {
    failing ??= await firstFailingSample(
      gateQuery(namespace, model, VERSIONS.bad),
      GATE.max,
      startedAt,
      Date.now(),
    );
    gone = failing === undefined ? undefined : pods.goneAfter(failing);
    if (gone !== undefined) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await pods.stop();
  if (failing === undefined) throw new Error(`${model}: Prometheus never held a failing sample`);
  if (gone === undefined) throw new Error(`${model}: the bad candidate kept ready pods`);
  return gone - failing;
}

async function slipwayPart(client: Client): Promise<ToolFigures> {
  const bundle = join(mkdtempSync(join(tmpdir(), 'peer-bundle-')), 'workflow-bundle.js');
  writeFileSync(bundle, (await bundleWorkflowCode({ workflowsPath })).code);
  const proxy = await startCountingProxy('slipway', namespace);
  const taskQueue = `peer-bench-${process.pid}`;
  const apiBefore = await apiserverRequestTotal();
  observer.reset();
  const started = Date.now();
  const worker = await startWorkerProcess(taskQueue, {
    KUBECONFIG: proxy.kubeconfig,
    SLIPWAY_WORKFLOW_BUNDLE: bundle,
    SLIPWAY_WORKER_HTTP: 'off',
  });
  const memory = sampleMemory(worker.child.pid ?? 0);
  const side = new SlipwaySide(client, taskQueue, namespace);
  const figures = { reactionMs: [] as number[], overheadPerStepMs: [] as number[] };
  try {
    for (let i = 0; i < runs; i++) {
      const model = `slipway-${i}`;
      const first = await side.run(model, VERSIONS.stable, undefined);
      if (first.result.outcome.result !== 'Promoted')
        throw new Error(`${model} v1: ${first.result.outcome.reason}`);
      const good = await side.run(model, VERSIONS.good, GOOD_STEPS);
      if (good.result.outcome.result !== 'Promoted')
        throw new Error(`${model} v2: ${good.result.outcome.reason}`);
      figures.overheadPerStepMs.push(...SlipwaySide.overheads(good.status));
      const pods = watchCandidatePods(core, namespace, model, VERSIONS.bad);
      const bad = await side.run(model, VERSIONS.bad, SLIPWAY_BAD_STEPS, true);
      if (bad.result.outcome.failureType !== 'GateFailed')
        throw new Error(`${model} v3: ${bad.result.outcome.result} ${bad.result.outcome.reason}`);
      figures.reactionMs.push(await reaction(model, bad.startedAt, pods, 30_000));
    }
  } finally {
    await worker.stop();
  }
  const result: ToolFigures = {
    tool: 'slipway',
    version: 'this repository (replica-ratio router)',
    releases: 3 * runs,
    ...figures,
    requests: proxy.counts(),
    apiserverRequestsOtherClients: (await apiserverRequestTotal()) - apiBefore - observer.counts().total,
    memory: memory.stop(),
    durationMs: Date.now() - started,
  };
  await proxy.close();
  return result;
}

async function argoPart(): Promise<ToolFigures> {
  const proxy = await startCountingProxy('argo', namespace);
  const apiBefore = await apiserverRequestTotal();
  observer.reset();
  const started = Date.now();
  const controller = await startArgoController(namespace, proxy.kubeconfig);
  const memory = sampleMemory(controller.pid);
  const side = new ArgoSide(kc, namespace);
  const figures = { reactionMs: [] as number[], overheadPerStepMs: [] as number[] };
  try {
    for (let i = 0; i < runs; i++) {
      const model = `argo-${i}`;
      await side.create(model);
      const steps = await watchRollout(kc, namespace, model);
      const patchedAt = await side.release(model, VERSIONS.good, false);
      await side.until(
        model,
        'v2 promoted',
        (s) =>
          s.phase === 'Healthy' &&
          s.currentStepIndex === 2 * GOOD_STEPS.length &&
          s.stableRS === s.currentPodHash,
      );
      steps.stop();
      GOOD_STEPS.forEach((step, k) => {
        const start = k === 0 ? (steps.seen.get(0) ?? patchedAt) : steps.seen.get(2 * k);
        const end = steps.seen.get(2 * k + 2);
        figures.overheadPerStepMs.push(
          start !== undefined && end !== undefined ? end - start - step.holdMs : NaN,
        );
      });
      const pods = watchCandidatePods(core, namespace, model, VERSIONS.bad);
      const badAt = await side.release(model, VERSIONS.bad, true);
      await side.until(model, 'v3 aborted', (s) => s.abort === true, BAD_STEP.holdMs);
      figures.reactionMs.push(await reaction(model, badAt, pods, 30_000));
    }
  } finally {
    await controller.stop().catch(() => undefined);
  }
  const result: ToolFigures = {
    tool: 'argo-rollouts',
    version: controller.version,
    releases: 3 * runs,
    ...figures,
    requests: proxy.counts(),
    apiserverRequestsOtherClients: (await apiserverRequestTotal()) - apiBefore - observer.counts().total,
    memory: memory.stop(),
    durationMs: Date.now() - started,
  };
  await proxy.close();
  return result;
}

const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:17233' });
const client = new Client({ connection });
let tools: ToolFigures[];
try {
  tools = [await slipwayPart(client), await argoPart()];
} finally {
  await connection.close();
  await observer.close();
  await admin
    .makeApiClient(k8s.CoreV1Api)
    .deleteNamespace({ name: namespace })
    .catch(() => undefined);
}

const round = (x: number) => Math.round(x * 100) / 100;
const [slipway, argo] = tools;
const rows = tools.map((t) => ({
  tool: t.tool,
  version: t.version,
  releases: t.releases,
  reactionMs: summary(t.reactionMs),
  overheadPerStepMs: summary(t.overheadPerStepMs),
  apiserverRequests: { ...t.requests, perRelease: round(t.requests.total / t.releases) },
  apiserverRequestsOtherClients: t.apiserverRequestsOtherClients,
  memoryMiB: { peak: t.memory.peakMiB, end: t.memory.lastMiB },
  durationMs: t.durationMs,
}));
const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && b > 0 && a >= 0 ? round(a / b) : null; // no ratio of a negative figure
const [s, a] = rows;
const ratios = {
  reaction: ratio(s?.reactionMs.median, a?.reactionMs.median),
  overheadPerStep: ratio(s?.overheadPerStepMs.median, a?.overheadPerStepMs.median),
  apiserverRequestsPerRelease: ratio(s?.apiserverRequests.perRelease, a?.apiserverRequests.perRelease),
  peakMemory: ratio(s?.memoryMiB.peak, a?.memoryMiB.peak),
};
console.log(
  JSON.stringify(
    {
      benchmark: 'peer',
      runs,
      scenario: {
        replicas: REPLICAS,
        goodSteps: GOOD_STEPS,
        badStep: BAD_STEP,
        gate: { query: GATE.query, max: GATE.max, intervalMs: GATE.intervalMs },
        podReadyDelayMs: 500,
        routing:
          'replica-based canary, no traffic router (Slipway replica-ratio; Argo canary without trafficRouting)',
      },
      tools: rows,
      ratiosSlipwayToArgo: ratios,
      notes: [
        `${slipway?.tool ?? ''} requests: the worker process's own (counting proxy); ${argo?.tool ?? ''}: the controller's`,
        'apiserverRequestsOtherClients: apiserver_request_total during that tool\u2019s part less the bench\u2019s own requests: the tool, the controller-manager, scheduler, KWOK, the simulator and anything else on the shared stack',
        'flagger: not run (see docs/performance.md)',
      ],
    },
    null,
    2,
  ),
);
console.log('\n| figure | Slipway | Argo Rollouts | Slipway / Argo |\n|---|---|---|---|');
const line = (name: string, sv: string, av: string, r: number | null) =>
  console.log(`| ${name} | ${sv} | ${av} | ${r ?? 'n/a'} |`);
const med = (x: { median: number; p90: number; n: number } | undefined) =>
  x ? `${x.median} (p90 ${x.p90}, n ${x.n})` : 'n/a';
line(
  'reaction ms, first failing sample → 100% stable',
  med(s?.reactionMs),
  med(a?.reactionMs),
  ratios.reaction,
);
line('overhead per step ms', med(s?.overheadPerStepMs), med(a?.overheadPerStepMs), ratios.overheadPerStep);
line(
  'apiserver requests per release (tool only)',
  `${s?.apiserverRequests.perRelease ?? 'n/a'} (${s?.apiserverRequests.total ?? 0} in ${s?.releases ?? 0})`,
  `${a?.apiserverRequests.perRelease ?? 'n/a'} (${a?.apiserverRequests.total ?? 0} in ${a?.releases ?? 0})`,
  ratios.apiserverRequestsPerRelease,
);
line(
  'apiserver requests during the part, every client but the bench',
  String(s?.apiserverRequestsOtherClients ?? 'n/a'),
  String(a?.apiserverRequestsOtherClients ?? 'n/a'),
  ratio(s?.apiserverRequestsOtherClients, a?.apiserverRequestsOtherClients),
);
line(
  'memory MiB, peak (end)',
  `${s?.memoryMiB.peak ?? 'n/a'} (${s?.memoryMiB.end ?? 'n/a'})`,
  `${a?.memoryMiB.peak ?? 'n/a'} (${a?.memoryMiB.end ?? 'n/a'})`,
  ratios.peakMemory,
);
process.exit(0);
