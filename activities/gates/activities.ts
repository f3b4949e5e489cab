// Gate measurement activities. An activity measures; the workflow decides (pure, replay-safe
// rules in workflows/gates/evaluation.ts). Provider errors are thrown so Temporal retries them a
// bounded number of times; the workflow then records the gate as inconclusive with the error.
import type { ReleaseSpec } from '../../workflows/spec.ts';
import { gateByName } from '../../workflows/spec-helpers.ts';
import { PrometheusClient } from './prometheus.ts';
import { escapePromQLString, renderTemplate, type TemplateContext } from './template.ts';

export interface MeasureGateInput {
  spec: ReleaseSpec;
  gate: string;
  stableVersion?: string | undefined;
}

/** What a provider saw. `value` null/undefined = no data. */
export interface RawMeasurement {
  gate: string;
  at: string;
  provider: string;
  query?: string;
  value: number | null;
}

export interface GateActivityDeps {
  prometheusUrl?: string | undefined;
}

export function createGateActivities(deps: GateActivityDeps) {
  return {
    async measureGate({ spec, gate: gateName, stableVersion }: MeasureGateInput): Promise<RawMeasurement> {
      const gate = gateByName(spec, gateName);
      if (!gate) throw new Error(`gate ${gateName} is not defined in the spec`);
      const context: TemplateContext = { model: spec.model, namespace: spec.namespace, version: spec.version, stableVersion };
      const at = new Date().toISOString();
      if ('prometheus' in gate && gate.prometheus) {
        if (!deps.prometheusUrl) throw new Error('PROMETHEUS_URL is not configured on the worker');
        const query = renderTemplate(gate.prometheus.query, context, escapePromQLString);
        const values = await new PrometheusClient({ url: deps.prometheusUrl }).query(query);
        const value = values.find((v) => Number.isFinite(v));
        return { gate: gateName, at, provider: 'prometheus', query, value: value ?? null };
      }
      throw new Error(`gate ${gateName}: this provider is not supported yet`);
    },
  };
}

export type GateActivities = ReturnType<typeof createGateActivities>;
