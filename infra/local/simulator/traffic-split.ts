// Where a model's requests go: the route's backend weights (an HTTPRoute's backendRefs or a
// VirtualService's destinations; share = weight / sum of weights), or — with no route, or a route
// whose weights are all 0 — the ready replicas of the two Deployments (what the replica-ratio router
// relies on). Stable's requests are mirrored to the canary by the route's mirror (an HTTPRoute's
// RequestMirror filter, a VirtualService's mirror).
import { serviceName, type ModelObjects, type RouteRuleView, type Track } from './objects.ts';

export interface Split {
  source: 'route' | 'replicas';
  /** Shares of the primary stream, summing to 1. */
  shares: Record<Track, number>;
  /** Fraction of stable's requests also sent to the canary, 0..1. */
  mirror: number;
  /** Shares of the cohort's requests (a rule matching by header), when the route has one. */
  cohort?: Record<Track, number>;
  /** Route contents the simulator could not honour. */
  warnings: string[];
}

function readyShares(model: ModelObjects): Record<Track, number> {
  const stable = model.deployments.stable?.readyReplicas ?? 0;
  const canary = model.deployments.canary?.readyReplicas ?? 0;
  if (stable + canary === 0) {
    // Nothing is ready: requests still arrive (and fail) where a gateway would send them.
    return model.deployments.stable || !model.deployments.canary
      ? { stable: 1, canary: 0 }
      : { stable: 0, canary: 1 };
  }
  return { stable: stable / (stable + canary), canary: canary / (stable + canary) };
}

/** The rule that routes this model: the first one naming one of its Services (with header matches or without). */
function modelRule(model: ModelObjects, headerMatches: boolean): RouteRuleView | undefined {
  const names = new Set([
    model.model,
    serviceName(model.model, 'stable'),
    serviceName(model.model, 'canary'),
  ]);
  return model.route?.rules.find(
    (rule) => rule.headerMatches === headerMatches && rule.backends.some((b) => names.has(b.name)),
  );
}

/** A rule's shares of this model's tracks, or undefined when its weights add up to nothing. */
function ruleShares(
  model: ModelObjects,
  rule: RouteRuleView,
  warnings: string[],
): Record<Track, number> | undefined {
  const weights: Record<Track, number> = { stable: 0, canary: 0 };
  const byReplicas = readyShares(model);
  for (const backend of rule.backends) {
    if (backend.name === serviceName(model.model, 'stable')) weights.stable += backend.weight;
    else if (backend.name === serviceName(model.model, 'canary')) weights.canary += backend.weight;
    else if (backend.name === model.model) {
      // The all-tracks Service: its share is spread over the ready pods of both tracks.
      weights.stable += backend.weight * byReplicas.stable;
      weights.canary += backend.weight * byReplicas.canary;
    } else if (backend.weight > 0) {
      warnings.push(`backend ${backend.name} is not one of this model's Services; its weight is ignored`);
    }
  }
  const total = weights.stable + weights.canary;
  return total <= 0 ? undefined : { stable: weights.stable / total, canary: weights.canary / total };
}

export function computeSplit(model: ModelObjects): Split {
  const warnings: string[] = [];
  const rule = modelRule(model, false);
  const cohortRule = modelRule(model, true);
  const cohort = cohortRule ? ruleShares(model, cohortRule, warnings) : undefined;
  let mirror = 0;
  if (rule?.mirror) {
    if (rule.mirror.backend === serviceName(model.model, 'canary')) mirror = rule.mirror.fraction;
    else
      warnings.push(
        `mirror to ${rule.mirror.backend} ignored: only ${serviceName(model.model, 'canary')} is simulated`,
      );
  }
  const withCohort = cohort ? { cohort } : {};
  if (!rule) return { source: 'replicas', shares: readyShares(model), mirror, warnings, ...withCohort };
  const shares = ruleShares(model, rule, warnings);
  if (!shares) return { source: 'replicas', shares: readyShares(model), mirror, warnings, ...withCohort };
  return { source: 'route', shares, mirror, warnings, ...withCohort };
}

/** A stable identity of a split, to notice changes. */
export function splitKey(split: Split): string {
  const cohort = split.cohort ? `:cohort ${split.cohort.canary.toFixed(6)}` : '';
  return `${split.source}:${split.shares.stable.toFixed(6)}:${split.mirror.toFixed(6)}${cohort}`;
}
