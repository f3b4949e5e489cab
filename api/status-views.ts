// Release statuses shared by every reader: one ReleaseViewEntry per release (workflow id) and, while
// its run is open and someone reads it, one follower of its history (history-follower.ts). A GET
// costs a share of one describe (its answer is never older than the history when the GET came) and
// a status query only when the history moved past the held status; event streams cost nothing per
// stream: the follower hands each new status to all of them. Memory is bounded: at most
// `maxEntries` releases are kept (least recently read first out), beyond those that streams follow.
import type { FastifyBaseLogger } from 'fastify';
import type { ReleaseView } from './ended-release.ts';
import { followRun } from './history-follower.ts';
import { ReleaseViewEntry, type ViewListener } from './release-view.ts';
import type { StatusSource } from './status-source.ts';

export interface StatusViewsOptions {
  /** Releases kept at most (those with event streams are kept on top). Default 1000. */
  maxEntries?: number;
  /** A follower stops when no reader asked for this long and no stream follows (ms). Default 30 s. */
  idleMs?: number;
  log?: FastifyBaseLogger;
}

interface Following {
  runId: string;
  stop: AbortController;
  done: Promise<void>;
}

export class StatusViews {
  private readonly source: StatusSource;
  private readonly maxEntries: number;
  private readonly idleMs: number;
  private readonly log: FastifyBaseLogger | undefined;
  private readonly entries = new Map<string, ReleaseViewEntry>();
  private readonly following = new Map<ReleaseViewEntry, Following>();
  private readonly closing = new AbortController();

  constructor(source: StatusSource, options: StatusViewsOptions = {}) {
    this.source = source;
    this.maxEntries = options.maxEntries ?? 1000;
    this.idleMs = options.idleMs ?? 30_000;
    this.log = options.log;
  }

  /** The release's status, at least as far along as its history when this was called. */
  async read(workflowId: string, name: string): Promise<ReleaseView> {
    const entry = this.entry(workflowId, name);
    const view = await entry.at(await entry.describe());
    this.follow(entry);
    return view;
  }

  /**
   * Calls `listener` with the held status, then with each new one; `error` once it can no longer be
   * followed. Returns the unsubscribe. Read (`read`) first: this hands out what is held.
   */
  watch(workflowId: string, name: string, listener: ViewListener): () => void {
    const entry = this.entry(workflowId, name);
    entry.listeners.add(listener);
    const held = entry.held;
    if (held) listener.view(held.view);
    this.follow(entry);
    return () => {
      entry.listeners.delete(listener);
      entry.lastRead = Date.now();
    };
  }

  /** Releases held, and followers running (for tests and the bench). */
  stats(): { entries: number; followers: number } {
    return { entries: this.entries.size, followers: this.following.size };
  }

  /** Stops every follower and waits for them; reads after this fail. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.all([...this.following.values()].map((f) => f.done));
  }

  private entry(workflowId: string, name: string): ReleaseViewEntry {
    let entry = this.entries.get(workflowId);
    if (entry) this.entries.delete(workflowId);
    else entry = new ReleaseViewEntry(workflowId, name, this.source, this.closing.signal);
    this.entries.set(workflowId, entry); // most recently read last
    entry.lastRead = Date.now();
    this.evict();
    return entry;
  }

  private evict(): void {
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries) return;
      if (entry.listeners.size > 0) continue;
      this.following.get(entry)?.stop.abort();
      this.entries.delete(id);
    }
  }

  /** Starts the entry's follower if its held run is open and none follows it yet. */
  private follow(entry: ReleaseViewEntry): void {
    const held = entry.held;
    if (this.closing.signal.aborted || !held || held.position.closed || this.following.has(entry)) return;
    if (this.entries.get(entry.workflowId) !== entry) return; // evicted meanwhile
    const stop = new AbortController();
    const onClose = () => stop.abort();
    this.closing.signal.addEventListener('abort', onClose, { once: true });
    const idle = setInterval(
      () => {
        if (entry.listeners.size === 0 && Date.now() - entry.lastRead >= this.idleMs) stop.abort();
      },
      Math.max(10, Math.floor(this.idleMs / 4)),
    );
    idle.unref();
    const runId = held.position.runId;
    const done = followRun(entry, this.source, runId, stop.signal)
      .catch((error: unknown) => {
        if (stop.signal.aborted) return;
        this.log?.warn({ err: error, releaseId: entry.workflowId }, 'release status follower stopped');
        entry.fail(error);
      })
      .finally(() => {
        clearInterval(idle);
        this.closing.signal.removeEventListener('abort', onClose);
        this.following.delete(entry);
        // A later run held meanwhile, still read: follow that one.
        const now = entry.held;
        const wanted = entry.listeners.size > 0 || Date.now() - entry.lastRead < this.idleMs;
        if (!stop.signal.aborted && now && now.position.runId !== runId && wanted) this.follow(entry);
      });
    this.following.set(entry, { runId, stop, done });
  }
}
