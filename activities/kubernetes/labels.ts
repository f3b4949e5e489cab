// Names and labels of the objects Slipway manages for a model (DESIGN §6).
export type Track = 'stable' | 'canary';

export const FIELD_MANAGER = 'slipway';
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_VERSION = 'app.kubernetes.io/version';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_TRACK = 'slipway.dev/track';
export const ANNOTATION_RELEASE = 'slipway.dev/release';
/** On the stable's pods: the build-gate scores (JSON `{gate: value}`) of the release that made it stable. */
export const ANNOTATION_QUALITY_SCORES = 'slipway.dev/quality-scores';
/** On a track's pods: the version they serve (a Deployment adopted as it ran: on the Deployment). */
export const ANNOTATION_VERSION = 'slipway.dev/version';
/**
 * A label of the stable Deployment: the fingerprint of the pod template Slipway left it with. A
 * template that no longer matches was changed outside Slipway (drift). A label, not an annotation:
 * `kubectl rollout undo` copies the old ReplicaSet's annotations onto the Deployment (a fingerprint
 * there would come back with the old template and hide the undo); it leaves labels alone.
 */
export const LABEL_TEMPLATE_HASH = 'slipway.dev/template-hash';

/**
 * Slipway's pod-template annotations. They live in the template, not on the Deployment, so that a
 * `kubectl rollout undo` takes them back with the template and they never describe another version.
 */
export function slipwayPodAnnotations(
  version: string,
  releaseId: string,
  qualityScores?: Record<string, number>,
): Record<string, string> {
  return {
    [ANNOTATION_VERSION]: version,
    [ANNOTATION_RELEASE]: releaseId,
    ...(qualityScores && Object.keys(qualityScores).length > 0
      ? { [ANNOTATION_QUALITY_SCORES]: JSON.stringify(qualityScores) }
      : {}),
  };
}

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

/** The labels of a track's Deployment itself (the version is its pods', see slipwayPodAnnotations). */
export function deploymentLabels(model: string, track: Track): Record<string, string> {
  return { ...selectorLabels(model, track), [LABEL_MANAGED_BY]: 'slipway' };
}

export function objectLabels(model: string, version: string, track: Track): Record<string, string> {
  return { ...selectorLabels(model, track), [LABEL_VERSION]: version, [LABEL_MANAGED_BY]: 'slipway' };
}
