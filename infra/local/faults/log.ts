// What the fault proxy injected, one event per fault, and what the client did next, as seen from
// the apiserver's side: an answered fault (429, 500/503, reset) followed by the same request again
// from the same call (its call-id header, when it sent one), and how long after (a 429's repeat
// should come no sooner than its Retry-After); a cut or refused watch followed by a watch of the
// same object or selection again, or by a read of it; a held request whose client waited for the
// answer. Pure bookkeeping, fed by proxy.ts.
import type { FaultKind } from './plan.ts';

/** One request as the proxy saw it. */
export interface SeenRequest {
  at: number;
  method: string;
  /** Path and query, as sent. */
  url: string;
  /** A short digest of the body ('' without one): the same request sent again has the same. */
  bodyDigest: string;
  watch: boolean;
  /**
   * The client's call id (activities/kubernetes/call-ids.ts's header), when it sent one: a repeat
   * of a faulted request is the same request of the same call, not another caller's identical read.
   */
  callId?: string;
}

export interface FaultEvent {
  kind: FaultKind;
  /** ms since the log started. */
  atMs: number;
  /** `GET /apis/apps/v1/namespaces/ns/deployments/m` (the path, without the query). */
  request: string;
  /** The request's namespace, when its path names one. */
  namespace?: string;
  /** throttle: the Retry-After the answer carried, ms. */
  retryAfterMs?: number;
  /** throttle, serverError, reset: ms until the same request (method, URL, body) came again. */
  repeatedAfterMs?: number;
  /** dropWatch, goneOnResume: ms until a watch of the same object or selection came again. */
  rewatchedAfterMs?: number;
  /** dropWatch, goneOnResume: ms until the watched object (or selection) was read again. */
  rereadAfterMs?: number;
  /** slow: the client waited for the held request's answer (did not give up first). */
  answered?: boolean;
}

/** `/namespaces/<ns>/` in a path: the namespace a request is about. */
export function namespaceOf(path: string): string | undefined {
  return /\/namespaces\/([^/?]+)/.exec(path)?.[1];
}

function splitUrl(url: string): URL {
  return new URL(url, 'https://proxy');
}

/** What a watch watches: its collection path and selectors (not its resourceVersion or timeout). */
export function watchKey(url: string): string {
  const u = splitUrl(url);
  const path = u.pathname.replace('/watch/', '/');
  return `${path}?fieldSelector=${u.searchParams.get('fieldSelector') ?? ''}&labelSelector=${u.searchParams.get('labelSelector') ?? ''}`;
}

/** The reads that refresh what a watch watches: the named object (a field selector on its name), else the same list. */
export function readKeysOf(url: string): string[] {
  const u = splitUrl(url);
  const path = u.pathname.replace('/watch/', '/');
  const name = /(?:^|,)metadata\.name=([^,]+)/.exec(u.searchParams.get('fieldSelector') ?? '')?.[1];
  return [...(name ? [`${path}/${name}`] : []), watchKey(url)];
}

/** The key a non-watch GET is known by, to match it against `readKeysOf`. */
function readKeys(url: string): string[] {
  const u = splitUrl(url);
  return [u.pathname, watchKey(url)];
}

const requestKey = (r: SeenRequest) => `${r.method} ${r.url} ${r.bodyDigest} ${r.callId ?? ''}`;

export class FaultLog {
  readonly events: FaultEvent[] = [];
  /** Epoch ms that `atMs` counts from. */
  readonly started: number;
  /** Answered faults waiting for their request to come again, by request key. */
  private readonly awaitingRepeat = new Map<string, FaultEvent[]>();
  /** Watch faults waiting for a new watch, by watch key; and for a read, by read key. */
  private readonly awaitingWatch = new Map<string, FaultEvent[]>();
  private readonly awaitingRead = new Map<string, FaultEvent[]>();

  constructor(now = Date.now()) {
    this.started = now;
  }

  /** Every request, before its faults are decided: settles what waited for it. */
  seen(request: SeenRequest): void {
    const at = request.at - this.started;
    const repeated = this.take(this.awaitingRepeat, requestKey(request));
    for (const event of repeated) event.repeatedAfterMs = at - event.atMs;
    if (request.watch) {
      for (const event of this.take(this.awaitingWatch, watchKey(request.url)))
        event.rewatchedAfterMs = at - event.atMs;
    } else if (request.method === 'GET') {
      for (const key of readKeys(request.url))
        for (const event of this.take(this.awaitingRead, key)) event.rereadAfterMs ??= at - event.atMs;
    }
  }

  /** A fault injected into `request` (at `now`: a watch is cut later than it came). Returns the event, to settle later. */
  injected(
    kind: FaultKind,
    request: SeenRequest,
    extra: { retryAfterMs?: number } = {},
    now = Date.now(),
  ): FaultEvent {
    const path = splitUrl(request.url).pathname;
    const namespace = namespaceOf(path);
    const event: FaultEvent = {
      kind,
      atMs: now - this.started,
      request: `${request.method} ${path}`,
      ...(namespace ? { namespace } : {}),
      ...extra,
    };
    this.events.push(event);
    if (kind === 'throttle' || kind === 'serverError' || kind === 'reset')
      this.wait(this.awaitingRepeat, requestKey(request), event);
    if (kind === 'dropWatch' || kind === 'goneOnResume') {
      this.wait(this.awaitingWatch, watchKey(request.url), event);
      for (const key of readKeysOf(request.url)) this.wait(this.awaitingRead, key, event);
    }
    if (kind === 'slow') event.answered = false;
    return event;
  }

  private wait(map: Map<string, FaultEvent[]>, key: string, event: FaultEvent): void {
    const list = map.get(key);
    if (list) list.push(event);
    else map.set(key, [event]);
  }

  private take(map: Map<string, FaultEvent[]>, key: string): FaultEvent[] {
    const list = map.get(key);
    if (!list) return [];
    map.delete(key);
    return list;
  }
}
