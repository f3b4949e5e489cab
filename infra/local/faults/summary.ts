// What a fault run injected and what survived it, per fault kind, from the proxy's event log
// (log.ts): for 429s how many came again no sooner than their Retry-After, for errors and resets how
// many were asked again, for cut and refused watches how many were watched (or read) again, for held
// requests how many were waited for. Shared by the proxy's entry (on exit), the bench and the test.
import type { FaultEvent } from './log.ts';
import type { FaultKind } from './plan.ts';

export const FAULT_KINDS: readonly FaultKind[] = [
  'throttle',
  'serverError',
  'reset',
  'slow',
  'dropWatch',
  'goneOnResume',
];

/** A repeat of a 429 this much earlier than its Retry-After still counts as waiting (timer slack). */
export const RETRY_AFTER_SLACK_MS = 50;

export interface KindSummary {
  injected: number;
  /** What the client did next: asked again, watched again, waited. */
  followedUp: number;
  /** Never followed up (the waiting activity ended, or the run ended first). */
  notFollowedUp: number;
  /** Median and longest ms until the follow-up. */
  medianFollowUpMs: number | null;
  maxFollowUpMs: number | null;
  /** throttle only: repeats no sooner than Retry-After, and sooner (with their requests). */
  honouredRetryAfter?: number;
  earlierThanRetryAfter?: number;
  early?: Array<{ request: string; gapMs: number; retryAfterMs: number }>;
}

export type FaultSummary = Record<FaultKind, KindSummary>;

function followUpMs(event: FaultEvent): number | undefined {
  switch (event.kind) {
    case 'throttle':
    case 'serverError':
    case 'reset':
      return event.repeatedAfterMs;
    case 'dropWatch':
    case 'goneOnResume': {
      const gaps = [event.rewatchedAfterMs, event.rereadAfterMs].filter((g) => g !== undefined);
      return gaps.length ? Math.min(...gaps) : undefined;
    }
    case 'slow':
      return event.answered ? 0 : undefined;
  }
}

function median(sorted: number[]): number | null {
  return sorted.length ? (sorted[Math.floor((sorted.length - 1) / 2)] ?? null) : null;
}

export function summarizeFaults(events: readonly FaultEvent[]): FaultSummary {
  const out = {} as FaultSummary;
  for (const kind of FAULT_KINDS) {
    const mine = events.filter((e) => e.kind === kind);
    const gaps = mine
      .map(followUpMs)
      .filter((g) => g !== undefined)
      .sort((a, b) => a - b);
    const summary: KindSummary = {
      injected: mine.length,
      followedUp: gaps.length,
      notFollowedUp: mine.length - gaps.length,
      medianFollowUpMs: kind === 'slow' ? null : median(gaps),
      maxFollowUpMs: kind === 'slow' ? null : (gaps[gaps.length - 1] ?? null),
    };
    if (kind === 'throttle') {
      const repeated = mine.filter((e) => e.repeatedAfterMs !== undefined);
      const early = repeated.filter(
        (e) => (e.repeatedAfterMs ?? 0) < (e.retryAfterMs ?? 0) - RETRY_AFTER_SLACK_MS,
      );
      summary.honouredRetryAfter = repeated.length - early.length;
      summary.earlierThanRetryAfter = early.length;
      summary.early = early.map((e) => ({
        request: e.request,
        gapMs: e.repeatedAfterMs ?? 0,
        retryAfterMs: e.retryAfterMs ?? 0,
      }));
    }
    out[kind] = summary;
  }
  return out;
}

/** The events that hit one namespace (a bench gives each release its own). */
export function eventsIn(events: readonly FaultEvent[], namespace: string): FaultEvent[] {
  return events.filter((e) => e.namespace === namespace);
}
