// Building a release worker: connection, activities over real clients, workflow code.
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import { createKubernetesClients } from '../activities/kubernetes/clients.ts';
import type { WorkerConfig } from './config.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface CreateWorkerOptions {
  config: WorkerConfig;
  connection?: NativeConnection;
  workflowBundle?: WorkflowBundleWithSourceMap;
}

export async function createReleaseWorker({ config, connection, workflowBundle }: CreateWorkerOptions): Promise<Worker> {
  const conn = connection ?? (await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS }));
  return Worker.create({
    connection: conn,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.SLIPWAY_TASK_QUEUE,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath }),
    activities: createActivities({ kubernetes: createKubernetesClients(), prometheusUrl: config.PROMETHEUS_URL }),
    maxConcurrentActivityTaskExecutions: config.SLIPWAY_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: config.SLIPWAY_MAX_CONCURRENT_WORKFLOW_TASKS,
    shutdownGraceTime: '20s',
  });
}
