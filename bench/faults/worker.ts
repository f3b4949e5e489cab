// A worker for the fault bench: the real workflow bundle (built once, shared) and the real
// activities, seeing the cluster through the given kubeconfig (the fault proxy's, or the
// apiserver's own for the fault-free baseline), on a task queue of its own.
import { fileURLToPath } from 'node:url';
import type * as k8s from '@kubernetes/client-node';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { createActivities } from '../../activities/index.ts';
import { createKubernetesClients } from '../../activities/kubernetes/clients.ts';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

export interface BenchWorker {
  taskQueue: string;
  stop(): Promise<void>;
}

export async function startWorker(
  address: string,
  taskQueue: string,
  kc: k8s.KubeConfig,
): Promise<BenchWorker> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)),
    logger: new DefaultLogger('ERROR'),
  });
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address }),
    taskQueue,
    workflowBundle: await bundle,
    activities: createActivities({
      kubernetes: createKubernetesClients(kc),
      prometheusUrl: process.env.PROMETHEUS_URL,
    }),
  });
  const running = worker.run();
  return {
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}
