// The scenario both tools run, with the same figures: stable v1 with REPLICAS pods, a good candidate
// through the same weights and holds, then a bad one (answering 50% errors) failing the same
// error-rate query at the same interval.
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
