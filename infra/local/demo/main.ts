// `npm run demo`: the local stack, a worker, and a short release story on real Kubernetes:
//   v1 — first release (deployed as stable)
//   v2 — good: shadow → canary steps → approval (given by the demo as "demo-approver") → promoted
//   v3 — bad: 30% errors (simulator annotation) → error-rate gate fails → rolled back automatically
// Options: --keep (leave the demo namespace and the stack running), --down (stop the stack after).
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../../../activities/index.ts';
import { createKubernetesClients } from '../../../activities/kubernetes/clients.ts';
import { TASK_QUEUE, releaseWorkflowId } from '../../../workflows/ids.ts';
import { approveUpdate, statusQuery } from '../../../workflows/messages.ts';
import { release } from '../../../workflows/release.ts';
import type { ReleaseSpecInput } from '../../../workflows/spec.ts';
import type { ReleaseStatus } from '../../../workflows/status.ts';
import { loadStackConfig } from '../stack/config.ts';
import { stackDown, stackEnv, stackUp } from '../stack/stack.ts';

const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false }, down: { type: 'boolean', default: false } } });
const started = Date.now();
const say = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`);

const config = loadStackConfig();
say('bringing up the local stack (first run builds Kubernetes; later runs reuse the cache)');
await stackUp(config);
Object.assign(process.env, stackEnv(config));

Runtime.install({ logger: new DefaultLogger('ERROR') });
const kc = new k8s.KubeConfig();
kc.loadFromDefault();
const core = kc.makeApiClient(k8s.CoreV1Api);
const namespace = 'slipway-demo';
await core.deleteNamespace({ name: namespace }).catch(() => undefined);
for (;;) {
  try {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    break;
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the previous demo namespace is still terminating
  }
}

const address = process.env.TEMPORAL_ADDRESS!;
const taskQueue = `${TASK_QUEUE}-demo`;
const worker = await Worker.create({
  connection: await NativeConnection.connect({ address }),
  taskQueue,
  workflowsPath: fileURLToPath(new URL('../../../workflows/index.ts', import.meta.url)),
  activities: createActivities({ kubernetes: createKubernetesClients(kc), prometheusUrl: process.env.PROMETHEUS_URL }),
});
const workerRun = worker.run();
const client = new Client({ connection: await Connection.connect({ address }) });

// A demo interrupted earlier may have left its release running with no worker: end it (the demo owns
// the slipway-demo namespace, and one release per model is active at a time).
await client.workflow
  .getHandle(releaseWorkflowId(namespace, 'fraud-detector'))
  .terminate('a new demo run starts')
  .catch(() => undefined);

const ERROR_RATE =
  '(sum(rate(model_requests_total{namespace="{{namespace}}",model="{{model}}",version="{{version}}",code=~"5.."}[3s])) or vector(0))' +
  ' / sum(rate(model_requests_total{namespace="{{namespace}}",model="{{model}}",version="{{version}}"}[3s]))';

function spec(version: string, annotations: Record<string, string> = {}): ReleaseSpecInput {
  return {
    model: 'fraud-detector',
    namespace,
    version,
    serving: {
      image: `registry.example.com/fraud-detector:${version}`,
      modelUri: `s3://models/fraud-detector/${version}`,
      // 3 + 3 candidate + 1 surge pod = 7 of the local cluster's 8 GPUs (4 would not fit: a real
      // scheduler leaves the promotion's surge pod Pending and the progress deadline rolls back).
      replicas: 3,
      resources: { requests: { cpu: '2', memory: '8Gi', 'nvidia.com/gpu': '1' } },
      annotations: { 'pod-ready.stage.kwok.x-k8s.io/delay': '1s', 'sim.slipway.dev/latency-ms': '40', ...annotations },
      progressDeadlineSeconds: 60,
    },
    traffic: { router: 'gateway-api' },
    shadow: { duration: '5s', mirrorPercent: 100, gates: ['error-rate'] },
    canary: {
      steps: [{ weight: 10, hold: '5s' }, { weight: 25, hold: '5s' }, { approval: { timeout: '10m' } }, { weight: 50, hold: '5s' }],
      gates: ['error-rate'],
    },
    gates: [{ name: 'error-rate', prometheus: { query: ERROR_RATE }, pass: { max: 0.02 }, interval: '3s', onNoData: 'pass' }],
  };
}

function describe(s: ReleaseStatus): string {
  const bar = '#'.repeat(Math.round(s.weights.canary / 5)).padEnd(20, '.');
  const gate = s.measurements.at(-1);
  const gateText = gate ? ` | ${gate.gate} ${gate.value?.toFixed(4) ?? 'no data'} (${gate.verdict})` : '';
  const step = s.step ? ` step ${s.step.index}/${s.step.total}` : '';
  return `${s.version} ${s.stage}${step} ${s.phase} [${bar}] ${s.weights.canary}% canary${s.mirrorPercent ? `, mirror ${s.mirrorPercent}%` : ''}${gateText}`;
}

async function runRelease(version: string, annotations?: Record<string, string>): Promise<ReleaseStatus> {
  const handle: WorkflowHandle<typeof release> = await client.workflow.start(release, {
    taskQueue,
    workflowId: releaseWorkflowId(namespace, 'fraud-detector'),
    workflowIdConflictPolicy: 'FAIL',
    args: [{ spec: spec(version, annotations), submittedBy: 'demo-submitter' }],
  });
  say(`release ${version} started (workflow ${handle.workflowId})`);
  let last = '';
  const result = handle.result();
  let done = false;
  void result.finally(() => (done = true));
  while (!done) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    if (status) {
      const line = describe(status);
      if (line !== last) say(line);
      last = line;
      if (status.phase === 'AwaitingApproval') {
        await handle.executeUpdate(approveUpdate, { args: [{ actor: 'demo-approver', comment: 'canary looks healthy' }] });
        say('approved by demo-approver');
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await result;
  const status = await handle.query(statusQuery);
  say(`${version}: ${status.outcome?.result} — ${status.outcome?.reason}`);
  return status;
}

let exitCode: number;
try {
  const v1 = await runRelease('v1');
  const v2 = await runRelease('v2');
  const v3 = await runRelease('v3', { 'sim.slipway.dev/error-rate': '0.3' });
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const stable = await apps.readNamespacedDeployment({ name: 'fraud-detector', namespace });
  const serving = stable.spec?.template.metadata?.labels?.['app.kubernetes.io/version'];
  const ok = v1.outcome?.result === 'Promoted' && v2.outcome?.result === 'Promoted' && v3.outcome?.result === 'RolledBack' && serving === 'v2';
  say(ok ? `story complete: v2 serves 100% (v3 was rolled back by its ${v3.outcome?.decidingMeasurement?.gate} gate)` : 'story did NOT end as expected');
  exitCode = ok ? 0 : 1;
  console.log(`
Where to look next:
  Temporal UI        http://127.0.0.1:${config.ports.temporalUi}
  kubectl            KUBECONFIG=${process.env.KUBECONFIG} kubectl -n ${namespace} describe deployment fraud-detector
  Prometheus         ${process.env.PROMETHEUS_URL}/graph?g0.expr=sum%20by%20(version)%20(rate(model_requests_total%5B10s%5D))
  stack              npm run stack -- status | down`);
} catch (error) {
  say(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  worker.shutdown();
  await workerRun;
  if (!values.keep) await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  if (values.down) await stackDown(config);
}
say(`demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(exitCode);
