// The workers of a scale run: worker/main.ts processes (as operators run them) on one task queue,
// each with the prebuilt workflow bundle, its Temporal metrics on a port of its own, and the
// kubeconfig of the counting proxy, so the run can count their apiserver requests, sample their
// memory and CPU, read their schedule-to-start histograms, and kill one with SIGKILL.
import { readFileSync } from 'node:fs';
import { startWorkerProcess, type WorkerProcess } from '../../test/helpers/worker-process.ts';
import { freePort } from '../../infra/local/stack/free-port.ts';
import { sumMetric } from '../peer/apiserver-metrics.ts';
import { sampleProcess, type ProcessSampler } from './process-stats.ts';

export interface FleetWorker {
  name: string;
  process: WorkerProcess;
  memory: ProcessSampler;
  /** The malloc the process really runs on, read from its memory map once it is up. */
  allocator: 'jemalloc' | 'glibc malloc';
  /** Its /metrics text (Slipway's and the Temporal runtime's), or '' once it is gone. */
  metrics(): Promise<string>;
  /**
   * The main thread's V8 heap in use and the worker threads' (the workflow thread), sampled from
   * its metrics every 5 s (MiB).
   */
  heap: Array<{
    t: number;
    usedMiB: number;
    externalMiB: number;
    threadsUsedMiB: number;
    threadsTotalMiB: number;
  }>;
  stopHeap(): void;
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
  const metrics = async () => {
    try {
      return await (await fetch(`http://${proc.httpAddress}/metrics`)).text();
    } catch {
      return '';
    }
  };
  const started = Date.now();
  const heap: FleetWorker['heap'] = [];
  const mib = (bytes: number) => Math.round(bytes / 104857.6) / 10;
  const timer = setInterval(() => {
    void metrics().then((text) => {
      if (!text) return;
      heap.push({
        t: Date.now() - started,
        usedMiB: mib(sumMetric(text, 'slipway_worker_nodejs_heap_size_used_bytes')),
        externalMiB: mib(sumMetric(text, 'slipway_worker_nodejs_external_memory_bytes')),
        threadsUsedMiB: mib(sumMetric(text, 'slipway_worker_thread_heap_used_bytes')),
        threadsTotalMiB: mib(sumMetric(text, 'slipway_worker_thread_heap_total_bytes')),
      });
    });
  }, 5_000);
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  return {
    name,
    process: proc,
    memory: sampleProcess(pid),
    allocator: /libjemalloc/.test(maps) ? 'jemalloc' : 'glibc malloc',
    metrics,
    heap,
    stopHeap: () => clearInterval(timer),
  };
}
