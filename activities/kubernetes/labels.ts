// Names and labels of the objects Slipway manages for a model (DESIGN §6).
export type Track = 'stable' | 'canary';

export const FIELD_MANAGER = 'slipway';
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_VERSION = 'app.kubernetes.io/version';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_TRACK = 'slipway.dev/track';
export const ANNOTATION_RELEASE = 'slipway.dev/release';
/** On the stable Deployment: the build-gate scores (JSON `{gate: value}`) of the release that made it stable. */
export const ANNOTATION_QUALITY_SCORES = 'slipway.dev/quality-scores';

export function deploymentName(model: string, track: Track): string {
  return track === 'stable' ? model : `${model}-canary`;
}

/** The stable track's Deployment: the one the spec adopts (`serving.deploymentRef`), else `<model>`. */
export function stableDeploymentName(spec: {
  model: string;
  serving: { deploymentRef?: string | undefined };
}): string {
  return spec.serving.deploymentRef ?? spec.model;
}

export function trackServiceName(model: string, track: Track): string {
  return `${model}-${track}`;
}

export function selectorLabels(model: string, track: Track): Record<string, string> {
  return { [LABEL_NAME]: model, [LABEL_TRACK]: track };
}

export function objectLabels(model: string, version: string, track: Track): Record<string, string> {
  return { ...selectorLabels(model, track), [LABEL_VERSION]: version, [LABEL_MANAGED_BY]: 'slipway' };
}
