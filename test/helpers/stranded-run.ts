// A run the time-skipping test server has stranded. The server refuses a workflow task completion
// that cancels a timer which fired, in real time, while the task was with the worker ("invalid
// history builder state for action"), and then never fails, times out or redelivers that task
// (temporalio/sdk-java#2606 and #3088, open; the fix, sdk-java#3060, is not released). The run's
// history ends in WorkflowTaskStarted for good. The real server has no such state: it records the
// cancel in place of the buffered fire. It takes a loaded machine (CI runs two test files at once):
// a full CI run at 71fb26f sat in release-rules.test.ts after that refusal until it was stopped;
// without this the test waits out its 10-minute timeout.
import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { setTimeout as sleep } from 'node:timers/promises';

const { EventType } = proto.temporal.api.enums.v1;

/** The handle's calls this needs (a fake in the helper's own test). */
export type WatchedRun = Pick<WorkflowHandle, 'describe' | 'fetchHistory'>;

export interface StrandedOptions {
  /** Real time with no new event, ending in WorkflowTaskStarted, after which the run counts as stranded. */
  afterMs?: number;
  pollMs?: number;
}

/**
 * Resolves with a sentence of evidence once the run's history has ended in WorkflowTaskStarted,
 * with no new event, for `afterMs` of real time (20 s: a worker completes a workflow task in
 * milliseconds, and the server's own task timeout is 10 s); never resolves once `signal` aborts.
 */
export async function strandedRun(
  handle: WatchedRun,
  signal: AbortSignal,
  { afterMs = 20_000, pollMs = 1_000 }: StrandedOptions = {},
): Promise<string> {
  let length = -1;
  let since = Date.now();
  while (!signal.aborted) {
    await sleep(pollMs, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) break;
    const described = await handle.describe().catch(() => undefined);
    if (described?.status.name !== 'RUNNING') continue;
    if (described.historyLength !== length) {
      length = described.historyLength;
      since = Date.now();
      continue;
    }
    if (Date.now() - since < afterMs) continue;
    const history = await handle.fetchHistory().catch(() => undefined);
    const last = history?.events?.at(-1);
    if (last?.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) {
      return `history ended in WorkflowTaskStarted (event ${String(last.eventId)}) for ${Math.round((Date.now() - since) / 1000)} s`;
    }
    since = Date.now();
  }
  return new Promise<never>(() => undefined);
}
