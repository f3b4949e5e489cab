// Schedule-to-start latency of workflow tasks and activities, from the Temporal runtime's own
// histograms in a worker's /metrics (temporal_workflow_task_schedule_to_start_latency,
// temporal_activity_schedule_to_start_latency): the quantiles are bucket upper bounds.
export interface Histogram {
  /** Cumulative counts by bucket upper bound (ms), summed over every label set. */
  buckets: Map<number, number>;
  count: number;
}

export function histogramOf(text: string, name: string): Histogram {
  const buckets = new Map<number, number>();
  let count = 0;
  for (const line of text.split('\n')) {
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isFinite(value)) continue;
    if (line.startsWith(`${name}_bucket{`)) {
      const le = /le="([^"]+)"/.exec(line)?.[1];
      if (le === undefined) continue;
      const bound = le === '+Inf' ? Infinity : Number(le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + value);
    } else if (line.startsWith(`${name}_count`)) count += value;
  }
  return { buckets, count };
}

/** Adds histograms (several workers). */
export function addHistograms(hs: Histogram[]): Histogram {
  const buckets = new Map<number, number>();
  for (const h of hs) for (const [le, v] of h.buckets) buckets.set(le, (buckets.get(le) ?? 0) + v);
  return { buckets, count: hs.reduce((sum, h) => sum + h.count, 0) };
}

/** The smallest bucket bound holding quantile q of the observations (Infinity beyond the last bound). */
export function quantile(h: Histogram, q: number): number {
  if (h.count === 0) return NaN;
  const bounds = [...h.buckets.keys()].sort((a, b) => a - b);
  for (const le of bounds) if ((h.buckets.get(le) ?? 0) >= q * h.count) return le;
  return Infinity;
}

export const WORKFLOW_TASK_LATENCY = 'temporal_workflow_task_schedule_to_start_latency';
export const ACTIVITY_LATENCY = 'temporal_activity_schedule_to_start_latency';
