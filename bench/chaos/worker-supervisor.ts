// The chaos run's release worker: worker/main.ts in its own process (as operators run it), with a
// prebuilt workflow bundle so that a restart takes seconds, not a bundling. The run kills it with
// kill -9 and starts the next one; a worker that exits on its own (it lost Temporal for too long)
// is counted and started again, retrying while Temporal does not answer.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { workflowsPath } from '../../worker/create-worker.ts';
import { startWorkerProcess, type WorkerProcess } from '../../test/helpers/worker-process.ts';

export interface WorkerSupervisor {
  /** kill -9 of the running worker; resolves once it is dead (no worker runs until `start`). */
  kill9(): Promise<void>;
  /** Starts a worker (retrying while Temporal is unreachable); resolves once it polls. */
  start(): Promise<void>;
  /** Workers started so far, and workers that exited without being killed. */
  counts(): { starts: number; unexpectedExits: number };
  /** The last lines of what the workers that exited on their own printed. */
  unexpectedOutput(): string[];
  /** Stops the running worker (SIGTERM) and removes the bundle. */
  close(): Promise<void>;
}

const START_ATTEMPTS = 120;

export async function superviseWorker(taskQueue: string, temporalAddress: string): Promise<WorkerSupervisor> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-chaos-bundle-'));
  const bundle = join(dir, 'workflow-bundle.js');
  writeFileSync(
    bundle,
    (await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') })).code,
  );
  const env = {
    TEMPORAL_ADDRESS: temporalAddress,
    SLIPWAY_WORKFLOW_BUNDLE: bundle,
    SLIPWAY_WORKER_HTTP: 'off',
    SLIPWAY_SHUTDOWN_GRACE: '2s',
  };
  let current: WorkerProcess | undefined;
  let starting: Promise<void> | undefined;
  let closed = false;
  const killed = new WeakSet<WorkerProcess>();
  let starts = 0;
  let unexpectedExits = 0;
  const unexpected: string[] = [];

  const launch = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        const worker = await startWorkerProcess(taskQueue, env);
        starts++;
        current = worker;
        void worker.exited.then(() => onExit(worker));
        return;
      } catch (error) {
        if (closed) return;
        if (attempt >= START_ATTEMPTS) throw error;
        await delay(1_000); // Temporal down (a restart under way): the worker exits at once
      }
    }
  };
  const start = () => {
    starting ??= launch().finally(() => (starting = undefined));
    return starting;
  };
  const onExit = (worker: WorkerProcess) => {
    if (current === worker) current = undefined;
    if (closed || killed.has(worker)) return;
    unexpectedExits++;
    unexpected.push(worker.output().slice(-1_500));
    void start().catch(() => undefined);
  };

  await start();
  return {
    async kill9() {
      await starting;
      const worker = current;
      if (!worker) return;
      killed.add(worker);
      current = undefined;
      await worker.kill9();
    },
    start,
    counts: () => ({ starts, unexpectedExits }),
    unexpectedOutput: () => [...unexpected],
    async close() {
      closed = true;
      await starting?.catch(() => undefined);
      await current?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
