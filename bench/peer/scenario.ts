// The scenario both tools run, with the same figures: stable v1 with REPLICAS pods, a good candidate
// through the same weights and holds, then a bad one (answering 50% errors) failing the same
// error-rate query at the same interval; by ready pods or by Istio VirtualService weights (ROUTINGS).
import { ERROR_RATE_QUERY } from '../../test/helpers/release-fixtures.ts';

export const REPLICAS = 4;
export const GOOD_STEPS = [
  { weight: 25, holdMs: 3_000 },
  { weight: 50, holdMs: 3_000 },
];
/** The bad candidate fails during this hold. */
export const BAD_STEP = { weight: 25, holdMs: 60_000 };
export const GATE = { query: ERROR_RATE_QUERY, max: 0.05, intervalMs: 2_000 };
export const BAD_ANNOTATIONS = { 'sim.slipway.dev/error-rate': '0.5' };
/** KWOK's delay before a pod is Ready, for both tools' pods. */
export const POD_READY_DELAY = { 'pod-ready.stage.kwok.x-k8s.io/delay': '500ms' };
export const VERSIONS = { stable: 'v1', good: 'v2', bad: 'v3' } as const;

/** The gate's query for one model and version (Slipway fills these placeholders itself). */
export function gateQuery(namespace: string, model: string, version: string): string {
  return GATE.query
    .replaceAll('{{namespace}}', namespace)
    .replaceAll('{{model}}', model)
    .replaceAll('{{version}}', version);
}

/**
 * How the candidate gets its share: `replicas`, by ready pods with no router (Slipway's replica-ratio
 * router, an Argo canary without trafficRouting); `istio`, by the weights of an Istio VirtualService
 * (Slipway's istio router, Argo's trafficRouting.istio, Flagger's istio provider).
 */
export const ROUTINGS = ['replicas', 'istio'] as const;
export type Routing = (typeof ROUTINGS)[number];

/** Parses --routing: one routing, or `all` for every one in order. */
export function parseRouting(value: string): Routing[] {
  if (value === 'all') return [...ROUTINGS];
  const routing = ROUTINGS.find((r) => r === value);
  if (!routing) throw new Error(`--routing ${value}: one of ${[...ROUTINGS, 'all'].join(', ')}`);
  return [routing];
}

/**
 * Flagger's analysis runs on one timer, at most every 10 s (Canary.GetAnalysisInterval raises a
 * shorter interval to 10 s): a step lasts one interval, and the gate is checked once per interval.
 */
export const FLAGGER_INTERVAL_MS = 10_000;
