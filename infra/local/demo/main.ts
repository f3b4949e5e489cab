// `npm run demo`: the local stack, a worker and the API (the processes an operator runs), and a
// release story told through the `slipway` CLI and its live view:
//   v1 — the first release of fraud-detector (deployed as stable; its offline accuracy recorded)
//   v2 — a better model: accuracy gate → shadow → canary steps → a human approval → promoted
//   v3 — a model failing 30% of its requests: its error-rate gate fails in shadow → rolled back
// It checks how each release ended and what the cluster serves, and exits 0 only if the story
// ended as told. Options: --clean (delete the demo namespace at the end; by default it stays for
// you to look at), --down (stop the local stack at the end).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { stringify as toYaml } from 'yaml';
import { releaseWorkflowId } from '../../../workflows/ids.ts';
import type { ReleaseStatus } from '../../../workflows/status.ts';
import { loadStackConfig } from '../stack/config.ts';
import { freePort } from '../stack/free-port.ts';
import { stackDown, stackEnv, stackUp } from '../stack/stack.ts';
import { ACCURACY, DEMO_MODEL, DEMO_NAMESPACE, demoSpec } from './story.ts';

const { values } = parseArgs({
  options: { clean: { type: 'boolean', default: false }, down: { type: 'boolean', default: false } },
});
const started = Date.now();
const say = (line: string) =>
  console.log(`\n[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const taskQueue = 'slipway-releases-demo';
const target = `${DEMO_NAMESPACE}/${DEMO_MODEL}`;

const config = loadStackConfig();
say('bringing up the local stack (the first run builds Kubernetes; later runs reuse the cache)');
await stackUp(config);
const stack = stackEnv(config);
Object.assign(process.env, stack);

// The demo's API and worker must not collide with anything already running.
const [apiPort, workerPort, temporalMetricsPort] = await Promise.all([freePort(), freePort(), freePort()]);
const apiUrl = `http://127.0.0.1:${apiPort}`;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  SLIPWAY_TASK_QUEUE: taskQueue,
  SLIPWAY_API_PORT: String(apiPort),
  SLIPWAY_API_URL: apiUrl,
  SLIPWAY_WORKER_HTTP: `127.0.0.1:${workerPort}`,
  SLIPWAY_TEMPORAL_METRICS: `127.0.0.1:${temporalMetricsPort}`,
  SLIPWAY_LOG_LEVEL: 'warn',
};

// A fresh start: a release left running by an interrupted demo is ended, the namespace recreated.
const temporal = new Client({
  connection: await Connection.connect({ address: stack.TEMPORAL_ADDRESS }),
  namespace: stack.TEMPORAL_NAMESPACE,
});
await temporal.workflow
  .getHandle(releaseWorkflowId(DEMO_NAMESPACE, DEMO_MODEL))
  .terminate('a new demo run starts')
  .catch((error: unknown) => {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  });
const kc = new k8s.KubeConfig();
kc.loadFromDefault();
const core = kc.makeApiClient(k8s.CoreV1Api);
await core.deleteNamespace({ name: DEMO_NAMESPACE }).catch(() => undefined);
for (;;) {
  try {
    await core.createNamespace({ body: { metadata: { name: DEMO_NAMESPACE } } });
    break;
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the previous demo namespace is still terminating
  }
}

// The offline evaluator the accuracy gate asks (a real HTTP server, as a team's evaluation service).
const evaluator = createServer((request, response) => {
  const version = new URL(request.url ?? '/', 'http://x').searchParams.get('version') ?? '';
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify({ version, accuracy: ACCURACY[version] ?? null }));
});
await new Promise<void>((resolve) => evaluator.listen(0, '127.0.0.1', resolve));
const evaluatorUrl = `http://127.0.0.1:${(evaluator.address() as AddressInfo).port}`;

/** Starts a long-running process of the demo (worker, API); its output is shown if it fails. */
function serve(name: string, entry: string, readyMessage: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(root, entry)], {
    env: { ...env, SLIPWAY_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within 90 s:\n${output.slice(-2000)}`)),
      90_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`"msg":"${readyMessage}"`)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${output.slice(-2000)}`));
    });
  });
}

function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Runs the CLI on the demo's terminal (so its live view shows); resolves with its exit code. */
function slipway(...args: string[]): Promise<number> {
  console.log(`$ slipway ${args.join(' ')}`);
  const child = spawn(process.execPath, [join(root, 'cli/main.ts'), ...args], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

async function apiGet<T>(path: string): Promise<T> {
  const response = await fetch(`${apiUrl}${path}`, {
    headers: { authorization: `Bearer ${env.SLIPWAY_TOKEN ?? ''}` },
  });
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const specDir = mkdtempSync(join(tmpdir(), 'slipway-demo-'));
function specFile(version: string, annotations?: Record<string, string>): string {
  const file = join(specDir, `${version}.yaml`);
  writeFileSync(file, toYaml(demoSpec(version, evaluatorUrl, annotations)));
  return file;
}

/** Plays the human: once release `version` waits for an approval, approves it with the CLI. */
async function approveWhenAsked(version: string): Promise<number> {
  for (;;) {
    const status = await apiGet<ReleaseStatus>(`/v1/releases/${target}`).catch(() => undefined);
    // Until the new release has started, the latest release is the previous one.
    if (status?.version === version) {
      if (status.outcome) return 1;
      if (status.phase === 'AwaitingApproval')
        return slipway('approve', target, '-m', 'canary looks healthy');
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

let worker: ChildProcess | undefined;
let api: ChildProcess | undefined;
let exitCode = 1;
try {
  say('starting a worker (npm run worker) and the API (npm run api)');
  [worker, api] = await Promise.all([
    serve('worker', 'worker/main.ts', 'worker started'),
    serve('api', 'api/server.ts', 'api started'),
  ]);

  say(`v1: the first release of ${DEMO_MODEL}`);
  const v1 = await slipway('release', 'start', '-f', specFile('v1'), '--watch');
  say('v2: a better model — accuracy gate, shadow, canary steps, a human approval, promotion');
  const [v2] = await Promise.all([
    slipway('release', 'start', '-f', specFile('v2'), '--watch'),
    approveWhenAsked('v2'),
  ]);
  say('v3: a model that fails 30% of its requests — Slipway rolls it back by itself');
  const v3 = await slipway(
    'release',
    'start',
    '-f',
    specFile('v3', { 'sim.slipway.dev/error-rate': '0.3' }),
    '--watch',
  );

  say(`$ slipway history ${target}`);
  await slipway('history', target);
  const history = await apiGet<{ items: Array<{ version: string; outcome?: string; startTime: string }> }>(
    `/v1/releases/${target}/history`,
  );
  // This run's releases only (the history keeps those of earlier demo runs too).
  const outcomes = Object.fromEntries(
    history.items.filter((i) => Date.parse(i.startTime) >= started).map((i) => [i.version, i.outcome]),
  );
  const last = await apiGet<ReleaseStatus>(`/v1/releases/${target}`);
  const stable = await kc
    .makeApiClient(k8s.AppsV1Api)
    .readNamespacedDeployment({ name: DEMO_MODEL, namespace: DEMO_NAMESPACE });
  const serving = stable.spec?.template.metadata?.labels?.['app.kubernetes.io/version'];
  const deciding = last.outcome?.decidingMeasurement;
  const ok =
    v1 === 0 &&
    v2 === 0 &&
    v3 === 1 &&
    outcomes.v1 === 'Promoted' &&
    outcomes.v2 === 'Promoted' &&
    outcomes.v3 === 'RolledBack' &&
    deciding?.gate === 'error-rate' &&
    serving === 'v2';
  say(
    ok
      ? `story complete: v2 serves 100% of traffic; v3 was rolled back by its ${deciding?.gate} gate (value ${deciding?.value?.toFixed(3)}, pass ≤ ${deciding?.threshold?.max})`
      : `story did NOT end as expected: exit codes v1 ${v1}, v2 ${v2}, v3 ${v3}; outcomes ${JSON.stringify(outcomes)}; serving ${serving}`,
  );
  exitCode = ok ? 0 : 1;
  const kubectl = `KUBECONFIG=${stack.KUBECONFIG} ${stack.SLIPWAY_KUBECTL}`;
  console.log(`
Where to look next:
  Temporal UI    http://127.0.0.1:${config.ports.temporalUi}  (workflow release/${target}: each release's history)
  kubectl        ${kubectl} -n ${DEMO_NAMESPACE} describe deployment ${DEMO_MODEL}
                 ${kubectl} -n ${DEMO_NAMESPACE} get events.events.k8s.io
  API            npm run api, then http://127.0.0.1:8080/docs  (token: eval "$(npm run -s stack -- env)"; echo $SLIPWAY_TOKEN)
  CLI            npm run slipway -- history ${target}   (with the API running)
  Prometheus     ${stack.PROMETHEUS_URL}/graph?g0.expr=sum%20by%20(version)%20(rate(model_requests_total%5B10s%5D))
  the stack      npm run stack -- status | down`);
} catch (error) {
  say(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await Promise.all([stop(api), stop(worker)]);
  evaluator.close();
  await temporal.connection.close();
  if (values.clean) await core.deleteNamespace({ name: DEMO_NAMESPACE }).catch(() => undefined);
  if (values.down) await stackDown(config);
}
say(`demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(exitCode);
