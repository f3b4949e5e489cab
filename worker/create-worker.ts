// Building a release worker: connections to Temporal, activities over real clients, workflow code.
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import { createKubernetesClients } from '../activities/kubernetes/clients.ts';
import type { WorkerConfig } from './config.ts';
import type { TemporalConnectionOptions } from './temporal-connection.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface CreateWorkerOptions {
  config: WorkerConfig;
  connection: TemporalConnectionOptions;
  /** A prebuilt bundle (worker/build-bundle.ts); without one the worker bundles workflows/ at start. */
  workflowBundle?: WorkflowBundleWithSourceMap;
}

export interface ReleaseWorker {
  worker: Worker;
  /** Closes the Temporal connections once the worker has stopped. */
  close(): Promise<void>;
}

export async function createReleaseWorker({
  config,
  connection,
  workflowBundle,
}: CreateWorkerOptions): Promise<ReleaseWorker> {
  const native = await NativeConnection.connect(connection);
  // Activities use a client too: a release removes its promotion schedule when it ends.
  const clientConnection = await Connection.connect(connection);
  const worker = await Worker.create({
    connection: native,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.SLIPWAY_TASK_QUEUE,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath }),
    activities: createActivities({
      kubernetes: createKubernetesClients(),
      prometheusUrl: config.PROMETHEUS_URL,
      separationOfDuties: config.SLIPWAY_SEPARATION_OF_DUTIES,
      temporalClient: new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE }),
    }),
    maxConcurrentActivityTaskExecutions: config.SLIPWAY_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: config.SLIPWAY_MAX_CONCURRENT_WORKFLOW_TASKS,
    stickyQueueScheduleToStartTimeout: config.SLIPWAY_STICKY_QUEUE_TIMEOUT,
    ...(config.SLIPWAY_MAX_CACHED_WORKFLOWS === undefined
      ? {}
      : { maxCachedWorkflows: config.SLIPWAY_MAX_CACHED_WORKFLOWS }),
    shutdownGraceTime: config.SLIPWAY_SHUTDOWN_GRACE,
  });
  return {
    worker,
    async close() {
      await clientConnection.close();
      await native.close();
    },
  };
}
