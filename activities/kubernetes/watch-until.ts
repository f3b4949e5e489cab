// Waiting on one object with a watch (not polling) until a predicate decides. The watch resumes from
// the last resourceVersion after a clean close; a broken connection fails the attempt so the
// activity's retry resumes it (from heartbeat details); a 410 Gone re-reads the object.
import { Watch, type KubernetesObject } from '@kubernetes/client-node';
import { apiStatus, type KubernetesClients } from './clients.ts';

export interface WatchUntilOptions<T extends KubernetesObject, R> {
  /** Collection path, e.g. `/apis/apps/v1/namespaces/ns/deployments`. */
  path: string;
  name: string;
  read: () => Promise<T>;
  /** Returns a result to stop, or undefined to keep watching. */
  decide: (object: T) => R | undefined;
  signal: AbortSignal;
  /** Called with every version seen (for heartbeats). */
  onObject?: (object: T) => void;
}

export async function watchUntil<T extends KubernetesObject, R>(
  clients: KubernetesClients,
  options: WatchUntilOptions<T, R>,
): Promise<R> {
  let object = await options.read();
  for (;;) {
    options.signal.throwIfAborted();
    options.onObject?.(object);
    const result = options.decide(object);
    if (result !== undefined) return result;
    const next = await nextEvent<T>(clients, options.path, options.name, object.metadata?.resourceVersion, options.signal);
    if (next.kind === 'object') object = next.object;
    else if (next.kind === 'gone') object = await options.read();
    else if (next.kind === 'deleted') throw new Error(`${options.name} was deleted while waiting on it`);
    // 'closed': the server ended the watch (its timeout); watch again from the same resourceVersion.
  }
}

type WatchEvent<T> = { kind: 'object'; object: T } | { kind: 'deleted' } | { kind: 'gone' } | { kind: 'closed' };

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
            const code = (object as { code?: number } | undefined)?.code;
            settle(code === 410 ? { kind: 'gone' } : new Error(`watch error: ${JSON.stringify(object)}`));
            return;
          }
          if (phase === 'DELETED') return settle({ kind: 'deleted' });
          settle({ kind: 'object', object: object as T });
        },
        (error: unknown) => {
          if (error && apiStatus(error) === 410) return settle({ kind: 'gone' });
          if (error) return settle(error instanceof Error ? error : new Error(JSON.stringify(error)));
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
