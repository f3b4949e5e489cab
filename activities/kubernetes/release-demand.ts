// How many pods a release runs at its peak, beyond what already runs. Pure. The candidate's size
// follows workflows/stages/candidate.ts and the routers (gateway-api: full size from its deployment;
// replica-ratio: each step's share, activities/traffic/replica-ratio.ts); the promotion rolls the
// stable Deployment with the spec's rollingUpdate (maxSurge new pods beside the old ones, rounded
// up as Kubernetes does), and `handoff` (and blue-green's switch) keeps the candidate at full size
// meanwhile. Without a candidate, strategy rolling adds only its surge, and recreate nothing beyond
// what runs: its new pods take the place the old ones free (on the same nodes if the template asks
// for the same resources and placement; a recreate that changes them is not modelled).
import { routerOf, servingReplicas, type ReleaseSpec } from '../../workflows/spec/index.ts';
import { candidateReplicasFor } from '../traffic/replica-ratio.ts';

export interface DemandPart {
  /** In words: `candidate`, `promotion surge`… */
  what: string;
  pods: number;
}

export type CapacityPhase = 'release' | 'promotion';

/** maxSurge as pods: an int, or a percentage of `replicas` rounded up (the Deployment controller's rule). */
export function surgePods(maxSurge: number | string, replicas: number): number {
  if (typeof maxSurge === 'number') return maxSurge;
  const percent = Number(maxSurge.replace(/%$/, ''));
  return Math.ceil((percent * replicas) / 100);
}

/** The candidate's largest size before the promotion. */
export function candidatePeak(spec: ReleaseSpec, replicas = servingReplicas(spec)): number {
  if (routerOf(spec).candidateFullSize) return replicas;
  let peak = 0;
  for (const step of spec.canary?.steps ?? []) {
    if ('weight' in step) peak = Math.max(peak, candidateReplicasFor(step.weight, replicas));
  }
  return peak;
}

/**
 * The pods a release adds at its peak: `phase: 'release'` counts the whole release (for the build's
 * preflight: candidate + promotion), `'promotion'` only what the promotion adds to what runs (the
 * surge; for handoff, the candidate grown to full size). `stableRuns: false` (no stable pods yet):
 * the promotion creates the stable at full size and no candidate runs (a first release).
 */
export function releaseDemand(
  spec: ReleaseSpec,
  phase: CapacityPhase,
  stableRuns = true,
  replicas = servingReplicas(spec),
): DemandPart[] {
  if (!stableRuns) return [{ what: 'stable (first release)', pods: replicas }];
  const surge = surgePods(spec.serving.rollingUpdate.maxSurge, replicas);
  // No candidate: a rolling update adds its surge; a recreate's new pods take the old ones' place.
  if (spec.strategy.type === 'rolling')
    return [{ what: 'rolling update surge', pods: surge }].filter((p) => p.pods > 0);
  if (spec.strategy.type === 'recreate') return [];
  const before = candidatePeak(spec, replicas);
  // Blue-green's switch is a handoff: the candidate at full size serves while the stable rolls.
  const handoff = spec.promote?.mode === 'handoff' || spec.strategy.type === 'blueGreen';
  const during = handoff ? Math.max(before, replicas) : before;
  const parts: DemandPart[] =
    phase === 'release'
      ? [{ what: handoff ? 'candidate (full size for the handoff)' : 'candidate', pods: during }]
      : [{ what: 'candidate grown to full size for the handoff', pods: during - before }];
  parts.push({ what: 'promotion surge', pods: surge });
  return parts.filter((p) => p.pods > 0);
}
