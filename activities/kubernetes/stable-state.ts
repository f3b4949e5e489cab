// The stable track as a release finds it: recorded before anything changes (what a rollback puts
// back exactly), with its version and build-gate scores read where they stay truthful, and whether
// its pod template changed outside Slipway since Slipway last wrote it (drift). For an adopted
// Deployment (`serving.deploymentRef`) also its selector and whether the spec changes anything.
import type {
  V1Deployment,
  V1DeploymentStrategy,
  V1LabelSelector,
  V1ManagedFieldsEntry,
  V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../../workflows/failures.ts';
import type { ReleaseSpec } from '../../workflows/spec/index.ts';
import { changesNothing, templateHash, type AdoptedBase } from './adopted-manifests.ts';
import { hasAutoscaler } from './deployments.ts';
import { clusterCall } from './cluster-errors.ts';
import { ignoreNotFound, type KubernetesClients } from './clients.ts';
import {
  ANNOTATION_QUALITY_SCORES,
  ANNOTATION_RELEASE,
  ANNOTATION_VERSION,
  FIELD_MANAGER,
  LABEL_TEMPLATE_HASH,
  LABEL_VERSION,
  stableDeploymentName,
} from './labels.ts';

/** The stable's pod template changed outside Slipway since Slipway last wrote it. */
export interface StableDrift {
  /** Who changed it last (a field manager: `kubectl-rollout`, `helm`, `kubectl-edit`…) and when, if known. */
  changedBy?: string;
  at?: string;
  /** One sentence for a person. */
  message: string;
}

/** What the stable track looked like before the release touched it: enough to restore it exactly. */
export interface StableSnapshot {
  exists: boolean;
  version?: string;
  replicas?: number;
  /** The Deployment's labels, template, strategy and progress deadline as they were. */
  labels?: Record<string, string>;
  template?: V1PodTemplateSpec;
  /** Its selector (immutable: a Deployment deleted meanwhile is re-created with the same one). */
  selector?: V1LabelSelector;
  strategy?: V1DeploymentStrategy;
  progressDeadlineSeconds?: number;
  revisionHistoryLimit?: number;
  minReadySeconds?: number;
  /** The Deployment was paused (`kubectl rollout pause`); absent when it was not. */
  paused?: boolean;
  /** An HPA scales the stable Deployment: Slipway must not set replicas. */
  autoscaled: boolean;
  /** The build-gate scores recorded when the stable version was released (gate → value). */
  qualityScores?: Record<string, number>;
  /** The release that made the stable version (restored with it). */
  releaseAnnotation?: string;
  /** The Deployment's own `slipway.dev/*` annotations, exactly (restored as they were). */
  annotations?: Record<string, string>;
  /** Set when the template changed outside Slipway since Slipway last wrote it. */
  drift?: StableDrift;
  /** An adopted Deployment: its selector, and whether the spec changes nothing in its template. */
  adopted?: { name: string; selector: Record<string, string>; unchanged: boolean };
}

const QualityScores = z.record(z.string(), z.number());

/** The scores annotation, or undefined when absent or unreadable (an edited annotation must not break a release). */
export function parseQualityScores(annotation: string | undefined): Record<string, number> | undefined {
  if (!annotation) return undefined;
  try {
    const parsed = QualityScores.safeParse(JSON.parse(annotation));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function readStableDeployment(
  clients: KubernetesClients,
  spec: ReleaseSpec,
): Promise<V1Deployment | undefined> {
  const name = stableDeploymentName(spec);
  // Called before the build: a namespace the worker may not read fails here at once, saying so (403 is final).
  return clusterCall({ verb: 'get', resource: 'deployments', namespace: spec.namespace, name }, () =>
    ignoreNotFound(clients.apps.readNamespacedDeployment({ name, namespace: spec.namespace })),
  );
}

/** The adopted Deployment as a release builds on it; fails final when it is missing or unusable. */
export function adoptedBase(spec: ReleaseSpec, deployment: V1Deployment | undefined): AdoptedBase {
  const name = stableDeploymentName(spec);
  const where = `Deployment ${spec.namespace}/${name}`;
  if (!deployment)
    throw ApplicationFailure.nonRetryable(
      `serving.deploymentRef: ${where} does not exist (a release adopts a Deployment that runs; without deploymentRef Slipway creates ${spec.model})`,
      FailureType.NotFound,
    );
  const selector = deployment.spec?.selector;
  if (!selector?.matchLabels || (selector.matchExpressions?.length ?? 0) > 0)
    throw ApplicationFailure.nonRetryable(
      `serving.deploymentRef: ${where} selects its pods with matchExpressions; Slipway's stable Service needs a selector of labels only (matchLabels)`,
      FailureType.InvalidObject,
    );
  const template = deployment.spec?.template ?? {};
  const containers = template.spec?.containers ?? [];
  const wanted = spec.serving.container;
  if (wanted !== undefined && !containers.some((c) => c.name === wanted))
    throw ApplicationFailure.nonRetryable(
      `serving.container: ${where} has no container named ${wanted} (it has ${containers.map((c) => c.name).join(', ') || 'none'})`,
      FailureType.InvalidObject,
    );
  return { name, selector: selector.matchLabels, template, replicas: deployment.spec?.replicas };
}

/** Whether `entry` manages anything under `spec.template`. */
function touchesTemplate(entry: V1ManagedFieldsEntry): boolean {
  const fields = entry.fieldsV1 as { 'f:spec'?: Record<string, unknown> } | undefined;
  return fields?.['f:spec']?.['f:template'] !== undefined;
}

/** Who last changed the template besides Slipway, from managedFields (their times are to the second). */
function lastTemplateChange(deployment: V1Deployment): { changedBy?: string; at?: string } {
  const others = (deployment.metadata?.managedFields ?? [])
    .filter((entry) => entry.manager !== FIELD_MANAGER && touchesTemplate(entry))
    .map((entry) => ({
      manager: entry.manager,
      at: entry.time ? new Date(entry.time).toISOString() : undefined,
    }))
    .sort((a, b) => (a.at ?? '').localeCompare(b.at ?? ''));
  const last = others.at(-1);
  return {
    ...(last?.manager ? { changedBy: last.manager } : {}),
    ...(last?.at ? { at: last.at } : {}),
  };
}

/** The drift of a Deployment Slipway wrote, or undefined (a template without Slipway's fingerprint has none). */
export function stableDrift(deployment: V1Deployment): StableDrift | undefined {
  const recorded = deployment.metadata?.labels?.[LABEL_TEMPLATE_HASH];
  if (recorded === undefined || recorded === templateHash(deployment.spec?.template)) return undefined;
  const { changedBy, at } = lastTemplateChange(deployment);
  const who = changedBy ? ` (last by ${changedBy}${at ? ` at ${at}` : ''})` : '';
  return {
    ...(changedBy ? { changedBy } : {}),
    ...(at ? { at } : {}),
    message: `the pod template of Deployment ${deployment.metadata?.namespace ?? ''}/${deployment.metadata?.name ?? ''} was changed outside Slipway since Slipway last released it${who}`,
  };
}

/** The `slipway.dev/*` entries of a label or annotation map. */
export function slipwayAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(annotations ?? {}).filter(([key]) => key.startsWith('slipway.dev/')),
  );
}

/**
 * The version and scores as they stay truthful: Slipway's pod annotations (a `rollout undo` takes
 * them back with the template), then the pods' version label; the Deployment's own annotations
 * (older releases, and a Deployment adopted as it ran) only while its template has not drifted.
 */
function versionAndScores(deployment: V1Deployment, drifted: boolean) {
  const pod = deployment.spec?.template.metadata;
  const own = drifted ? {} : (deployment.metadata?.annotations ?? {});
  const version =
    pod?.annotations?.[ANNOTATION_VERSION] ??
    pod?.labels?.[LABEL_VERSION] ??
    own[ANNOTATION_VERSION] ??
    (drifted ? undefined : deployment.metadata?.labels?.[LABEL_VERSION]);
  const qualityScores = parseQualityScores(
    pod?.annotations?.[ANNOTATION_QUALITY_SCORES] ?? own[ANNOTATION_QUALITY_SCORES],
  );
  const releaseAnnotation = pod?.annotations?.[ANNOTATION_RELEASE] ?? own[ANNOTATION_RELEASE];
  return { version, qualityScores, releaseAnnotation };
}

export async function captureStableState(
  clients: KubernetesClients,
  spec: ReleaseSpec,
): Promise<StableSnapshot> {
  const name = stableDeploymentName(spec);
  const current = await readStableDeployment(clients, spec);
  const base = spec.serving.deploymentRef === undefined ? undefined : adoptedBase(spec, current);
  const autoscaled = await hasAutoscaler(clients, spec.namespace, name);
  if (!current) return { exists: false, autoscaled };
  const drift = stableDrift(current);
  const { version, qualityScores, releaseAnnotation } = versionAndScores(current, drift !== undefined);
  const deployment = current.spec;
  return {
    exists: true,
    labels: current.metadata?.labels ?? {},
    autoscaled,
    annotations: slipwayAnnotations(current.metadata?.annotations),
    ...(version === undefined ? {} : { version }),
    ...(deployment?.replicas === undefined ? {} : { replicas: deployment.replicas }),
    ...(deployment?.template ? { template: deployment.template } : {}),
    ...(deployment?.selector ? { selector: deployment.selector } : {}),
    ...(deployment?.strategy ? { strategy: deployment.strategy } : {}),
    ...(deployment?.progressDeadlineSeconds === undefined
      ? {}
      : { progressDeadlineSeconds: deployment.progressDeadlineSeconds }),
    ...(deployment?.revisionHistoryLimit === undefined
      ? {}
      : { revisionHistoryLimit: deployment.revisionHistoryLimit }),
    ...(deployment?.minReadySeconds === undefined ? {} : { minReadySeconds: deployment.minReadySeconds }),
    ...(deployment?.paused ? { paused: true } : {}),
    ...(qualityScores ? { qualityScores } : {}),
    ...(releaseAnnotation === undefined ? {} : { releaseAnnotation }),
    ...(drift ? { drift } : {}),
    ...(base
      ? { adopted: { name: base.name, selector: base.selector, unchanged: changesNothing(spec, base) } }
      : {}),
  };
}
