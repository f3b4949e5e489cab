// Apiserver requests per release per gate interval, each release over its own hold: the requests
// whose URL names its model (its Deployments, Services, route, the label selectors of its pods),
// counted between its hold's start and end. Requests that name no model (preflight's shared node,
// pod and quota lists) are spread over every release holding while they came. Holds of hundreds
// of releases started over minutes have no common window; this needs none.
import { summary } from '../local-worker.ts';

export interface HoldWindow {
  model: string;
  from: number;
  to: number;
}

/** The bench's model (`sc-0042`) a request URL names, if any. */
export function modelInUrl(url: string): string | undefined {
  let decoded = url;
  try {
    decoded = decodeURIComponent(url);
  } catch {
    // a malformed escape: match on the URL as sent
  }
  return /\bsc-\d{4}\b/.exec(decoded)?.[0];
}

/** How many of the sorted times fall in [from, to]. */
export function countBetween(sorted: readonly number[], from: number, to: number): number {
  const firstAtOrAfter = (t: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return firstAtOrAfter(to + 1) - firstAtOrAfter(from);
}

export interface PerReleaseRequests {
  releases: number;
  /** The release's own requests per gate interval of its hold. */
  own: { median: number; p90: number; worst: number };
  /** Requests naming no model, per release-interval held while they came. */
  shared: number;
}

export function perReleaseRequests(
  arrivals: ReadonlyMap<string, readonly number[]>,
  holds: readonly HoldWindow[],
  intervalMs: number,
): PerReleaseRequests | undefined {
  const valid = holds.filter((h) => h.to > h.from);
  if (valid.length === 0) return undefined;
  const sorted = (key: string) => [...(arrivals.get(key) ?? [])].sort((a, b) => a - b);
  const own = valid.map((h) => countBetween(sorted(h.model), h.from, h.to) / ((h.to - h.from) / intervalMs));
  const from = Math.min(...valid.map((h) => h.from));
  const to = Math.max(...valid.map((h) => h.to));
  const releaseIntervals = valid.reduce((sum, h) => sum + (h.to - h.from) / intervalMs, 0);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const s = summary(own);
  return {
    releases: valid.length,
    own: { median: round(s.median), p90: round(s.p90), worst: round(s.worst) },
    shared: round(countBetween(sorted(''), from, to) / releaseIntervals),
  };
}

/**
 * What the releases' own requests were while they held: per release-interval held, by verb and
 * resource (`watch deployments`, `get httproutes`), the `top` most frequent. `arrivals` and `kinds`
 * are index for index, each in arrival order.
 */
export function heldRequestKinds(
  arrivals: ReadonlyMap<string, readonly number[]>,
  kinds: ReadonlyMap<string, readonly string[]>,
  holds: readonly HoldWindow[],
  intervalMs: number,
  top = 8,
): Record<string, number> {
  const totals = new Map<string, number>();
  let releaseIntervals = 0;
  for (const h of holds) {
    if (h.to <= h.from) continue;
    releaseIntervals += (h.to - h.from) / intervalMs;
    const times = arrivals.get(h.model) ?? [];
    const names = kinds.get(h.model) ?? [];
    times.forEach((at, i) => {
      if (at < h.from || at > h.to) return;
      const kind = names[i] ?? '?';
      totals.set(kind, (totals.get(kind) ?? 0) + 1);
    });
  }
  if (releaseIntervals === 0) return {};
  return Object.fromEntries(
    [...totals]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([kind, n]) => [kind, Math.round((n / releaseIntervals) * 1000) / 1000]),
  );
}
