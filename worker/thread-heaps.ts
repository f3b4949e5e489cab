// The V8 heaps of this process's worker threads (the Temporal SDK runs every workflow in one), as
// gauges beside the main thread's: the main thread's nodejs_heap_* metrics cannot see them, and at
// a thousand cached releases the workflow thread's heap is a large part of the worker's memory.
// Threads are found through Node's `worker_threads` diagnostics channel, so this module must be
// loaded before the SDK starts its threads.
import { subscribe } from 'node:diagnostics_channel';
import type { Worker } from 'node:worker_threads';
import { Gauge, type Registry } from 'prom-client';

const threads = new Map<number, Worker>();

subscribe('worker_threads', (message) => {
  const { worker } = message as { worker: Worker };
  const id = worker.threadId;
  threads.set(id, worker);
  worker.once('exit', () => threads.delete(id));
});

type Heaps = Array<{ thread: string; used: number; total: number }>;

let reading: Promise<Heaps> | undefined;

/** Every thread's heap, read once per scrape: both gauges collect at once and share the read. */
function readHeaps(): Promise<Heaps> {
  reading ??= Promise.all(
    [...threads].map(async ([id, worker]) => {
      // A thread that is exiting may not answer; it is left out of this scrape.
      const stats = await worker.getHeapStatistics().catch(() => undefined);
      return stats ? [{ thread: String(id), used: stats.used_heap_size, total: stats.total_heap_size }] : [];
    }),
  )
    .then((perThread) => perThread.flat())
    .finally(() => {
      reading = undefined;
    });
  return reading;
}

/** Registers slipway_worker_thread_heap_{used,total}_bytes{thread} in `registry`. */
export function registerThreadHeapMetrics(registry: Registry): void {
  for (const [kind, help] of [
    [
      'used',
      'V8 heap in use by each worker thread of the process (the Temporal workflow thread among them).',
    ],
    ['total', 'V8 heap reserved by each worker thread of the process.'],
  ] as const)
    new Gauge({
      name: `slipway_worker_thread_heap_${kind}_bytes`,
      help,
      labelNames: ['thread'],
      registers: [registry],
      async collect() {
        const heaps = await readHeaps();
        this.reset();
        for (const h of heaps) this.set({ thread: h.thread }, h[kind]);
      },
    });
}
