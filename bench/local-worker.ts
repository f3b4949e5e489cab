// What every benchmark on the local stack starts with: a throw-away namespace, a Temporal client and
// a worker running the real workflow bundle and activities against the local cluster and Prometheus.
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import { createKubernetesClients } from '../activities/kubernetes/clients.ts';

export interface LocalBench {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  client: Client;
  namespace: string;
  taskQueue: string;
  /** Stops the worker and deletes the namespace. */
  close(): Promise<void>;
}

export async function startLocalBench(
  prefix: string,
  options: { withTemporalClient?: boolean } = {},
): Promise<LocalBench> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:17233';
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const namespace = `${prefix}-${Date.now().toString(36)}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const client = new Client({ connection: await Connection.connect({ address }) });
  const taskQueue = `${prefix}-${process.pid}`;
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address }),
    taskQueue,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
      logger: new DefaultLogger('ERROR'),
    }),
    activities: createActivities({
      kubernetes: createKubernetesClients(kc),
      prometheusUrl: process.env.PROMETHEUS_URL,
      ...(options.withTemporalClient ? { temporalClient: client } : {}),
    }),
  });
  const running = worker.run();
  return {
    kc,
    core,
    apps: kc.makeApiClient(k8s.AppsV1Api),
    client,
    namespace,
    taskQueue,
    async close() {
      worker.shutdown();
      await running;
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    },
  };
}

/** n, median, p90 and worst of a list of figures. */
export function summary(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return {
    n: s.length,
    median: s[Math.floor((s.length - 1) / 2)] ?? NaN,
    p90: s[Math.floor(0.9 * (s.length - 1))] ?? NaN,
    worst: s[s.length - 1] ?? NaN,
  };
}
