// The Deployments and Services of a release: deploy the candidate, roll the stable track (or adopt
// an existing Deployment as it runs), restore it, remove the candidate. Every function is
// idempotent. What the stable looked like before is recorded by stable-state.ts.
import { PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../workflows/failures.ts';
import type { ReleaseSpec } from '../../workflows/spec/index.ts';
import {
  adoptedContainerIndex,
  renderAdoptedPromotion,
  renderCandidateOf,
  templateHash,
  type AdoptedBase,
  type DeploymentFields,
} from './adopted-manifests.ts';
import { serverSideApply } from './apply.ts';
import {
  candidateScaling,
  ensureCandidateAutoscaler,
  handOverReplicas,
  removeCandidateAutoscaler,
} from './autoscalers.ts';
import { clusterCall } from './cluster-errors.ts';
import { ignoreNotFound, type KubernetesClients } from './clients.ts';
import {
  ANNOTATION_QUALITY_SCORES,
  ANNOTATION_RELEASE,
  ANNOTATION_VERSION,
  deploymentName,
  FIELD_MANAGER,
  LABEL_MANAGED_BY,
  LABEL_TEMPLATE_HASH,
  selectorLabels,
  slipwayPodAnnotations,
  stableDeploymentName,
} from './labels.ts';
import { renderDeployment, renderServices } from './manifests.ts';
import {
  adoptedBase,
  readStableDeployment,
  slipwayAnnotations,
  type StableSnapshot,
} from './stable-state.ts';

export type { StableSnapshot } from './stable-state.ts';
export { captureStableState, parseQualityScores } from './stable-state.ts';

export { hasAutoscaler } from './autoscalers.ts';

/** An adopted Deployment's serving port for the Services: its port named http, else its first. */
export function adoptedTargetPort(spec: ReleaseSpec, base: AdoptedBase): number | string {
  const container = base.template.spec?.containers?.[adoptedContainerIndex(spec, base.template)];
  const ports = container?.ports ?? [];
  return (ports.find((p) => p.name === 'http') ?? ports[0])?.containerPort ?? spec.serving.port;
}

/** The adopted Deployment as it runs now (a release with `serving.deploymentRef`), else undefined. */
export async function readAdoptedBase(
  clients: KubernetesClients,
  spec: ReleaseSpec,
): Promise<AdoptedBase | undefined> {
  if (spec.serving.deploymentRef === undefined) return undefined;
  return adoptedBase(spec, await readStableDeployment(clients, spec));
}

export async function ensureServices(
  clients: KubernetesClients,
  spec: ReleaseSpec,
  dryRun = false,
): Promise<void> {
  const base = await readAdoptedBase(clients, spec);
  const adopted = base ? { selector: base.selector, targetPort: adoptedTargetPort(spec, base) } : undefined;
  for (const service of renderServices(spec, adopted)) await serverSideApply(clients, service, { dryRun });
}

export interface DeployOptions {
  releaseId: string;
  /** Replicas to run; undefined = leave to an autoscaler (or to the adopted Deployment's manager). */
  replicas: number | undefined;
  dryRun?: boolean;
  /** Build-gate scores to record on the stable's pods. */
  qualityScores?: Record<string, number> | undefined;
}

/** The candidate Deployment `<model>-canary` (track canary), rendered from the spec or over the adopted one. */
export async function renderCandidate(
  clients: KubernetesClients,
  spec: ReleaseSpec,
  options: DeployOptions,
): Promise<V1Deployment> {
  return renderCandidateOf(spec, await readAdoptedBase(clients, spec), options);
}

/** The candidate version as Deployment `<model>-canary` (track canary). */
export async function deployCandidate(
  clients: KubernetesClients,
  spec: ReleaseSpec,
  options: DeployOptions,
): Promise<V1Deployment> {
  // Next to an autoscaled stable (gateway-api): the stable's live size, and an HPA of its own (autoscalers.ts).
  const scaling = await candidateScaling(clients, spec, options.replicas, options.dryRun);
  const rendered = await renderCandidate(clients, spec, { ...options, replicas: scaling.replicas });
  const applied = await serverSideApply(clients, rendered, { dryRun: options.dryRun ?? false });
  if (!scaling.autoscaler) return applied;
  return ensureCandidateAutoscaler(clients, spec, scaling.autoscaler, rendered, options);
}

/**
 * Writes the stable Deployment with Slipway's fingerprint of the template it leaves (drift is a
 * template that no longer matches): a dry-run gives the template as stored (defaults included),
 * then the apply with the fingerprint changes nothing else.
 */
async function applyStable(
  clients: KubernetesClients,
  object: V1Deployment | DeploymentFields,
): Promise<V1Deployment> {
  const preview = await serverSideApply<typeof object, V1Deployment>(clients, object, { dryRun: true });
  const fingerprint = templateHash(preview.spec?.template);
  const metadata = object.metadata ?? {};
  return serverSideApply<typeof object, V1Deployment>(clients, {
    ...object,
    metadata: {
      ...metadata,
      labels: { ...(metadata.labels ?? {}), [LABEL_TEMPLATE_HASH]: fingerprint },
    },
  });
}

/**
 * The candidate version as the stable Deployment: a rolling update (or the first deploy). An
 * adopted Deployment gets only the fields the spec sets (adopted-manifests.ts).
 */
export async function deployStable(
  clients: KubernetesClients,
  spec: ReleaseSpec,
  options: DeployOptions,
): Promise<V1Deployment> {
  // Replicas left to an autoscaler: an apply without them must not reset them to 1 (autoscalers.ts).
  if (options.replicas === undefined && !options.dryRun)
    await handOverReplicas(clients, spec.namespace, stableDeploymentName(spec));
  const base = await readAdoptedBase(clients, spec);
  const podAnnotations = slipwayPodAnnotations(spec.version, options.releaseId, options.qualityScores);
  const rendered = base
    ? renderAdoptedPromotion(spec, base, {
        releaseId: options.releaseId,
        replicas: options.replicas,
        podAnnotations,
        annotations: {},
      })
    : renderDeployment(spec, {
        track: 'stable',
        replicas: options.replicas,
        releaseId: options.releaseId,
        qualityScores: options.qualityScores,
      });
  if (options.dryRun)
    return serverSideApply<typeof rendered, V1Deployment>(clients, rendered, { dryRun: true });
  return applyStable(clients, rendered);
}

/**
 * A release whose spec changes nothing in the adopted Deployment's template: it is adopted as it
 * runs. Only the Deployment's own annotations are written (the version, the release, the template's
 * fingerprint), so no pod restarts; replicas too if the spec says them.
 */
export async function adoptStable(
  clients: KubernetesClients,
  spec: ReleaseSpec,
  options: { releaseId: string; replicas: number | undefined },
): Promise<void> {
  const base = await readAdoptedBase(clients, spec);
  if (!base) throw new Error('adoptStable is for a release with serving.deploymentRef');
  // Replicas an earlier release of Slipway's applied must not be reset by this apply (autoscalers.ts).
  if (options.replicas === undefined) await handOverReplicas(clients, spec.namespace, base.name);
  const fields: DeploymentFields = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: base.name,
      namespace: spec.namespace,
      annotations: {
        [ANNOTATION_VERSION]: spec.version,
        [ANNOTATION_RELEASE]: options.releaseId,
      },
      labels: { [LABEL_TEMPLATE_HASH]: templateHash(base.template) },
    },
    ...(options.replicas === undefined ? {} : { spec: { replicas: options.replicas } }),
  };
  await serverSideApply(clients, fields);
}

const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const pointer = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

/** JSON patch ops that make the `slipway.dev/*` keys of metadata.<field> exactly `before`'s. */
function mapOps(
  field: 'annotations' | 'labels',
  now: Record<string, string> | undefined,
  before: Record<string, string>,
): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  if (now === undefined && Object.keys(before).length > 0)
    ops.push({ op: 'add', path: `/metadata/${field}`, value: {} });
  for (const key of Object.keys(now ?? {}).filter((k) => k.startsWith('slipway.dev/') && !(k in before)))
    ops.push({ op: 'remove', path: `/metadata/${field}/${pointer(key)}` });
  for (const [key, value] of Object.entries(before))
    ops.push({
      op: now && key in now ? 'replace' : 'add',
      path: `/metadata/${field}/${pointer(key)}`,
      value,
    });
  return ops;
}

/**
 * An adopted Deployment put back as recorded by one JSON patch: its template whole, replicas when
 * the release set them, and Slipway's own annotations and labels. A patch, not an apply, so that every field
 * another manager owns stays theirs and nothing Slipway applied before is dropped.
 */
async function restoreAdopted(
  clients: KubernetesClients,
  spec: ReleaseSpec,
  snapshot: StableSnapshot,
  current: V1Deployment,
  options: RestoreOptions,
): Promise<void> {
  const name = stableDeploymentName(spec);
  const ops: JsonPatchOp[] = [{ op: 'replace', path: '/spec/template', value: snapshot.template }];
  if (options.pauseFirst) ops.push({ op: 'add', path: '/spec/paused', value: snapshot.paused ?? false });
  if (spec.serving.replicas !== undefined && !snapshot.autoscaled && snapshot.replicas !== undefined)
    ops.push({ op: 'add', path: '/spec/replicas', value: snapshot.replicas });
  // `add` sets a member whether or not it is there; absent means Kubernetes' default.
  const defaults = { revisionHistoryLimit: 10, minReadySeconds: 0 } as const;
  for (const field of ['revisionHistoryLimit', 'minReadySeconds'] as const) {
    if (spec.serving[field] !== undefined)
      ops.push({ op: 'add', path: `/spec/${field}`, value: snapshot[field] ?? defaults[field] });
  }
  ops.push(
    ...mapOps('annotations', current.metadata?.annotations, snapshot.annotations ?? {}),
    ...mapOps('labels', current.metadata?.labels, slipwayAnnotations(snapshot.labels)),
  );
  await clusterCall({ verb: 'patch', resource: 'deployments', namespace: spec.namespace, name }, () =>
    clients.apps.patchNamespacedDeployment(
      { name, namespace: spec.namespace, body: ops, fieldManager: FIELD_MANAGER },
      JSON_PATCH,
    ),
  );
}

/** How a restore goes, beyond putting the recorded Deployment back. */
export interface RestoreOptions {
  /**
   * Pause the rollout first (`kubectl rollout pause`), so that nothing rolls forward while the
   * restore is retried; the restore itself sets `paused` back as it was (strategy rolling).
   */
  pauseFirst?: boolean;
  /**
   * Restore with strategy Recreate, whatever was recorded: the version that runs stops before the
   * recorded one starts (strategy recreate: two versions do not fit). The recorded strategy is put
   * back by a second restore without this option once the rollout is done.
   */
  oneVersionAtATime?: boolean;
}

/** `spec.paused: true` on a Deployment (a rollout in progress stops where it is). */
async function pauseRollout(clients: KubernetesClients, namespace: string, name: string): Promise<void> {
  await clusterCall({ verb: 'patch', resource: 'deployments', namespace, name }, () =>
    clients.apps.patchNamespacedDeployment(
      {
        name,
        namespace,
        body: [{ op: 'add', path: '/spec/paused', value: true }],
        fieldManager: FIELD_MANAGER,
      },
      JSON_PATCH,
    ),
  );
}

/**
 * Puts the stable Deployment back exactly as recorded (labels, template, strategy, replicas,
 * Slipway's annotations); when there was none, deletes it.
 */
export async function restoreStable(
  clients: KubernetesClients,
  spec: ReleaseSpec,
  snapshot: StableSnapshot,
  options: RestoreOptions = {},
): Promise<void> {
  const name = stableDeploymentName(spec);
  if (!snapshot.exists || !snapshot.template) {
    // There was no stable Deployment before this release (a first release): restore that.
    await deleteDeployment(clients, spec.namespace, name);
    return;
  }
  const current = await readStableDeployment(clients, spec);
  if (options.pauseFirst && current) await pauseRollout(clients, spec.namespace, name);
  if (snapshot.adopted) {
    // The adopted Deployment was deleted meanwhile: nothing of it to patch back (said in the status).
    if (!current)
      throw ApplicationFailure.nonRetryable(
        `Deployment ${spec.namespace}/${name} no longer exists: it cannot be restored`,
        FailureType.NotFound,
      );
    await restoreAdopted(clients, spec, snapshot, current, options);
    return;
  }
  // Older snapshots did not record the annotations: theirs were the release and the scores.
  const annotations = snapshot.annotations ?? {
    ...(snapshot.releaseAnnotation === undefined ? {} : { [ANNOTATION_RELEASE]: snapshot.releaseAnnotation }),
    ...(snapshot.qualityScores
      ? { [ANNOTATION_QUALITY_SCORES]: JSON.stringify(snapshot.qualityScores) }
      : {}),
  };
  const restored: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: spec.namespace,
      labels: { ...(snapshot.labels ?? {}), [LABEL_MANAGED_BY]: 'slipway' },
      annotations,
    },
    spec: {
      ...(snapshot.autoscaled || snapshot.replicas === undefined ? {} : { replicas: snapshot.replicas }),
      // Deleted meanwhile: re-created with the recorded selector (older snapshots: Slipway's own).
      selector: current?.spec?.selector ??
        snapshot.selector ?? { matchLabels: selectorLabels(spec.model, 'stable') },
      template: snapshot.template,
      ...(options.oneVersionAtATime
        ? { strategy: { type: 'Recreate' } }
        : snapshot.strategy
          ? { strategy: snapshot.strategy }
          : {}),
      ...(options.pauseFirst ? { paused: snapshot.paused ?? false } : {}),
      ...(snapshot.progressDeadlineSeconds === undefined
        ? {}
        : { progressDeadlineSeconds: snapshot.progressDeadlineSeconds }),
      ...(snapshot.revisionHistoryLimit === undefined
        ? {}
        : { revisionHistoryLimit: snapshot.revisionHistoryLimit }),
      ...(snapshot.minReadySeconds === undefined ? {} : { minReadySeconds: snapshot.minReadySeconds }),
    },
  };
  // An autoscaler's replicas: not in the apply, so they must not be Slipway's to drop (autoscalers.ts).
  if (snapshot.autoscaled) await handOverReplicas(clients, spec.namespace, name);
  await serverSideApply(clients, restored);
}

/** Deletes the candidate Deployment and the HPA Slipway gave it (absent is fine). */
export async function removeCandidate(clients: KubernetesClients, spec: ReleaseSpec): Promise<void> {
  await removeCandidateAutoscaler(clients, spec);
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
