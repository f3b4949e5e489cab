// A StatusSource over an in-memory release workflow for the status views' unit tests: runs with
// histories the test appends to (state-changing events or not), a status per run, long-polls that
// wait for new events, and counts of every call (describes, queries, polls).
import type { ReleaseView } from '../../api/ended-release.ts';
import { ProblemError } from '../../api/errors.ts';
import type { Described, HistoryPage, StatusSource } from '../../api/status-source.ts';

interface StubRun {
  runId: string;
  startMs: number;
  /** Per event: whether it changes the workflow's state. */
  events: boolean[];
  closed: boolean;
  status: ReleaseView;
}

export function stubView(runId: string, n: number, extra: Partial<ReleaseView> = {}): ReleaseView {
  return {
    releaseId: 'release/ns/m',
    namespace: 'ns',
    model: 'm',
    version: runId,
    stage: 'canary',
    phase: 'Running',
    updatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    ...extra,
  };
}

export class StubStatusSource implements StatusSource {
  /** The one workflow there is. */
  readonly workflowId = 'release/ns/m';
  readonly calls = { describe: 0, query: 0, history: 0 };
  readonly runs: StubRun[] = [];
  /** Makes every call fail with this error while set. */
  failure: Error | undefined;
  /** Delays each query by this many ms. */
  queryMs = 1;
  private wake = Promise.withResolvers<void>();

  get latest(): StubRun {
    const run = this.runs.at(-1);
    if (!run) throw new Error('no run');
    return run;
  }

  startRun(runId: string, status: ReleaseView = stubView(runId, 0)): void {
    this.runs.push({ runId, startMs: this.runs.length + 1, events: [true], closed: false, status });
    this.notify();
  }

  /** Appends events to the latest run; with a status, the last one changes the state to it. */
  append(count: number, status?: ReleaseView, close = false): void {
    const run = this.latest;
    for (let i = 0; i < count; i++) run.events.push(status !== undefined && i === count - 1);
    if (status) run.status = status;
    if (close) run.closed = true;
    this.notify();
  }

  describe(workflowId: string, name: string, runId?: string): Promise<Described> {
    this.calls.describe++;
    if (this.failure) return Promise.reject(this.failure);
    const runs = workflowId === this.workflowId ? this.runs : [];
    const run = runId ? runs.find((r) => r.runId === runId) : runs.at(-1);
    if (!run) return Promise.reject(new ProblemError(404, `no release of ${name}`));
    const position = {
      runId: run.runId,
      startMs: run.startMs,
      length: run.events.length,
      closed: run.closed,
    };
    return Promise.resolve({
      position,
      read: async () => {
        this.calls.query++;
        await new Promise((resolve) => setTimeout(resolve, this.queryMs));
        if (this.failure) throw this.failure;
        return structuredClone(run.status);
      },
    });
  }

  async poll(
    _workflowId: string,
    runId: string,
    from: Uint8Array | undefined,
    signal: AbortSignal,
  ): Promise<HistoryPage> {
    this.calls.history++;
    const run = this.runs.find((r) => r.runId === runId);
    if (!run) throw new Error(`no run ${runId}`);
    const start = from ? from[0]! : 0;
    while (run.events.length <= start && !run.closed) {
      if (this.failure) throw this.failure;
      const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      await Promise.race([this.wake.promise, aborted]);
      if (signal.aborted) throw new Error('aborted');
    }
    if (this.failure) throw this.failure;
    const events = run.events.slice(start);
    let lastChangeId = 0;
    events.forEach((changes, i) => {
      if (changes || (run.closed && start + i + 1 === run.events.length)) lastChangeId = start + i + 1;
    });
    const closed = run.closed;
    return {
      lastEventId: run.events.length,
      lastChangeId,
      closed,
      next: closed ? undefined : Uint8Array.of(run.events.length),
    };
  }

  private notify(): void {
    const woken = this.wake;
    this.wake = Promise.withResolvers<void>();
    woken.resolve();
  }
}
