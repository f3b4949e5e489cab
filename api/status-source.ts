// What the shared status views need from Temporal, as an interface (temporal-status-source.ts is
// Temporal's; the unit tests bring a stub): a run's description with a reader of its status there,
// and long-polls of a run's history that say whether the workflow's state may have changed.
import type { ReleaseView } from './ended-release.ts';
import type { Position } from './status-position.ts';

export interface Described {
  position: Position;
  /** The described run's status, read now (its status query, or Temporal's record once it ended). */
  read(signal: AbortSignal): Promise<ReleaseView>;
}

export interface HistoryPage {
  /** The id of the page's last event (0 for a long-poll that timed out with nothing new). */
  lastEventId: number;
  /** The id of its last event that changes the workflow's state (a workflow task completed, the close), else 0. */
  lastChangeId: number;
  /** The page holds the run's close event. */
  closed: boolean;
  /** Where the next long-poll goes on; undefined once every event of a closed run was read. */
  next: Uint8Array | undefined;
}

export interface StatusSource {
  /** The latest run of `workflowId`, or run `runId`; a ProblemError 404 naming `name` when there is none. */
  describe(workflowId: string, name: string, runId?: string, signal?: AbortSignal): Promise<Described>;
  /** The run's history after `from` (from its first event without it), waiting for new events. */
  poll(
    workflowId: string,
    runId: string,
    from: Uint8Array | undefined,
    signal: AbortSignal,
  ): Promise<HistoryPage>;
}
