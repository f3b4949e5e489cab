// One interface for every gate provider (DESIGN §7): a provider measures, the workflow decides
// (workflows/gates/evaluation.ts). `providerFor` picks the provider of a gate spec.
import type { GateSpec, ReleaseSpec } from '../../workflows/spec/index.ts';
import type { KubernetesClients } from '../kubernetes/clients.ts';
import { measureByHttp } from './http-provider.ts';
import { measureByJob } from './job-provider.ts';
import { measureByJudge } from './judge-provider.ts';
import { measureByPrometheus } from './prometheus-provider.ts';
import type { TemplateContext } from './template.ts';

export type ProviderName = 'prometheus' | 'http' | 'job' | 'judge';

/** What a provider saw. Small: it goes into the workflow's history. */
export interface RawMeasurement {
  gate: string;
  /** ISO time of the measurement. */
  at: string;
  provider: ProviderName;
  /** What was asked, rendered: PromQL, URL (never a header value), Job name. */
  query?: string;
  /** null = no data (the gate's onNoData decides). */
  value: number | null;
  /** Only providers that decide themselves (a judge; a failed Job). */
  verdict?: 'pass' | 'fail' | 'inconclusive';
  reason?: string;
  /** Evidence: sample summaries, p-value, HTTP status, Job name… never raw samples or secrets. */
  details?: Record<string, unknown>;
}

export interface MeasureContext {
  spec: ReleaseSpec;
  stableVersion?: string | undefined;
  /** Unique per measurement and stable across retries (names a Job gate's Job). */
  measurementId: string;
  signal: AbortSignal;
  /** Progress for heartbeats of long measurements. */
  onProgress?: (message: string) => void;
}

export interface ProviderDeps {
  kubernetes: KubernetesClients;
  prometheusUrl?: string | undefined;
  /** Where `{ env: NAME }` header values come from (the worker's environment). */
  env?: NodeJS.ProcessEnv;
}

export type GateProvider<G extends GateSpec = GateSpec> = (gate: G, context: MeasureContext, deps: ProviderDeps) => Promise<RawMeasurement>;

export function templateContext(context: MeasureContext): TemplateContext {
  const { spec, stableVersion } = context;
  return { model: spec.model, namespace: spec.namespace, version: spec.version, stableVersion };
}

export function providerName(gate: GateSpec): ProviderName {
  if ('prometheus' in gate) return 'prometheus';
  if ('http' in gate) return 'http';
  if ('job' in gate) return 'job';
  return 'judge';
}

/** Measures `gate` with its provider. */
export function measureWithProvider(gate: GateSpec, context: MeasureContext, deps: ProviderDeps): Promise<RawMeasurement> {
  if ('prometheus' in gate) return measureByPrometheus(gate, context, deps);
  if ('http' in gate) return measureByHttp(gate, context, deps);
  if ('job' in gate) return measureByJob(gate, context, deps);
  return measureByJudge(gate, context, deps);
}

export function requirePrometheus(deps: ProviderDeps): string {
  if (!deps.prometheusUrl) throw new Error('PROMETHEUS_URL is not configured on the worker');
  return deps.prometheusUrl;
}
