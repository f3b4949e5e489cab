// Where a release's status stands in Temporal's record: the run and how many events its history
// had. A workflow's state (and so its status query's answer) only changes when a workflow task
// completes, which appends to the history; a status read once the history had `length` events is
// the status until the history grows past it with a state-changing event.
export interface Position {
  runId: string;
  /** When the run started (ms): later runs of a workflow id start later. */
  startMs: number;
  /** Events in the run's history when the status was read. */
  length: number;
  closed: boolean;
}

/** `held` is still the status at `wanted`: the same run, at least as far along. */
export function covers(held: Position | undefined, wanted: Position): boolean {
  return held !== undefined && held.runId === wanted.runId && held.length >= wanted.length;
}

/** `next` may replace `held`: further along in the same run, or a later run. */
export function supersedes(next: Position, held: Position | undefined): boolean {
  if (held === undefined) return true;
  if (next.runId === held.runId) return next.length > held.length || (next.closed && !held.closed);
  return next.startMs >= held.startMs;
}
