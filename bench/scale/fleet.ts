// The workers of a scale run: worker/main.ts processes (as operators run them) on one task queue,
// each with the prebuilt workflow bundle, its Temporal metrics on a port of its own, and the
// kubeconfig of the counting proxy, so the run can count their apiserver requests, sample their
// memory and CPU, read their schedule-to-start histograms, and kill one with SIGKILL.
import { startWorkerProcess, type WorkerProcess } from '../../test/helpers/worker-process.ts';
import { freePort } from '../../infra/local/stack/free-port.ts';
import { sampleProcess, type ProcessSampler } from './process-stats.ts';

export interface FleetWorker {
  name: string;
  process: WorkerProcess;
  memory: ProcessSampler;
  /** Its /metrics text (Slipway's and the Temporal runtime's), or '' once it is gone. */
  metrics(): Promise<string>;
}

export async function startFleetWorker(
  name: string,
  options: { taskQueue: string; kubeconfig: string; bundle: string; env?: NodeJS.ProcessEnv },
): Promise<FleetWorker> {
  const proc = await startWorkerProcess(options.taskQueue, {
    KUBECONFIG: options.kubeconfig,
    SLIPWAY_WORKFLOW_BUNDLE: options.bundle,
    SLIPWAY_TEMPORAL_METRICS: `127.0.0.1:${await freePort()}`,
    ...options.env,
  });
  const pid = proc.child.pid;
  if (pid === undefined) throw new Error(`worker ${name} has no pid`);
  return {
    name,
    process: proc,
    memory: sampleProcess(pid),
    async metrics() {
      try {
        return await (await fetch(`http://${proc.httpAddress}/metrics`)).text();
      } catch {
        return '';
      }
    },
  };
}
