// Waiting on one object with a watch (not polling) until a predicate decides. The watch resumes
// from the last resourceVersion after a clean close or a quiet spell (client-node ends a watch that
// has been silent for 30 s); after a broken connection or a transient apiserver error it backs off,
// reads the object again and watches on, so a disconnect does not fail the activity. Only when the
// cluster stays unreachable for `giveUpAfterMs` does the wait fail (classified, retryable). A 410
// Gone reads the object again. Cancellation (the heartbeat's signal) rejects with its reason.
import { ApiException, Watch, type KubernetesObject } from '@kubernetes/client-node';
import { asClusterFailure, classifyClusterError, type ClusterTarget } from './cluster-errors.ts';
import { apiStatus, type KubernetesClients } from './clients.ts';
import { inCall } from './call-ids.ts';

export interface WatchUntilOptions<T extends KubernetesObject, R> {
  /** Collection path, e.g. `/apis/apps/v1/namespaces/ns/deployments`. */
  path: string;
  name: string;
  /** Reads the object; undefined when it does not exist (only with `decideAbsent`). */
  read: () => Promise<T | undefined>;
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
  const readNow = async (): Promise<T | undefined> => {
    for (;;) {
      try {
        const object = await options.read();
        failingSince = undefined;
        attempt = 0;
        return object;
      } catch (error) {
        await survive(error);
      }
    }
  };

  let object = await readNow();
  for (;;) {
    options.signal.throwIfAborted();
    if (object === undefined) {
      if (options.decideAbsent) return options.decideAbsent();
      throw new Error(`${options.name} was deleted while waiting on it`);
    }
    options.onObject?.(object);
    const result = options.decide(object);
    if (result !== undefined) return result;
    let next: WatchEvent<T>;
    try {
      next = await nextEvent<T>(
        clients,
        options.path,
        options.name,
        object.metadata?.resourceVersion,
        options.signal,
      );
    } catch (error) {
      await survive(error);
      object = await readNow();
      continue;
    }
    failingSince = undefined;
    attempt = 0;
    if (next.kind === 'object') object = next.object;
    else if (next.kind === 'gone') object = await readNow();
    else if (next.kind === 'deleted') object = undefined;
    // 'closed': the server ended the watch (its timeout) or it was quiet; watch again from the same resourceVersion.
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

type WatchEvent<T> =
  { kind: 'object'; object: T } | { kind: 'deleted' } | { kind: 'gone' } | { kind: 'closed' };

/** client-node ends a watch that received nothing for 30 s with a TimeoutError: that is a quiet spell, not a failure. */
function isQuietTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}

function nextEvent<T>(
  clients: KubernetesClients,
  path: string,
  name: string,
  resourceVersion: string | undefined,
  signal: AbortSignal,
): Promise<WatchEvent<T>> {
  const watch = new Watch(clients.kc);
  return new Promise<WatchEvent<T>>((resolve, reject) => {
    let settled = false;
    let controller: AbortController | undefined;
    const settle = (event: WatchEvent<T> | Error) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      controller?.abort();
      if (event instanceof Error) reject(event);
      else resolve(event);
    };
    const onAbort = () => settle(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    watch
      .watch(
        path,
        {
          fieldSelector: `metadata.name=${name}`,
          allowWatchBookmarks: true,
          timeoutSeconds: 300,
          ...(resourceVersion ? { resourceVersion } : {}),
        },
        (phase: string, object: unknown) => {
          if (phase === 'BOOKMARK') return;
          if (phase === 'ERROR') {
            // A Status object: 410 Gone (resourceVersion too old), or an error to classify like any answer.
            const status = object as { code?: number } | undefined;
            if (status?.code === 410) return settle({ kind: 'gone' });
            return settle(new ApiException(status?.code ?? 500, 'watch error', object, {}));
          }
          if (phase === 'DELETED') return settle({ kind: 'deleted' });
          settle({ kind: 'object', object: object as T });
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
