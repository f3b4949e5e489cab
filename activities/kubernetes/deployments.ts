// The Deployments and Services of a release: record the stable state, deploy the candidate, roll
// the stable track, restore it, remove the candidate. Every function is idempotent.
import type { V1Deployment, V1DeploymentStrategy, V1PodTemplateSpec } from '@kubernetes/client-node';
import { z } from 'zod';
import type { ReleaseSpec } from '../../workflows/spec/index.ts';
import { serverSideApply } from './apply.ts';
import { asClusterFailure, clusterCall } from './cluster-errors.ts';
import { apiStatus, ignoreNotFound, type KubernetesClients } from './clients.ts';
import {
  ANNOTATION_QUALITY_SCORES,
  ANNOTATION_RELEASE,
  deploymentName,
  LABEL_MANAGED_BY,
  LABEL_VERSION,
} from './labels.ts';
import { renderDeployment, renderServices } from './manifests.ts';

/** What the stable track looked like before the release touched it: enough to restore it exactly. */
export interface StableSnapshot {
  exists: boolean;
  version?: string;
  replicas?: number;
  /** The Deployment's labels, template, strategy and progress deadline as they were. */
  labels?: Record<string, string>;
  template?: V1PodTemplateSpec;
  strategy?: V1DeploymentStrategy;
  progressDeadlineSeconds?: number;
  /** An HPA scales the stable Deployment: Slipway must not set replicas. */
  autoscaled: boolean;
  /** The build-gate scores recorded when the stable version was released (gate → value). */
  qualityScores?: Record<string, number>;
  /** The stable Deployment's `slipway.dev/release` annotation: the release that made it (restored with it). */
  releaseAnnotation?: string;
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

async function hasAutoscaler(clients: KubernetesClients, namespace: string, name: string): Promise<boolean> {
  try {
    const list = await clients.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace });
    return list.items.some(
      (hpa) => hpa.spec?.scaleTargetRef.kind === 'Deployment' && hpa.spec.scaleTargetRef.name === name,
    );
  } catch (error) {
    if (apiStatus(error) === 403 || apiStatus(error) === 404) return false;
    throw asClusterFailure(error, { verb: 'list', resource: 'horizontalpodautoscalers', namespace });
  }
}

export async function captureStableState(
  clients: KubernetesClients,
  spec: ReleaseSpec,
): Promise<StableSnapshot> {
  const name = deploymentName(spec.model, 'stable');
  // Called before the build: a namespace the worker may not read fails here at once, saying so (403 is final).
  const current = await clusterCall(
    { verb: 'get', resource: 'deployments', namespace: spec.namespace, name },
    () => ignoreNotFound(clients.apps.readNamespacedDeployment({ name, namespace: spec.namespace })),
  );
  const autoscaled = await hasAutoscaler(clients, spec.namespace, name);
  if (!current) return { exists: false, autoscaled };
  const snapshot: StableSnapshot = {
    exists: true,
    labels: current.metadata?.labels ?? {},
    autoscaled,
  };
  const version = current.metadata?.labels?.[LABEL_VERSION];
  if (version !== undefined) snapshot.version = version;
  if (current.spec?.replicas !== undefined) snapshot.replicas = current.spec.replicas;
  if (current.spec?.template) snapshot.template = current.spec.template;
  if (current.spec?.strategy) snapshot.strategy = current.spec.strategy;
  if (current.spec?.progressDeadlineSeconds !== undefined)
    snapshot.progressDeadlineSeconds = current.spec.progressDeadlineSeconds;
  const qualityScores = parseQualityScores(current.metadata?.annotations?.[ANNOTATION_QUALITY_SCORES]);
  if (qualityScores) snapshot.qualityScores = qualityScores;
  const releaseAnnotation = current.metadata?.annotations?.[ANNOTATION_RELEASE];
  if (releaseAnnotation !== undefined) snapshot.releaseAnnotation = releaseAnnotation;
  return snapshot;
}

export async function ensureServices(
  clients: KubernetesClients,
  spec: ReleaseSpec,
  dryRun = false,
): Promise<void> {
  for (const service of renderServices(spec)) await serverSideApply(clients, service, { dryRun });
}

export interface DeployOptions {
  releaseId: string;
  /** Replicas to run; undefined = leave to an autoscaler. */
  replicas: number | undefined;
  dryRun?: boolean;
  /** Build-gate scores to record on the stable Deployment. */
  qualityScores?: Record<string, number> | undefined;
}

/** The candidate version as Deployment `<model>-canary` (track canary). */
export async function deployCandidate(
  clients: KubernetesClients,
  spec: ReleaseSpec,
  options: DeployOptions,
): Promise<V1Deployment> {
  return serverSideApply(
    clients,
    renderDeployment(spec, { track: 'canary', replicas: options.replicas, releaseId: options.releaseId }),
    {
      dryRun: options.dryRun ?? false,
    },
  );
}

/** The candidate version as the stable Deployment `<model>`: a rolling update (or the first deploy). */
export async function deployStable(
  clients: KubernetesClients,
  spec: ReleaseSpec,
  options: DeployOptions,
): Promise<V1Deployment> {
  const rendered = renderDeployment(spec, {
    track: 'stable',
    replicas: options.replicas,
    releaseId: options.releaseId,
    qualityScores: options.qualityScores,
  });
  return serverSideApply(clients, rendered, {
    dryRun: options.dryRun ?? false,
  });
}

/**
 * Puts the stable Deployment back exactly as recorded (labels, template, strategy, replicas); when
 * there was none, deletes it.
 */
export async function restoreStable(
  clients: KubernetesClients,
  spec: ReleaseSpec,
  snapshot: StableSnapshot,
): Promise<void> {
  const name = deploymentName(spec.model, 'stable');
  if (!snapshot.exists || !snapshot.template) {
    // There was no stable Deployment before this release (a first release): restore that.
    await deleteDeployment(clients, spec.namespace, name);
    return;
  }
  const current = await clusterCall(
    { verb: 'get', resource: 'deployments', namespace: spec.namespace, name },
    () => ignoreNotFound(clients.apps.readNamespacedDeployment({ name, namespace: spec.namespace })),
  );
  const restored: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: spec.namespace,
      labels: { ...(snapshot.labels ?? {}), [LABEL_MANAGED_BY]: 'slipway' },
      annotations: {
        // The release that made this version stable, not the one being rolled back.
        ...(snapshot.releaseAnnotation === undefined
          ? {}
          : { [ANNOTATION_RELEASE]: snapshot.releaseAnnotation }),
        ...(snapshot.qualityScores
          ? { [ANNOTATION_QUALITY_SCORES]: JSON.stringify(snapshot.qualityScores) }
          : {}),
      },
    },
    spec: {
      ...(snapshot.autoscaled || snapshot.replicas === undefined ? {} : { replicas: snapshot.replicas }),
      selector: current?.spec?.selector ?? { matchLabels: snapshot.template.metadata?.labels ?? {} },
      template: snapshot.template,
      ...(snapshot.strategy ? { strategy: snapshot.strategy } : {}),
      ...(snapshot.progressDeadlineSeconds === undefined
        ? {}
        : { progressDeadlineSeconds: snapshot.progressDeadlineSeconds }),
    },
  };
  await serverSideApply(clients, restored);
}

/** Deletes the candidate Deployment (absent is fine). */
export async function removeCandidate(clients: KubernetesClients, spec: ReleaseSpec): Promise<void> {
  await deleteDeployment(clients, spec.namespace, deploymentName(spec.model, 'canary'));
}

/** Deletes a Deployment and, in the background, its pods; absent is fine. */
async function deleteDeployment(clients: KubernetesClients, namespace: string, name: string): Promise<void> {
  await clusterCall({ verb: 'delete', resource: 'deployments', namespace, name }, () =>
    ignoreNotFound(
      clients.apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy: 'Background' }),
    ),
  );
}
