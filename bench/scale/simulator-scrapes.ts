// Whether Prometheus could read the traffic simulator over a span: the share of its scrapes that
// succeeded (`up`) and how long they took (`scrape_duration_seconds`), from Prometheus's own series
// for the job. A gate that finds no data while these say the target was down is the local stack's
// limit, not Slipway's; a run prints them so that is visible without reading Prometheus by hand.

export const SIMULATOR_JOB = 'traffic-simulator';

export interface ScrapeHealth {
  scrapes: number;
  /** Share of those scrapes that succeeded, 0..1. */
  up: number;
  durationSeconds: { p50: number; p99: number; max: number };
}

async function instant(prometheusUrl: string, query: string, atMs: number): Promise<number> {
  const url = new URL('/api/v1/query', prometheusUrl);
  url.searchParams.set('query', query);
  url.searchParams.set('time', String(atMs / 1000));
  const body = (await (await fetch(url)).json()) as {
    data?: { result?: Array<{ value?: [number, string] }> };
  };
  const value = body.data?.result?.[0]?.value?.[1];
  return value === undefined ? NaN : Math.round(Number(value) * 1000) / 1000;
}

/** The simulator's scrapes between two times (ms), or undefined when Prometheus could not say. */
export async function simulatorScrapeHealth(
  prometheusUrl: string,
  fromMs: number,
  toMs: number,
): Promise<ScrapeHealth | undefined> {
  const range = `[${Math.max(1, Math.round((toMs - fromMs) / 1000))}s]`;
  const up = `up{job="${SIMULATOR_JOB}"}${range}`;
  const duration = `scrape_duration_seconds{job="${SIMULATOR_JOB}"}${range}`;
  try {
    const [scrapes, upShare, p50, p99, max] = await Promise.all([
      instant(prometheusUrl, `count_over_time(${up})`, toMs),
      instant(prometheusUrl, `avg_over_time(${up})`, toMs),
      instant(prometheusUrl, `quantile_over_time(0.5, ${duration})`, toMs),
      instant(prometheusUrl, `quantile_over_time(0.99, ${duration})`, toMs),
      instant(prometheusUrl, `max_over_time(${duration})`, toMs),
    ]);
    if (!Number.isFinite(scrapes)) return undefined;
    return { scrapes, up: upShare, durationSeconds: { p50, p99, max } };
  } catch {
    return undefined;
  }
}
