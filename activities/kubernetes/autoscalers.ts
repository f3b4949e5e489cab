// The autoscalers of a model's Deployments. When a HorizontalPodAutoscaler scales the stable — its
// own, or the `keda-hpa-<name>` one a KEDA ScaledObject owns — Slipway never sets the stable's
// replicas, gives the candidate a matching HPA for the release, deletes that HPA with the
// candidate, and hands `spec.replicas` over before it stops setting them.
//
// The hand-over (Kubernetes docs, Server-Side Apply → Transferring ownership): when field manager
// `slipway` owns `spec.replicas` and its next apply leaves the field out, the apiserver removes it
// and the Deployment falls back to 1 replica; the HPA then scales it up again — a fight, and too few
// pods meanwhile. Applying only `spec.replicas`, at the live value, under a second field manager
// first makes that manager a co-owner, so the field stays when `slipway` lets go of it; the
// autoscaler's next scale takes it from there.
//
// Only routers that run the candidate at full size behind weights (`gateway-api`, `istio`: the
// table's `candidateFullSize`) give it an HPA, so the candidate scales like the stable. The
// `replica-ratio` router sets the candidate's share of traffic by scaling it at each step itself;
// an HPA would undo that.
import {
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
  type V1ManagedFieldsEntry,
  type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { routerOf, type ReleaseSpec } from '../../workflows/spec/index.ts';
import { applyTarget, serverSideApply } from './apply.ts';
import { asClusterFailure, clusterCall, type ClusterTarget } from './cluster-errors.ts';
import { apiStatus, ignoreNotFound, type KubernetesClients } from './clients.ts';
import {
  ANNOTATION_RELEASE,
  deploymentName,
  FIELD_MANAGER,
  LABEL_MANAGED_BY,
  objectLabels,
  stableDeploymentName,
} from './labels.ts';

/** The field manager that holds `spec.replicas` between Slipway letting go and the autoscaler's next scale. */
export const HANDOVER_FIELD_MANAGER = 'slipway-replicas-handover';
/** On the candidate's HPA: the stable HPA it copies (and, for KEDA, the ScaledObject that owns that). */
export const ANNOTATION_AUTOSCALER_OF = 'slipway.dev/copied-from';

const HPAS = 'horizontalpodautoscalers';
const APPLY = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const HANDOVER_ATTEMPTS = 5;

/** The HPA that scales a Deployment, and who made it. */
export interface Autoscaler {
  hpa: V2HorizontalPodAutoscaler;
  /** `ScaledObject <name>` when KEDA made the HPA (its `keda-hpa-<name>`); undefined for a plain HPA. */
  ownedBy?: string;
}

function targets(hpa: V2HorizontalPodAutoscaler, deployment: string): boolean {
  const ref = hpa.spec?.scaleTargetRef;
  return ref?.kind === 'Deployment' && ref.name === deployment;
}

/**
 * The HPA that scales Deployment `deployment` (the first by name if several do), or undefined. A
 * worker that may not read HPAs (403), or a cluster without autoscaling/v2 (404), sees none.
 */
export async function readAutoscaler(
  clients: KubernetesClients,
  namespace: string,
  deployment: string,
): Promise<Autoscaler | undefined> {
  // A worker that may not read HPAs (403), or a cluster without autoscaling/v2 (404): none.
  const list = await clusterCall({ verb: 'list', resource: HPAS, namespace }, () =>
    clients.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace }).catch((error: unknown) => {
      if (apiStatus(error) === 403 || apiStatus(error) === 404) return undefined;
      throw error;
    }),
  );
  if (!list) return undefined;
  const items: V2HorizontalPodAutoscaler[] = list.items;
  const [hpa] = items
    .filter((item) => targets(item, deployment))
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  if (!hpa) return undefined;
  const owner = hpa.metadata?.ownerReferences?.find((ref) => ref.kind === 'ScaledObject');
  return owner ? { hpa, ownedBy: `ScaledObject ${owner.name}` } : { hpa };
}

/** Whether an HPA (or a KEDA ScaledObject's) scales Deployment `name`: then Slipway sets no replicas on it. */
export async function hasAutoscaler(
  clients: KubernetesClients,
  namespace: string,
  name: string,
): Promise<boolean> {
  return (await readAutoscaler(clients, namespace, name)) !== undefined;
}

function readDeployment(
  clients: KubernetesClients,
  namespace: string,
  name: string,
): Promise<V1Deployment | undefined> {
  return clusterCall({ verb: 'get', resource: 'deployments', namespace, name }, () =>
    ignoreNotFound(clients.apps.readNamespacedDeployment({ name, namespace })),
  );
}

function ownsReplicas(entry: V1ManagedFieldsEntry): boolean {
  const fields: unknown = entry.fieldsV1;
  if (!fields || typeof fields !== 'object' || !('f:spec' in fields)) return false;
  const spec: unknown = fields['f:spec'];
  return typeof spec === 'object' && spec !== null && 'f:replicas' in spec;
}

/** Whether Slipway's applies own `spec.replicas`: its next apply without them would reset them to 1. */
export function slipwayOwnsReplicas(deployment: V1Deployment): boolean {
  return (deployment.metadata?.managedFields ?? []).some(
    (entry) =>
      entry.manager === FIELD_MANAGER &&
      entry.operation === 'Apply' &&
      !entry.subresource &&
      ownsReplicas(entry),
  );
}

/** Applies only `spec.replicas`, at the value read, as the hand-over manager; a 409 if it changed meanwhile. */
async function applyReplicasAsHandover(clients: KubernetesClients, live: V1Deployment): Promise<void> {
  const { name = '', namespace = '', resourceVersion } = live.metadata ?? {};
  const body = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    // The resourceVersion makes the apply conditional: a scale since the read is a conflict, not overwritten.
    metadata: { name, namespace, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: { replicas: live.spec?.replicas },
  };
  await clients.apps.patchNamespacedDeployment(
    { name, namespace, body, fieldManager: HANDOVER_FIELD_MANAGER, force: false, fieldValidation: 'Strict' },
    APPLY,
  );
}

/**
 * Makes sure the next Slipway apply without `spec.replicas` keeps them: if `slipway` owns them, the
 * hand-over manager takes a share of them at their live value first. A conflict (the autoscaler
 * scaled meanwhile) is read again. Nothing to do for a Deployment that does not exist, or whose
 * replicas Slipway does not own (the autoscaler, or a person, set them since).
 */
export async function handOverReplicas(
  clients: KubernetesClients,
  namespace: string,
  deployment: string,
): Promise<void> {
  const target: ClusterTarget = {
    verb: 'hand over the replicas of',
    resource: 'deployments',
    namespace,
    name: deployment,
  };
  for (let attempt = 1; ; attempt++) {
    const live = await readDeployment(clients, namespace, deployment);
    if (!live || live.spec?.replicas === undefined || !slipwayOwnsReplicas(live)) return;
    try {
      await applyReplicasAsHandover(clients, live);
      return;
    } catch (error) {
      if (apiStatus(error) !== 409 || attempt >= HANDOVER_ATTEMPTS) throw asClusterFailure(error, target);
    }
  }
}

/** `replicas` within the HPA's bounds (minReplicas defaults to 1, as in Kubernetes). */
export function withinBounds(replicas: number, hpa: V2HorizontalPodAutoscaler): number {
  const min = hpa.spec?.minReplicas ?? 1;
  const max = hpa.spec?.maxReplicas ?? Math.max(min, replicas);
  return Math.min(max, Math.max(min, replicas));
}

function candidateName(spec: ReleaseSpec): string {
  return deploymentName(spec.model, 'canary');
}

function describeAutoscaler(stable: Autoscaler): string {
  const name = stable.hpa.metadata?.name ?? '?';
  return stable.ownedBy ? `${name} (owned by ${stable.ownedBy})` : name;
}

/**
 * HPA `<model>-canary` for the candidate Deployment `<model>-canary`: the stable's bounds, metrics
 * and behavior, labelled like Slipway's other objects.
 */
export function renderCandidateAutoscaler(
  spec: ReleaseSpec,
  stable: Autoscaler,
  releaseId: string,
): V2HorizontalPodAutoscaler {
  const name = candidateName(spec);
  const from = stable.hpa.spec;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name,
      namespace: spec.namespace,
      labels: objectLabels(spec.model, spec.version, 'canary'),
      annotations: {
        [ANNOTATION_RELEASE]: releaseId,
        [ANNOTATION_AUTOSCALER_OF]: describeAutoscaler(stable),
      },
    },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      ...(from?.minReplicas === undefined ? {} : { minReplicas: from.minReplicas }),
      maxReplicas: from?.maxReplicas ?? 1,
      ...(from?.metrics ? { metrics: from.metrics } : {}),
      ...(from?.behavior ? { behavior: from.behavior } : {}),
    },
  };
}

/** How the candidate Deployment is applied next to an autoscaled stable. */
export interface CandidateScaling {
  /** The replicas to apply the candidate with; undefined = keep what its autoscaler set. */
  replicas: number | undefined;
  /** The stable's autoscaler, which the candidate gets a copy of; undefined = none. */
  autoscaler?: Autoscaler;
}

/**
 * The candidate's replicas and autoscaler. Without an HPA on the stable, or with the replica-ratio
 * router: `replicas` as asked, no HPA. Otherwise the stable's live replicas within the HPA's bounds
 * (the full size the gateway-api and istio routers expect); a candidate applied before (a retried
 * activity) keeps the replicas its HPA may have set since, handed over first.
 */
export async function candidateScaling(
  clients: KubernetesClients,
  spec: ReleaseSpec,
  replicas: number | undefined,
  dryRun = false,
): Promise<CandidateScaling> {
  if (!routerOf(spec).candidateFullSize) return { replicas };
  const autoscaler = await readAutoscaler(clients, spec.namespace, stableDeploymentName(spec));
  if (!autoscaler) return { replicas };
  if (await readDeployment(clients, spec.namespace, candidateName(spec))) {
    if (!dryRun) await handOverReplicas(clients, spec.namespace, candidateName(spec));
    return { replicas: undefined, autoscaler };
  }
  const stable = await readDeployment(clients, spec.namespace, stableDeploymentName(spec));
  const live = stable?.spec?.replicas ?? replicas ?? 1;
  return { replicas: withinBounds(live, autoscaler.hpa), autoscaler };
}

/**
 * Gives the applied candidate Deployment its HPA (server-side apply, field manager `slipway`), then
 * lets go of the candidate's replicas: hands them over and applies `candidate` again without them,
 * so that the HPA alone scales it from here. Returns the candidate as stored.
 */
export async function ensureCandidateAutoscaler(
  clients: KubernetesClients,
  spec: ReleaseSpec,
  stable: Autoscaler,
  candidate: V1Deployment,
  options: { releaseId: string; dryRun?: boolean | undefined },
): Promise<V1Deployment> {
  const dryRun = options.dryRun ?? false;
  const hpa = renderCandidateAutoscaler(spec, stable, options.releaseId);
  await clusterCall(applyTarget(hpa, dryRun), () =>
    clients.autoscaling.patchNamespacedHorizontalPodAutoscaler(
      {
        name: hpa.metadata?.name ?? '',
        namespace: spec.namespace,
        body: hpa,
        fieldManager: FIELD_MANAGER,
        force: true,
        fieldValidation: 'Strict',
        ...(dryRun ? { dryRun: 'All' } : {}),
      },
      APPLY,
    ),
  );
  if (!dryRun) await handOverReplicas(clients, spec.namespace, candidateName(spec));
  const { replicas: _replicas, ...withoutReplicas } = candidate.spec ?? {};
  return serverSideApply(clients, { ...candidate, spec: withoutReplicas } as V1Deployment, { dryRun });
}

/**
 * Deletes the candidate's HPA, if Slipway made it (labelled managed-by slipway; an HPA of the
 * same name someone else made is left alone). Absent is fine, and so is a worker that may not read
 * HPAs (it cannot have found the stable's, so it made none).
 */
export async function removeCandidateAutoscaler(
  clients: KubernetesClients,
  spec: ReleaseSpec,
): Promise<void> {
  const name = candidateName(spec);
  const { namespace } = spec;
  let hpa: V2HorizontalPodAutoscaler;
  try {
    hpa = await clients.autoscaling.readNamespacedHorizontalPodAutoscaler({ name, namespace });
  } catch (error) {
    if (apiStatus(error) === 403 || apiStatus(error) === 404) return;
    throw asClusterFailure(error, { verb: 'get', resource: HPAS, namespace, name });
  }
  if (hpa.metadata?.labels?.[LABEL_MANAGED_BY] !== 'slipway') return;
  await clusterCall({ verb: 'delete', resource: HPAS, namespace, name }, () =>
    ignoreNotFound(clients.autoscaling.deleteNamespacedHorizontalPodAutoscaler({ name, namespace })),
  );
}
