// Counters sampled over time so a window found afterwards (the span in which every release held)
// can be cut out of them: the requests the workers sent through their counting proxy, the
// apiserver's own apiserver_request_total (every client of the cluster), and the queries Prometheus
// answered (its prometheus_http_requests_total for /api/v1/query and /api/v1/query_range).
import { apiserverRequestTotal, sumMetric } from '../peer/apiserver-metrics.ts';

export interface CounterPoint {
  at: number;
  value: number;
}

export interface CounterSeries {
  name: string;
  points: CounterPoint[];
}

/** The counter's increase between two times, interpolated between the samples around each. */
export function increaseBetween(series: CounterSeries, from: number, to: number): number {
  return valueAt(series.points, to) - valueAt(series.points, from);
}

export function valueAt(points: CounterPoint[], at: number): number {
  if (points.length === 0) return NaN;
  if (at <= points[0]!.at) return points[0]!.value;
  for (let i = 1; i < points.length; i++) {
    const b = points[i]!;
    if (at <= b.at) {
      const a = points[i - 1]!;
      return a.value + ((b.value - a.value) * (at - a.at)) / Math.max(1, b.at - a.at);
    }
  }
  return points[points.length - 1]!.value;
}

export async function prometheusQueryTotal(prometheusUrl: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', prometheusUrl))).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('prometheus_http_requests_total{')) continue;
    if (!/handler="\/api\/v1\/query(_range)?"/.test(line)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}

export interface CounterSampler {
  series(): CounterSeries[];
  stop(): Promise<CounterSeries[]>;
}

/** Samples each named reader every `everyMs` (readers that fail skip that sample). */
export function sampleCounters(
  readers: Record<string, () => number | Promise<number>>,
  everyMs = 2_000,
): CounterSampler {
  const all: CounterSeries[] = Object.keys(readers).map((name) => ({ name, points: [] }));
  let busy = false;
  const take = async () => {
    if (busy) return;
    busy = true;
    await Promise.all(
      all.map(async (s) => {
        try {
          const value = await readers[s.name]!();
          s.points.push({ at: Date.now(), value });
        } catch {
          // a missed sample: the series interpolates over it
        }
      }),
    );
    busy = false;
  };
  void take();
  const timer = setInterval(() => void take(), everyMs);
  return {
    series: () => all,
    async stop() {
      clearInterval(timer);
      while (busy) await new Promise((resolve) => setTimeout(resolve, 50));
      await take();
      return all;
    },
  };
}

export { apiserverRequestTotal, sumMetric };
