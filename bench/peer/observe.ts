// What the peer bench observes the same way for every tool: when the bad candidate last served
// (routing `replicas`: its ready pods; `istio`: its weight in the VirtualService; polled), and when
// Prometheus first held a failing sample of the gate's query.
import type * as k8s from '@kubernetes/client-node';
import { canaryWeightOf, VS_API } from './istio-objects.ts';

const POLL_MS = 25;

/** When the candidate stopped serving, as polled. */
export interface CandidateWatch {
  /** The first poll at or after `t` that found the candidate serving nothing (after it served). */
  goneAfter(t: number): number | undefined;
  stop(): Promise<void>;
}

/** The first sample at or after `t` with nothing served, once one sample served something. */
export function firstZeroAfter(seen: ReadonlyArray<{ at: number; value: number }>, t: number) {
  const served = seen.some((s) => s.value > 0);
  return served ? seen.find((s) => s.at >= t && s.value === 0)?.at : undefined;
}

/** Polls the candidate's weight in the VirtualService `name` (the weight to the Service `canary`). */
export function watchCanaryWeight(
  custom: k8s.CustomObjectsApi,
  namespace: string,
  name: string,
  canary: string,
): CandidateWatch {
  const seen: Array<{ at: number; value: number }> = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      // The custom objects API returns untyped JSON; canaryWeightOf reads only spec.http.
      const vs = (await custom
        .getNamespacedCustomObject({ ...VS_API, namespace, name })
        .catch(() => undefined)) as Parameters<typeof canaryWeightOf>[0];
      const weight = canaryWeightOf(vs, canary, namespace);
      if (weight !== undefined) seen.push({ at, value: weight });
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  return {
    goneAfter: (t) => firstZeroAfter(seen, t),
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Polls the candidate's ready pods; `goneAfter(t)` = first poll at or after t that saw none. */
export function watchCandidatePods(
  core: k8s.CoreV1Api,
  namespace: string,
  model: string,
  version: string,
): CandidateWatch {
  const seen: Array<{ at: number; value: number }> = [];
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
      seen.push({ at, value: ready });
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  return {
    goneAfter: (t) => firstZeroAfter(seen, t),
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** `query` over [startMs, endMs] at `stepSeconds`: [time ms, value] of its first series. */
async function queryRange(
  query: string,
  startMs: number,
  endMs: number,
  stepSeconds: number,
): Promise<Array<[number, number]>> {
  const base = process.env.PROMETHEUS_URL;
  if (!base) throw new Error('PROMETHEUS_URL is not set');
  const params = new URLSearchParams({
    query,
    start: (startMs / 1000).toFixed(3),
    end: (endMs / 1000).toFixed(3),
    step: String(stepSeconds),
  });
  const body = (await (await fetch(`${base}/api/v1/query_range?${params.toString()}`)).json()) as {
    status: string;
    error?: string;
    data?: { result?: Array<{ values: Array<[number, string]> }> };
  };
  if (body.status !== 'success') throw new Error(`${query}: ${body.error ?? 'failed'}`);
  return (body.data?.result?.[0]?.values ?? []).map(([t, v]) => [Math.round(t * 1000), Number(v)]);
}

/** The first time (ms) in [startMs, endMs] at which `query` exceeded `max`, at a 100 ms resolution. */
export async function firstFailingSample(
  query: string,
  max: number,
  startMs: number,
  endMs: number,
): Promise<number | undefined> {
  return (await queryRange(query, startMs, endMs, 0.1)).find(([, v]) => v > max)?.[0];
}

/** `query` every 0.5 s over [startMs, endMs], as `HH:MM:SS.s=value` (evidence for the JSON). */
export async function queryValues(query: string, startMs: number, endMs: number): Promise<string> {
  return (await queryRange(query, startMs, endMs, 0.5))
    .map(([t, v]) => `${new Date(t).toISOString().slice(11, 21)}=${Math.round(v * 100) / 100}`)
    .join(' ');
}
