// After a kill: which tasks died with the worker, and when the releases got them back. A task is
// lost while Temporal still counts it as running on a worker since before the kill — an activity
// attempt or a workflow task started then — and recovered once it has been started again (or has
// ended). Activities come back after their timeout: a heartbeating wait after its heartbeat timeout,
// a short call after its start-to-close timeout. Read with `describe`, which needs no worker.
import { setTimeout as delay } from 'node:timers/promises';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import type { InFlight } from './killer.ts';

const ActivityState = proto.temporal.api.enums.v1.PendingActivityState;
const TaskState = proto.temporal.api.enums.v1.PendingWorkflowTaskState;

/** Tasks of `flights` that were running on a worker since before `killedAt` (names, for the log). */
export async function lostTasks(flights: InFlight[], killedAt: number): Promise<string[]> {
  const lost = await Promise.all(
    flights.map(async (flight) => {
      const described = await flight.handle.describe().catch(() => undefined);
      if (!described || described.status.name !== 'RUNNING') return [];
      const names: string[] = [];
      for (const a of described.raw.pendingActivities ?? []) {
        const running =
          a.state === ActivityState.PENDING_ACTIVITY_STATE_STARTED ||
          a.state === ActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED;
        const since = optionalTsToMs(a.lastStartedTime);
        if (running && since !== undefined && since < killedAt)
          names.push(`${flight.id}: ${a.activityType?.name ?? '?'}`);
      }
      const task = described.raw.pendingWorkflowTask;
      const taskSince = optionalTsToMs(task?.startedTime);
      if (
        task?.state === TaskState.PENDING_WORKFLOW_TASK_STATE_STARTED &&
        taskSince !== undefined &&
        taskSince < killedAt
      )
        names.push(`${flight.id}: workflow task`);
      return names;
    }),
  );
  return lost.flat();
}

/**
 * Waits until no task lost at `killedAt` is left, for at most `waitMs`: the ms it took, or undefined
 * when some were still lost then (with their names).
 */
export async function awaitRecovery(
  flights: () => InFlight[],
  killedAt: number,
  waitMs: number,
): Promise<{ recoveredMs?: number; stillLost: string[] }> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const lost = await lostTasks(flights(), killedAt);
    if (lost.length === 0) return { recoveredMs: Date.now() - killedAt, stillLost: [] };
    if (Date.now() > deadline) return { stillLost: lost };
    await delay(1_000);
  }
}
