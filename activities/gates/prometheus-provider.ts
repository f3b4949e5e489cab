// The `prometheus` gate provider: an instant query (first finite value), or a range query whose
// samples are aggregated (mean, min, max, last) into the gate's value.
import type { Duration } from '../../workflows/duration.ts';
import type { PrometheusGate, PrometheusRange } from '../../workflows/spec/index.ts';
import { prometheusFor, type PrometheusClient } from './prometheus.ts';
import type { MeasureContext, ProviderDeps, RawMeasurement } from './provider.ts';
import { escapePromQLString, renderTemplate, templateContext } from './template.ts';

/** The aggregate of the finite samples, or null when there is none. */
export function aggregateSamples(
  samples: readonly number[],
  aggregate: PrometheusRange['aggregate'],
): number | null {
  const finite = samples.filter((x) => Number.isFinite(x));
  if (finite.length === 0) return null;
  switch (aggregate) {
    case 'min':
      return Math.min(...finite);
    case 'max':
      return Math.max(...finite);
    case 'last':
      return finite[finite.length - 1]!;
    case 'mean':
      return finite.reduce((sum, x) => sum + x, 0) / finite.length;
  }
}

/** Samples of a range query over the last `duration`, every `step`, ending now. */
export async function rangeSamples(
  client: PrometheusClient,
  query: string,
  range: { duration: Duration; step: Duration },
): Promise<number[]> {
  const end = new Date();
  const start = new Date(end.getTime() - range.duration.ms);
  return client.queryRange(query, start, end, range.step.ms / 1000);
}

export async function measureByPrometheus(
  gate: PrometheusGate,
  context: MeasureContext,
  deps: ProviderDeps,
): Promise<RawMeasurement> {
  const client = prometheusFor(deps, context.signal);
  const query = renderTemplate(gate.prometheus.query, templateContext(context, gate), escapePromQLString);
  const at = new Date().toISOString();
  const range = gate.prometheus.range;
  if (!range) {
    const value = (await client.query(query)).find((v) => Number.isFinite(v)) ?? null;
    return { gate: gate.name, at, provider: 'prometheus', query, value };
  }
  const samples = await rangeSamples(client, query, range);
  const value = aggregateSamples(samples, range.aggregate);
  return {
    gate: gate.name,
    at,
    provider: 'prometheus',
    query,
    value,
    details: {
      samples: samples.length,
      aggregate: range.aggregate,
      range: `${range.duration.text} every ${range.step.text}`,
    },
  };
}
