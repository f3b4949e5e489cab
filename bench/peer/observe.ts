// What the peer bench observes the same way for both tools: when the bad candidate last served
// (its ready pods, polled), and when Prometheus first held a failing sample of the gate's query.
import type * as k8s from '@kubernetes/client-node';

const POLL_MS = 25;

/** Polls the candidate's ready pods; `goneAfter(t)` = first poll at or after t that saw none. */
export function watchCandidatePods(core: k8s.CoreV1Api, namespace: string, model: string, version: string) {
  const seen: Array<{ at: number; ready: number }> = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      const pods = await core.listNamespacedPod({
        namespace,
        labelSelector: `app.kubernetes.io/name=${model},app.kubernetes.io/version=${version}`,
      });
      const ready = pods.items.filter(
        (p) =>
          !p.metadata?.deletionTimestamp &&
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      ).length;
      seen.push({ at, ready });
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  return {
    /** The first moment after `t` the candidate had no ready pod (after having had one). */
    goneAfter(t: number): number | undefined {
      const served = seen.some((s) => s.ready > 0);
      return served ? seen.find((s) => s.at >= t && s.ready === 0)?.at : undefined;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** The first time (ms) in [startMs, endMs] at which `query` exceeded `max`, at a 100 ms resolution. */
export async function firstFailingSample(
  query: string,
  max: number,
  startMs: number,
  endMs: number,
): Promise<number | undefined> {
  const base = process.env.PROMETHEUS_URL;
  if (!base) throw new Error('PROMETHEUS_URL is not set');
  const params = new URLSearchParams({
    query,
    start: (startMs / 1000).toFixed(3),
    end: (endMs / 1000).toFixed(3),
    step: '0.1',
  });
  const body = (await (await fetch(`${base}/api/v1/query_range?${params.toString()}`)).json()) as {
    status: string;
    error?: string;
    data?: { result?: Array<{ values: Array<[number, string]> }> };
  };
  if (body.status !== 'success') throw new Error(`${query}: ${body.error ?? 'failed'}`);
  const first = (body.data?.result?.[0]?.values ?? []).find(([, v]) => Number(v) > max);
  return first ? Math.round(first[0] * 1000) : undefined;
}
