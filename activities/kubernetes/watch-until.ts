// Waiting on one object with a watch (not polling) until a predicate decides: list it by name, then
// watch from the list's resourceVersion, deciding on every event of one open stream. The watch
// resumes from the newest resourceVersion it saw (an event's, a bookmark's, the list's) after a
// clean close or a quiet spell (client-node ends a watch that has been silent for 30 s). A 410 Gone
// (that version is older than the apiserver's watch cache) lists again; after a broken connection or
// a transient apiserver error it backs off and lists again, so a disconnect does not fail the
// activity. Only when the cluster stays unreachable for `giveUpAfterMs` does the wait fail
// (classified, retryable). Cancellation (the heartbeat's signal) rejects with its reason.
//
// Never resumed from the object's own resourceVersion: on a busy cluster a quiet object's version
// falls out of the watch cache within seconds, and each watch from it answered 410 at once. At
// 1,000 releases that made every held release list and watch again about every 3 s (1.6 watches and
// 1.6 reads per release per 5 s gate interval), hundreds of requests a second for nothing.
import { ApiException, Watch, type KubernetesObject } from '@kubernetes/client-node';
import { asClusterFailure, classifyClusterError, type ClusterTarget } from './cluster-errors.ts';
import { apiStatus, type KubernetesClients } from './clients.ts';
import { inCall } from './call-ids.ts';

export interface WatchUntilOptions<T extends KubernetesObject, R> {
  /** Collection path, e.g. `/apis/apps/v1/namespaces/ns/deployments`. */
  path: string;
  name: string;
  /**
   * Lists the collection with this field selector (the object by name): its items (the object, or
   * none when it does not exist) and the list's resourceVersion, from which the watch starts.
   */
  list: (fieldSelector: string) => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  /** Returns a result to stop, or undefined to keep watching. */
  decide: (object: T) => R | undefined;
  /** What an absent or deleted object means; without it, a deletion is an error. */
  decideAbsent?: () => R;
  signal: AbortSignal;
  /** Called with every version seen (for heartbeats). */
  onObject?: (object: T) => void;
  /** For error messages: what is watched. */
  target: ClusterTarget;
  /** How long the cluster may stay unreachable before the wait fails (default 2 minutes). */
  giveUpAfterMs?: number;
}

/** Waits as one logical call: every read of it carries one call id (call-ids.ts). */
export function watchUntil<T extends KubernetesObject, R>(
  clients: KubernetesClients,
  options: WatchUntilOptions<T, R>,
): Promise<R> {
  return inCall(() => watchUntilInCall(clients, options));
}

async function watchUntilInCall<T extends KubernetesObject, R>(
  clients: KubernetesClients,
  options: WatchUntilOptions<T, R>,
): Promise<R> {
  const giveUpAfterMs = options.giveUpAfterMs ?? 120_000;
  let failingSince: number | undefined;
  let attempt = 0;
  /** A transient failure: back off and go on, until the cluster has been unreachable too long. */
  const survive = async (error: unknown): Promise<void> => {
    options.signal.throwIfAborted();
    const classified = classifyClusterError(error, options.target);
    if (!classified || classified.final) throw asClusterFailure(error, options.target);
    failingSince ??= Date.now();
    if (Date.now() - failingSince > giveUpAfterMs) throw asClusterFailure(error, options.target);
    attempt++;
    // Never sooner than the apiserver's Retry-After (a 429 or 503 on a read).
    const backoffMs = Math.min(10_000, 250 * 2 ** Math.min(attempt, 6));
    await sleep(Math.max(backoffMs, classified.retryAfterMs ?? 0), options.signal);
  };
  const fieldSelector = `metadata.name=${options.name}`;
  /** The object (undefined when absent) and the version to watch from, listed until it answers. */
  const listNow = async (): Promise<{ object: T | undefined; from: string | undefined }> => {
    for (;;) {
      try {
        const list = await options.list(fieldSelector);
        failingSince = undefined;
        attempt = 0;
        const object = list.items.find((item) => item.metadata?.name === options.name);
        return { object, from: list.metadata?.resourceVersion ?? object?.metadata?.resourceVersion };
      } catch (error) {
        await survive(error);
      }
    }
  };

  let { object, from } = await listNow();
  for (;;) {
    options.signal.throwIfAborted();
    if (object === undefined) {
      if (options.decideAbsent) return options.decideAbsent();
      throw new Error(`${options.name} was deleted while waiting on it`);
    }
    options.onObject?.(object);
    const result = options.decide(object);
    if (result !== undefined) return result;
    let end: StreamEnd<R>;
    try {
      end = await watchFrom<T, R>(clients, options.path, fieldSelector, from, options.signal, {
        object: (next) => {
          from = next.metadata?.resourceVersion ?? from;
          object = next;
          options.onObject?.(next);
          return options.decide(next);
        },
        bookmark: (version) => {
          from = version;
        },
      });
    } catch (error) {
      await survive(error);
      ({ object, from } = await listNow());
      continue;
    }
    failingSince = undefined;
    attempt = 0;
    if (end.kind === 'decided') return end.result;
    if (end.kind === 'deleted') object = undefined;
    else if (end.kind === 'gone') ({ object, from } = await listNow());
    // 'closed': the server ended the watch (its timeout) or it was quiet; watch on from `from`.
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

type StreamEnd<R> =
  { kind: 'decided'; result: R } | { kind: 'deleted' } | { kind: 'gone' } | { kind: 'closed' };

interface StreamHandlers<T, R> {
  /** An added or modified object: a result ends the stream. */
  object: (object: T) => R | undefined;
  bookmark: (resourceVersion: string) => void;
}

/** client-node ends a watch that received nothing for 30 s with a TimeoutError: that is a quiet spell, not a failure. */
function isQuietTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}

/** One watch stream from `resourceVersion`, open until an object decides, a deletion, a 410, a close or an error. */
function watchFrom<T, R>(
  clients: KubernetesClients,
  path: string,
  fieldSelector: string,
  resourceVersion: string | undefined,
  signal: AbortSignal,
  on: StreamHandlers<T, R>,
): Promise<StreamEnd<R>> {
  const watch = new Watch(clients.kc);
  return new Promise<StreamEnd<R>>((resolve, reject) => {
    let settled = false;
    let controller: AbortController | undefined;
    const settle = (end: StreamEnd<R> | Error) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      controller?.abort();
      if (end instanceof Error) reject(end);
      else resolve(end);
    };
    const onAbort = () => settle(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    watch
      .watch(
        path,
        {
          fieldSelector,
          allowWatchBookmarks: true,
          timeoutSeconds: 300,
          ...(resourceVersion ? { resourceVersion } : {}),
        },
        (phase: string, object: unknown) => {
          if (settled) return;
          if (phase === 'BOOKMARK') {
            const version = (object as KubernetesObject | undefined)?.metadata?.resourceVersion;
            if (version) on.bookmark(version);
            return;
          }
          if (phase === 'ERROR') {
            // A Status object: 410 Gone (resourceVersion too old), or an error to classify like any answer.
            const status = object as { code?: number } | undefined;
            if (status?.code === 410) return settle({ kind: 'gone' });
            return settle(new ApiException(status?.code ?? 500, 'watch error', object, {}));
          }
          if (phase === 'DELETED') return settle({ kind: 'deleted' });
          try {
            const result = on.object(object as T);
            if (result !== undefined) settle({ kind: 'decided', result });
          } catch (error) {
            settle(error instanceof Error ? error : new Error(String(error)));
          }
        },
        (error: unknown) => {
          if (signal.aborted) return onAbort();
          if (error && apiStatus(error) === 410) return settle({ kind: 'gone' });
          if (error && isQuietTimeout(error)) return settle({ kind: 'closed' });
          if (error)
            return settle(
              error instanceof Error ? error : new Error(`watch ended: ${JSON.stringify(error)}`),
            );
          settle({ kind: 'closed' });
        },
      )
      .then((c) => {
        controller = c;
        if (settled) c.abort();
      })
      .catch((error: unknown) => settle(error instanceof Error ? error : new Error(String(error))));
  });
}
