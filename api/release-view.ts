// One release's status as every reader of it sees it: the status last read and the position in the
// run's history it is good for. A read that finds the history further along than that reads the
// status again, once for all who wait (refreshes run one at a time); a position only moves forward,
// so no reader ever gets a status older than one handed out before. Listeners (event streams) get
// each new status as it is held.
import type { ReleaseView } from './ended-release.ts';
import { covers, supersedes, type Position } from './status-position.ts';
import type { Described, StatusSource } from './status-source.ts';

export interface ViewListener {
  view(view: ReleaseView): void;
  /** The status can no longer be followed (Temporal unreachable, no worker answered); nothing follows. */
  error(error: unknown): void;
}

export interface Held {
  position: Position;
  view: ReleaseView;
}

const noop = () => undefined;

export class ReleaseViewEntry {
  readonly workflowId: string;
  readonly name: string;
  readonly listeners = new Set<ViewListener>();
  /** When a reader last asked (ms). */
  lastRead = 0;
  private current: Held | undefined;
  private readonly source: StatusSource;
  private readonly closing: AbortSignal;
  private refreshing: Promise<void> = Promise.resolve();
  private describing: Promise<Described> | undefined;
  private queued: Promise<Described> | undefined;

  constructor(workflowId: string, name: string, source: StatusSource, closing: AbortSignal) {
    this.workflowId = workflowId;
    this.name = name;
    this.source = source;
    this.closing = closing;
  }

  get held(): Held | undefined {
    return this.current;
  }

  /**
   * A description issued after this call: readers arriving while one is under way share the next,
   * so a crowd of readers costs one describe at a time, and none gets an answer older than its ask.
   */
  describe(): Promise<Described> {
    if (!this.describing) return this.describeNow();
    this.queued ??= this.describing.then(noop, noop).then(() => {
      this.queued = undefined;
      return this.describeNow();
    });
    return this.queued;
  }

  private describeNow(): Promise<Described> {
    const describing = this.source.describe(this.workflowId, this.name);
    this.describing = describing;
    const clear = () => {
      if (this.describing === describing) this.describing = undefined;
    };
    describing.then(clear, clear);
    return describing;
  }

  /** The status at `described` or further: the held one while it still is, else read again. */
  async at(described: Described): Promise<ReleaseView> {
    if (!covers(this.current?.position, described.position)) {
      const refresh = this.refreshing.then(() => this.refresh(described));
      this.refreshing = refresh.catch(noop);
      await refresh;
    }
    // Held now: the read answered, or a later run's status was held meanwhile.
    return this.current!.view;
  }

  private async refresh(described: Described): Promise<void> {
    if (covers(this.current?.position, described.position)) return;
    // A query still running when the read ends (an ended run's late answer) is cancelled then.
    const abandon = new AbortController();
    const stop = () => abandon.abort();
    this.closing.addEventListener('abort', stop, { once: true });
    try {
      this.offer(described.position, await described.read(abandon.signal));
    } finally {
      this.closing.removeEventListener('abort', stop);
      abandon.abort();
    }
  }

  /** Holds `view` read at `position` unless what is held is further along. */
  offer(position: Position, view: ReleaseView): void {
    const held = this.current;
    if (!supersedes(position, held?.position)) return;
    // Within a run a status never goes back in time (belt and braces: the position says so already).
    const older =
      held !== undefined &&
      held.position.runId === position.runId &&
      (view.updatedAt ?? '') < (held.view.updatedAt ?? '');
    this.current = { position, view: older ? held.view : view };
    if (older) return;
    for (const listener of this.listeners) listener.view(view);
  }

  /** The run's history reached `length` with no state-changing event past the held position. */
  extend(runId: string, length: number): void {
    const held = this.current;
    if (held && held.position.runId === runId && held.position.length < length)
      this.current = { ...held, position: { ...held.position, length } };
  }

  fail(error: unknown): void {
    for (const listener of this.listeners) listener.error(error);
  }
}
