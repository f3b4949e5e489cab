// Concurrent identical reads share one request: a capacity check lists every node and every running
// pod of the cluster, and a thousand releases building at once made a thousand such lists (each a
// few MB of JSON to parse and hold) within seconds. A read that starts while the same read is in
// flight gets that read's answer, so it is never older than the request it joins; nothing is kept
// once it has answered (no cache, no staleness beyond one round trip). Answers are shared: callers
// must not mutate them.
import type { KubernetesClients } from './clients.ts';

const inFlight = new WeakMap<KubernetesClients, Map<string, Promise<unknown>>>();

export function sharedRead<T>(clients: KubernetesClients, key: string, read: () => Promise<T>): Promise<T> {
  let reads = inFlight.get(clients);
  if (!reads) inFlight.set(clients, (reads = new Map<string, Promise<unknown>>()));
  const joined = reads.get(key) as Promise<T> | undefined;
  if (joined) return joined;
  const started = read().finally(() => reads.delete(key));
  reads.set(key, started);
  return started;
}
