// The worker's metrics: the Temporal runtime's Prometheus exporter (Temporal's worker metrics and
// Slipway's release metrics, recorded by workflows/metrics.ts) plus this process's own prom-client
// metrics, served together so one scrape of /metrics gets everything.
import type { TelemetryOptions } from '@temporalio/worker';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { registerThreadHeapMetrics } from './thread-heaps.ts';

export const processMetrics = new Registry();
collectDefaultMetrics({ register: processMetrics, prefix: 'slipway_worker_' });
registerThreadHeapMetrics(processMetrics);

/** Runtime telemetry options exporting to `bind` (host:port), or none when metrics are off. */
export function temporalTelemetry(bind: string): TelemetryOptions {
  if (bind === 'off') return {};
  // Counters get the conventional `_total` suffix, durations are in seconds.
  return {
    metrics: { prometheus: { bindAddress: bind, countersTotalSuffix: true, useSecondsForDurations: true } },
  };
}

/** Where to scrape the runtime's exporter from this process (a wildcard bind is reached on loopback). */
function scrapeUrl(bind: string): string {
  const sep = bind.lastIndexOf(':');
  const host = bind.slice(0, sep);
  const reachable = host === '0.0.0.0' || host === '::' || host === '[::]' ? '127.0.0.1' : host;
  return `http://${reachable}:${bind.slice(sep + 1)}/metrics`;
}

/** The exposition text of both sources; a runtime exporter that does not answer is noted, not fatal. */
export async function metricsText(temporalBind: string): Promise<string> {
  const own = await processMetrics.metrics();
  if (temporalBind === 'off') return own;
  try {
    const response = await fetch(scrapeUrl(temporalBind), { signal: AbortSignal.timeout(2000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return `${own}\n${await response.text()}`;
  } catch (error) {
    return `${own}\n# Temporal runtime metrics unavailable: ${error instanceof Error ? error.message : String(error)}\n`;
  }
}

export const METRICS_CONTENT_TYPE = processMetrics.contentType;
