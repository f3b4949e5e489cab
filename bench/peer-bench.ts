// The peer, side by side: Slipway, Argo Rollouts (v1.10.x) and Flagger (both built from the Go
// module proxy) run the same scenario on the same local cluster, traffic simulator and Prometheus
// (bench/peer/scenario.ts), one tool after the other, per routing both have natively:
//  - `replicas`: replica-based canary (Slipway's replica-ratio router, Argo's canary without a
//    traffic router); Flagger has none and is not run;
//  - `istio`: Istio VirtualService weights (Slipway's istio router, Argo's trafficRouting.istio,
//    Flagger's istio provider); no mesh runs, the simulator routes by the VirtualService.
// A good candidate through 25% and 50% with 3 s holds, then a bad one (50% errors) failing the same
// error-rate query at the same 2 s interval (an AnalysisTemplate for Argo, run as background
// analysis; a MetricTemplate for Flagger, whose analysis interval cannot go below 10 s).
// Figures, for every tool, measured the same way (bench/peer/parts.ts):
//  - reaction: the first failing sample of the gate's query in Prometheus (100 ms resolution) → the
//    first poll (25 ms) with the candidate serving nothing: no ready, non-terminating candidate pod
//    (replicas; the simulator's split follows ready pods) or a weight of 0 in the VirtualService
//    (istio; the simulator's split follows it);
//  - per-step overhead: a step's duration (set the weight, pods ready, hold) minus its hold: Slipway's
//    from its timeline, Argo's from the Rollout's currentStepIndex, Flagger's from the Canary's
//    canaryWeight and phase, each seen through a watch;
//  - apiserver requests each tool sent (through its own counting proxy; a watch counts once), and
//    apiserver_request_total's increase during its part less the bench's own requests;
//  - resident memory (peak and at the end) of the Argo and Flagger controller processes and of a
//    Slipway worker process (worker/main.ts with a prebuilt workflow bundle, as operators run it);
//  - the tool's requests in the 30 s after its last release, and bad candidates it promoted.
// Prints a JSON document and a table per routing.
// `npm run bench -- peer [--routing replicas|istio|all] [--runs 2] [--tools slipway,argo,flagger]`
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { startCountingProxy } from './peer/counting-proxy.ts';
import { argoPart, flaggerPart, slipwayPart, type PartContext, type ToolFigures } from './peer/parts.ts';
import { ratios, table, toRow } from './peer/report.ts';
import {
  BAD_STEP,
  FLAGGER_INTERVAL_MS,
  GATE,
  GOOD_STEPS,
  REPLICAS,
  parseRouting,
  type Routing,
} from './peer/scenario.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '2' },
    routing: { type: 'string', default: 'all' },
    tools: { type: 'string', default: 'slipway,argo,flagger' },
  },
});
const runs = Number(values.runs);
const routings = parseRouting(values.routing);
const tools = new Set(values.tools.split(',').map((t) => t.trim()));

const ROUTING_DESCRIPTIONS: Record<Routing, string> = {
  replicas:
    'replica-based canary, no traffic router (Slipway replica-ratio; Argo canary without trafficRouting; Flagger has none)',
  istio:
    'Istio VirtualService weights, host-based destinations (Slipway istio router; Argo trafficRouting.istio with stableService/canaryService; Flagger provider istio), no mesh: the simulator routes by the VirtualService',
};

const admin = new k8s.KubeConfig();
admin.loadFromDefault();
const namespace = `peer-bench-${Date.now().toString(36)}`;
await admin.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
// The bench's own requests (its polls, the objects it writes and waits for) go through a counting
// proxy too, so they can be taken out of the apiserver's all-clients figure.
const observer = await startCountingProxy('bench', namespace);
const kc = new k8s.KubeConfig();
kc.loadFromFile(observer.kubeconfig);

const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:17233' });
const client = new Client({ connection });
const results: Array<{ routing: Routing; figures: ToolFigures[] }> = [];
try {
  for (const routing of routings) {
    const ctx: PartContext = { namespace, routing, runs, kc, observer };
    const figures: ToolFigures[] = [];
    if (tools.has('slipway')) figures.push(await slipwayPart(ctx, client));
    if (tools.has('argo')) figures.push(await argoPart(ctx));
    if (tools.has('flagger') && routing === 'istio') figures.push(await flaggerPart(ctx));
    results.push({ routing, figures });
  }
} finally {
  await connection.close();
  await observer.close();
  await admin
    .makeApiClient(k8s.CoreV1Api)
    .deleteNamespace({ name: namespace })
    .catch(() => undefined);
}

const report = results.map(({ routing, figures }) => {
  const rows = figures.map(toRow);
  const slipway = rows.find((r) => r.tool === 'slipway');
  return {
    routing,
    description: ROUTING_DESCRIPTIONS[routing],
    tools: rows,
    ratiosSlipwayTo: Object.fromEntries(
      rows.filter((r) => r !== slipway).map((r) => [r.tool, slipway ? ratios(slipway, r) : null]),
    ),
  };
});
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
        flagger: {
          analysisIntervalMs: FLAGGER_INTERVAL_MS,
          note: 'Flagger holds each step one analysis interval and checks the gate once per interval, at least 10 s (its floor); its query gets ">= 0 or vector(0)" (no data passes, as onNoData: pass)',
        },
      },
      routings: report,
      notes: [
        'requests: the worker process\u2019s own (Slipway), the controller\u2019s (Argo, Flagger), each through a counting proxy',
        'apiserverRequestsOtherClients: apiserver_request_total during that tool\u2019s part less the bench\u2019s own requests: the tool, the controller-manager, scheduler, KWOK, the simulator and anything else on the shared stack',
        'requestsAfterPerModel: the tool\u2019s requests in the 30 s after its last release, per model: delayed scale-downs (Argo\u2019s abortScaleDownDelaySeconds), resyncs, and Flagger\u2019s reconcile of every Canary each analysis interval, idle or not',
        'badPromoted, anomalies: a bad candidate the tool promoted instead of rolling back (it has no reaction), with what its check read and what Prometheus holds',
      ],
    },
    null,
    2,
  ),
);
for (const { routing, tools: rows } of report) {
  console.log(`\nrouting ${routing}: ${ROUTING_DESCRIPTIONS[routing]}\n`);
  for (const line of table(rows)) console.log(line);
}
process.exit(0);
