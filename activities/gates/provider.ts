// The one interface every gate provider implements (DESIGN §7): a provider measures, the workflow
// decides (workflows/gates/evaluation.ts). The providers themselves are in registry.ts.
import type { GATE_PROVIDERS, GateSpec, ReleaseSpec } from '../../workflows/spec/index.ts';
import type { KubernetesClients } from '../kubernetes/clients.ts';

/** A provider's name: a key of a gate spec (`prometheus`, `http`, `job`, `judge`). */
export type ProviderName = (typeof GATE_PROVIDERS)[number];

/** The gate specs a provider measures: those with its key. */
export type GateOf<K extends ProviderName> = Extract<GateSpec, Record<K, unknown>>;

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
  /** How long the current step's traffic has been in effect (`{{window}}`); absent = the gate's interval. */
  windowSeconds?: number | undefined;
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

/**
 * Measures one gate. Misconfiguration (a missing Secret, key or env var, an unknown placeholder, a
 * query Prometheus refuses, no Prometheus) throws a non-retryable `GateMisconfigured` failure
 * (misconfiguration.ts); transient trouble (refused, 5xx, timeouts) throws an ordinary Error with a
 * one-line message, which Temporal retries and the workflow finally records as an `error` measurement.
 */
export type GateProvider<G extends GateSpec = GateSpec> = (
  gate: G,
  context: MeasureContext,
  deps: ProviderDeps,
) => Promise<RawMeasurement>;
