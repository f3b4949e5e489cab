// The one follower of a release's run: long-polls the run's history and, when a state-changing
// event (a completed workflow task, the close) lies past the held status, describes the run and
// reads its status once for every reader; new events that change nothing only extend how far the
// held status is good for. Ends when the run closed (its ended status held), when a later run is
// held, or when `signal` aborts; throws when the history or the status cannot be read.
import type { ReleaseViewEntry } from './release-view.ts';
import type { StatusSource } from './status-source.ts';

export async function followRun(
  entry: ReleaseViewEntry,
  source: StatusSource,
  runId: string,
  signal: AbortSignal,
): Promise<void> {
  let from: Uint8Array | undefined;
  while (!signal.aborted && entry.held?.position.runId === runId) {
    const page = await source.poll(entry.workflowId, runId, from, signal);
    if (signal.aborted) return;
    const held = entry.held?.position;
    const behind = held === undefined || held.runId !== runId || held.length < page.lastChangeId;
    if (page.closed || (page.lastChangeId > 0 && behind)) {
      // The description comes after the events: its position covers this page.
      await entry.at(await source.describe(entry.workflowId, entry.name, runId, signal));
    } else {
      entry.extend(runId, page.lastEventId);
    }
    if (page.closed || !page.next) return;
    from = page.next;
  }
}
