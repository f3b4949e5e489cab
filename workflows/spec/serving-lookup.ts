// What workflow and activity code reads off a parsed spec's serving section: which container
// serves, how many replicas the stable runs and which a Slipway apply sets. No schema here, so
// workflow code can import it without building the spec's zod schemas (workflows/spec/reading.ts).
import type { PodTemplate } from './pod-template.ts';

/** Where the serving container is in `template.spec.containers` (-1: the template has none). */
export function servingContainerIndex(serving: {
  template?: PodTemplate | undefined;
  container?: string | undefined;
}): number {
  const containers = serving.template?.spec?.containers ?? [];
  if (serving.container === undefined) return containers.length > 0 ? 0 : -1;
  return containers.findIndex((container) => container.name === serving.container);
}

/** The stable's size: the spec's replicas, else (an adopted Deployment keeps its own) the live ones, else 1. */
export function servingReplicas(spec: { serving: { replicas?: number | undefined } }, live?: number): number {
  return spec.serving.replicas ?? live ?? 1;
}

/**
 * The replicas a Slipway apply sets on the stable: the spec's, 1 when it says none, and none for an
 * adopted Deployment whose spec says none (its manager's stay).
 */
export function replicasToApply(spec: {
  serving: { replicas?: number | undefined; deploymentRef?: string | undefined };
}): number | undefined {
  return spec.serving.deploymentRef === undefined ? servingReplicas(spec) : spec.serving.replicas;
}
