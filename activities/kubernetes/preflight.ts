// The build stage's preflight: render every object and server-side dry-run it (RBAC, quota,
// admission, schema with strict field validation), then check that the release's pods at its peak
// (candidate + promotion surge) fit the nodes and the namespace's quotas as the scheduler would
// place them. Every refusal is final: `DryRunFailed` or `InsufficientCapacity`, naming what was refused.
// `checkReleaseCapacity` is the capacity check alone (the promotion's re-check counts what it adds).
import type { V1Deployment, V1Node, V1Pod, V1PodSpec, V1ResourceQuota } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../workflows/failures.ts';
import { servingReplicas, type ReleaseSpec } from '../../workflows/spec/index.ts';
import { renderCandidateOf, type AdoptedBase } from './adopted-manifests.ts';
import { renderRoute } from '../traffic/route-object.ts';
import { ALL_STABLE } from '../traffic/router.ts';
import { serverSideApply } from './apply.ts';
import { checkCapacity, type CapacityVerdict } from './capacity.ts';
import { sharedRead } from './shared-reads.ts';
import { clusterCall, type ClusterTarget } from './cluster-errors.ts';
import { apiStatus, type KubernetesClients } from './clients.ts';
import { adoptedTargetPort, readAdoptedBase } from './deployments.ts';
import { selectorLabels, stableDeploymentName } from './labels.ts';
import { renderServices } from './manifests.ts';
import { readAutoscaler } from './autoscalers.ts';
import { missingReferences, podReferences } from './pod-references.ts';
import { releaseDemand, type CapacityPhase } from './release-demand.ts';

export interface PreflightInput {
  releaseId: string;
  spec: ReleaseSpec;
}

export interface PreflightResult {
  objects: string[];
  capacity: CapacityVerdict;
}

/** A read the preflight needs: any final refusal (RBAC above all) fails the build at once, saying which. */
function preflightRead<T>(target: ClusterTarget, read: () => Promise<T>): Promise<T> {
  return clusterCall(target, read, { finalAs: FailureType.DryRunFailed });
}

async function requireNamespace(clients: KubernetesClients, namespace: string): Promise<void> {
  await preflightRead({ verb: 'get', resource: 'namespaces', name: namespace }, async () => {
    try {
      await clients.core.readNamespace({ name: namespace });
    } catch (error) {
      if (apiStatus(error) === 404) {
        throw ApplicationFailure.nonRetryable(
          `namespace ${namespace} does not exist`,
          FailureType.DryRunFailed,
          { cause: FailureType.NotFound },
        );
      }
      throw error;
    }
  });
}

export interface CapacityInput {
  spec: ReleaseSpec;
  /** `release`: the whole release at its peak (the build); `promotion`: what the promotion adds. */
  phase: CapacityPhase;
  releaseId?: string;
}

// The capacity reads are shared by releases checking at the same moment (shared-reads.ts).
function listNodes(clients: KubernetesClients) {
  return sharedRead(clients, 'nodes', () =>
    preflightRead({ verb: 'list', resource: 'nodes' }, () => clients.core.listNode()),
  );
}

function capacityReads(clients: KubernetesClients, namespace: string) {
  return [
    sharedRead(clients, 'running-pods', () =>
      preflightRead({ verb: 'list', resource: 'pods' }, () =>
        clients.core.listPodForAllNamespaces({
          fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed',
        }),
      ),
    ),
    sharedRead(clients, `resourcequotas/${namespace}`, () =>
      preflightRead({ verb: 'list', resource: 'resourcequotas', namespace }, () =>
        clients.core.listNamespacedResourceQuota({ namespace }),
      ),
    ),
  ] as const;
}

function hasLabels(pod: V1Pod, spec: ReleaseSpec, selector: Record<string, string>): boolean {
  if (pod.metadata?.namespace !== spec.namespace) return false;
  const labels = pod.metadata.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function isTrackPod(pod: V1Pod, spec: ReleaseSpec, track: 'stable' | 'canary'): boolean {
  return hasLabels(pod, spec, selectorLabels(spec.model, track));
}

/** The candidate as it would be deployed now (over the adopted Deployment, when there is one). */
function candidateOf(spec: ReleaseSpec, releaseId: string, base: AdoptedBase | undefined): V1Deployment {
  return renderCandidateOf(spec, base, { releaseId, replicas: servingReplicas(spec, base?.replicas) });
}

/** The capacity verdict from what was read; pure. `base`: the adopted Deployment, if any. */
export function capacityVerdict(
  spec: ReleaseSpec,
  phase: CapacityPhase,
  read: { nodes: V1Node[]; pods: V1Pod[]; quotas: V1ResourceQuota[] },
  releaseId = 'capacity-check',
  base?: AdoptedBase,
): CapacityVerdict {
  const template = candidateOf(spec, releaseId, base).spec?.template.spec ?? { containers: [] };
  const stableRuns = read.pods.some((p) =>
    base ? hasLabels(p, spec, base.selector) : isTrackPod(p, spec, 'stable'),
  );
  // The build replaces whatever candidate is left (a retried release): its pods are not in the way.
  const pods = phase === 'release' ? read.pods.filter((p) => !isTrackPod(p, spec, 'canary')) : read.pods;
  return checkCapacity({
    nodes: read.nodes,
    pods,
    quotas: read.quotas,
    template,
    demand: releaseDemand(spec, phase, stableRuns, servingReplicas(spec, base?.replicas)),
    when: phase === 'release' ? 'at its peak' : 'for the promotion',
  });
}

function insufficient(phase: CapacityPhase, capacity: CapacityVerdict): ApplicationFailure {
  const what = phase === 'release' ? 'the release does not fit' : 'the promotion does not fit';
  return ApplicationFailure.nonRetryable(
    `${what}: ${capacity.reasons.join('; ')}`,
    FailureType.InsufficientCapacity,
    capacity,
  );
}

/** The capacity check alone; fails `InsufficientCapacity` when the pods do not fit. */
export async function checkReleaseCapacity(
  clients: KubernetesClients,
  { spec, phase, releaseId }: CapacityInput,
): Promise<CapacityVerdict> {
  const [nodes, pods, quotas, base] = await Promise.all([
    listNodes(clients),
    ...capacityReads(clients, spec.namespace),
    readAdoptedBase(clients, spec),
  ]);
  const capacity = capacityVerdict(
    spec,
    phase,
    { nodes: nodes.items, pods: pods.items, quotas: quotas.items },
    releaseId,
    base,
  );
  if (!capacity.fits) throw insufficient(phase, capacity);
  return capacity;
}

/** `serving.replicas` on a stable an HPA scales would fight the autoscaler: refused, with the path. */
async function refuseReplicasUnderAutoscaler(clients: KubernetesClients, spec: ReleaseSpec): Promise<void> {
  if (spec.serving.replicas === undefined) return;
  const name = stableDeploymentName(spec);
  const autoscaler = await readAutoscaler(clients, spec.namespace, name);
  if (!autoscaler) return;
  const hpa = autoscaler.hpa;
  const bounds = `${hpa.spec?.minReplicas ?? 1}..${hpa.spec?.maxReplicas ?? '?'}`;
  const by = autoscaler.ownedBy ? ` (made by ${autoscaler.ownedBy})` : '';
  throw ApplicationFailure.nonRetryable(
    `serving.replicas: Deployment ${spec.namespace}/${name} is scaled by HorizontalPodAutoscaler ${hpa.metadata?.name ?? ''}${by}, ${bounds} replicas: leave serving.replicas out, the autoscaler sets them`,
    FailureType.DryRunFailed,
    { cause: FailureType.InvalidReleaseSpec, path: 'serving.replicas' },
  );
}

/** The Secrets and ConfigMaps the pods need exist, or the release is refused naming the first missing. */
async function requireReferences(
  clients: KubernetesClients,
  spec: ReleaseSpec,
  base: AdoptedBase | undefined,
): Promise<void> {
  const refs = base
    ? podReferences(
        base.template.spec,
        `the pod template of Deployment ${base.name} (serving.deploymentRef): spec`,
      )
    : podReferences(spec.serving.template?.spec as V1PodSpec | undefined, 'serving.template.spec');
  const missing = await missingReferences(clients, spec.namespace, refs);
  if (missing.length === 0) return;
  const what = missing.map((ref) => `${ref.path}: ${ref.kind} ${spec.namespace}/${ref.name} does not exist`);
  throw ApplicationFailure.nonRetryable(
    `${what.join('; ')} (the pods could not start; create it first, or mark the reference optional)`,
    FailureType.DryRunFailed,
    { cause: FailureType.NotFound, missing },
  );
}

export async function preflight(
  clients: KubernetesClients,
  { releaseId, spec }: PreflightInput,
): Promise<PreflightResult> {
  const { namespace } = spec;
  await requireNamespace(clients, namespace);
  // An adopted Deployment that is missing or unusable fails here, in a sentence (final).
  const base = await preflightRead(
    { verb: 'get', resource: 'deployments', namespace, name: stableDeploymentName(spec) },
    () => readAdoptedBase(clients, spec),
  );
  await requireReferences(clients, spec, base);
  await refuseReplicasUnderAutoscaler(clients, spec);
  const objects = [
    ...renderServices(
      spec,
      base ? { selector: base.selector, targetPort: adoptedTargetPort(spec, base) } : undefined,
    ),
    candidateOf(spec, releaseId, base),
    ...[renderRoute(spec, { weights: ALL_STABLE, mirrorPercent: null })].filter(
      (route) => route !== undefined,
    ),
  ];
  // The dry-runs and the reads for the capacity check are independent: all at once.
  const [nodes, pods, quotas] = await Promise.all([
    Promise.all(objects.map((object) => serverSideApply(clients, object, { dryRun: true }))).then(() =>
      listNodes(clients),
    ),
    ...capacityReads(clients, namespace),
  ]);
  const capacity = capacityVerdict(
    spec,
    'release',
    { nodes: nodes.items, pods: pods.items, quotas: quotas.items },
    releaseId,
    base,
  );
  if (!capacity.fits) throw insufficient('release', capacity);
  return { objects: objects.map((o) => `${o.kind}/${o.metadata?.name ?? ''}`), capacity };
}
