// Small pure questions the workflow (and API/CLI) asks of a parsed release spec. Sandbox-safe.
import type { GateProvider, GateSpec } from './gates.ts';
import type { ReleaseSpec } from './release-spec.ts';
import type { CanaryStep, PauseStep, WeightStep } from './stages.ts';
import type { HeaderMatches } from './strategy.ts';

/** The stages that evaluate gates listed in the spec. */
type GatedStage = 'build' | 'shadow' | 'canary';
/** The stages a release walks through, in order (rollback aside). */
type PlannedStage = 'build' | 'shadow' | 'canary' | 'promote';

function isWeightStep(step: CanaryStep): step is WeightStep {
  return 'weight' in step;
}

function isPauseStep(step: CanaryStep): step is PauseStep {
  return 'pause' in step;
}

export function gateProvider(gate: GateSpec): GateProvider {
  if ('prometheus' in gate) return 'prometheus';
  if ('http' in gate) return 'http';
  if ('job' in gate) return 'job';
  return 'judge';
}

export function gateByName(spec: ReleaseSpec, name: string): GateSpec | undefined {
  return spec.gates.find((gate) => gate.name === name);
}

/**
 * The gates a stage evaluates, in the order listed. Throws on an undefined name (the schema rejects
 * such specs, so this only fires on a spec that skipped parsing).
 */
export function gatesFor(spec: ReleaseSpec, stage: GatedStage): GateSpec[] {
  return (spec[stage]?.gates ?? []).map((name) => {
    const gate = gateByName(spec, name);
    if (!gate) throw new Error(`gate ${name} (listed in ${stage}) is not defined`);
    return gate;
  });
}

/** build, then shadow and canary when present, then promote. */
export function plannedStages(spec: ReleaseSpec): PlannedStage[] {
  return [
    'build',
    ...(spec.shadow ? (['shadow'] as const) : []),
    ...(spec.canary ? (['canary'] as const) : []),
    'promote',
  ];
}

/** The canary weight in force before step `index` runs (0 before the first weight step). */
export function weightBefore(steps: readonly CanaryStep[], index: number): number {
  let weight = 0;
  for (const step of steps.slice(0, Math.max(0, index))) if (isWeightStep(step)) weight = step.weight;
  return weight;
}

/** True when step `index` is a weight step and no weight step comes before it (traffic goes live). */
export function isFirstWeightStep(steps: readonly CanaryStep[], index: number): boolean {
  const step = steps[index];
  return step !== undefined && isWeightStep(step) && steps.slice(0, index).every((s) => !isWeightStep(s));
}

/** The canary weights in order (e.g. [5, 25, 50]). */
export function canaryWeights(spec: ReleaseSpec): number[] {
  return (spec.canary?.steps ?? []).filter(isWeightStep).map((step) => step.weight);
}

/** The last canary weight (0 without a canary or without weight steps). */
export function finalCanaryWeight(spec: ReleaseSpec): number {
  return canaryWeights(spec).at(-1) ?? 0;
}

/** Milliseconds of timed waiting the canary plans (holds and timed pauses; approvals excluded). */
export function canaryHoldMs(spec: ReleaseSpec): number {
  let total = 0;
  for (const step of spec.canary?.steps ?? []) {
    if (isWeightStep(step) && step.hold) total += step.hold.ms;
    else if (isPauseStep(step) && step.pause.duration) total += step.pause.duration.ms;
  }
  return total;
}

/** The route object's name: HTTPRoute (gateway-api), VirtualService (istio); none for replica-ratio. */
export function routeName(spec: ReleaseSpec): string | undefined {
  switch (spec.traffic.router) {
    case 'gateway-api':
      return spec.traffic.route;
    case 'istio':
      return spec.traffic.virtualService;
    case 'replica-ratio':
      return undefined;
  }
}

/** The kind of route object the spec's router applies, as messages name it; none for replica-ratio. */
export function routeKind(spec: ReleaseSpec): 'HTTPRoute' | 'VirtualService' | undefined {
  switch (spec.traffic.router) {
    case 'gateway-api':
      return 'HTTPRoute';
    case 'istio':
      return 'VirtualService';
    case 'replica-ratio':
      return undefined;
  }
}

/**
 * The request headers a route sends to the candidate whatever the weights: the canary's A/B cohort,
 * or blue-green's preview. Undefined when the spec has neither.
 */
export function candidateHeaders(spec: ReleaseSpec): HeaderMatches | undefined {
  if (spec.strategy.type === 'blueGreen') return spec.strategy.preview.headers;
  return spec.canary?.cohort?.headers;
}

/**
 * The gates a model's first release measures once its version serves (there is nothing to compare
 * with or switch from): the canary's, or the strategy's own.
 */
export function firstReleaseGates(spec: ReleaseSpec): string[] {
  switch (spec.strategy.type) {
    case 'canary':
      return spec.canary?.gates ?? [];
    case 'rolling':
    case 'recreate':
      return spec.strategy.gates ?? [];
    case 'blueGreen':
      return [
        ...new Set([...(spec.strategy.preview.gates ?? []), ...(spec.strategy.afterSwitch?.gates ?? [])]),
      ];
  }
}
