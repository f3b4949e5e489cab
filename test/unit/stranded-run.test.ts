// The workflow harness's watch for a run the time-skipping server strands (test/helpers/stranded-run.ts),
// against a fake handle (it must name a history stuck in WorkflowTaskStarted, and only that), and
// the stranding itself, made on purpose on the real time-skipping server.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import proto from '@temporalio/proto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { cancelsAFiredTimer, spin, wakeSignal } from '../fixtures/cancels-a-fired-timer.ts';
import { strandedRun, type WatchedRun } from '../helpers/stranded-run.ts';
import { timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal.ts';

const { EventType } = proto.temporal.api.enums.v1;
const fast = { afterMs: 60, pollMs: 10 };

function fakeRun(state: { length: number; last: proto.temporal.api.enums.v1.EventType; status?: string }) {
  const run = {
    describe: async () => ({ status: { name: state.status ?? 'RUNNING' }, historyLength: state.length }),
    fetchHistory: async () => ({ events: [{ eventId: state.length, eventType: state.last }] }),
  };
  return run as unknown as WatchedRun; // only the fields strandedRun reads
}

/** What the watch has said after `ms` ('pending' if nothing); the watch is stopped either way. */
async function watchFor(run: WatchedRun, ms: number, stop = new AbortController()): Promise<string> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      strandedRun(run, stop.signal, fast),
      sleep(ms, 'pending', { signal: timer.signal }),
    ]);
  } finally {
    stop.abort();
    timer.abort();
  }
}

describe('a run stranded by the time-skipping server', () => {
  it('is named once its history has ended in WorkflowTaskStarted with no new event', async () => {
    const run = fakeRun({ length: 12, last: EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED });
    const evidence = await watchFor(run, 2_000);
    assert.match(evidence, /WorkflowTaskStarted \(event 12\)/);
  });

  it('is not a run waiting on a timer, a person or an activity (last event WorkflowTaskCompleted)', async () => {
    const run = fakeRun({ length: 12, last: EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED });
    assert.equal(await watchFor(run, 400), 'pending');
  });

  it('is not a run whose history keeps growing, nor one that has ended', async () => {
    const growing = { length: 1, last: EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED };
    const ticking = setInterval(() => (growing.length += 1), 5);
    try {
      assert.equal(await watchFor(fakeRun(growing), 400), 'pending');
    } finally {
      clearInterval(ticking);
    }
    const ended = fakeRun({
      length: 9,
      last: EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
      status: 'COMPLETED',
    });
    assert.equal(await watchFor(ended, 400), 'pending');
  });

  it('stops watching when told', async () => {
    const run = fakeRun({ length: 12, last: EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED });
    const stop = new AbortController();
    stop.abort();
    assert.equal(await watchFor(run, 400, stop), 'pending');
  });
});

describe('the stranding, on the real time-skipping server', () => {
  it('a workflow task that cancels a timer fired meanwhile is refused and never redelivered; the watch names it', async () => {
    const env = await timeSkippingEnv();
    try {
      const taskQueue = uniqueTaskQueue('stranded');
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowsPath: fileURLToPath(new URL('../fixtures/cancels-a-fired-timer.ts', import.meta.url)),
      });
      await worker.runUntil(async () => {
        // Without result() the server's clock runs at real pace. The signal comes as soon as the 1 s
        // timer has started, and its workflow task spins for about 1.5 s (the SDK's deadlock limit
        // is 2 s), so the timer fires while the task is with the worker.
        const handle = await env.client.workflow.start(cancelsAFiredTimer, {
          taskQueue,
          workflowId: taskQueue,
          args: ['1s'],
        });
        await timerStarted(handle);
        await handle.signal(wakeSignal, iterationsFor(1_500));
        const stop = new AbortController();
        try {
          const evidence = await Promise.race([
            strandedRun(handle, stop.signal, { afterMs: 5_000, pollMs: 250 }),
            sleep(30_000, 'not stranded within 30 s', { signal: stop.signal }),
          ]);
          assert.match(evidence, /WorkflowTaskStarted/, await eventTypes(handle));
        } finally {
          stop.abort();
        }
        const described = await handle.describe();
        assert.equal(described.status.name, 'RUNNING', 'the run is neither failed nor ended: stuck');
        await handle.terminate('stranded, as the test meant');
      });
    } finally {
      await env.teardown();
    }
  });
});

async function eventTypes(handle: WatchedRun): Promise<string> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .map((e) => {
      const failed = e.workflowTaskFailedEventAttributes;
      return failed
        ? `WorkflowTaskFailed (${failed.cause}: ${failed.failure?.message})`
        : EventType[e.eventType ?? 0];
    })
    .join(' ');
}

async function timerStarted(handle: WatchedRun): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const history = await handle.fetchHistory();
    if (history.events?.some((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)) return;
    await sleep(10);
  }
  throw new Error('the timer never started');
}

/** Loop iterations of spin() that take about `ms` of this machine's time now. */
function iterationsFor(ms: number): number {
  const n = 20_000_000;
  const started = performance.now();
  spin(n);
  return Math.round((n / Math.max(1, performance.now() - started)) * ms);
}
