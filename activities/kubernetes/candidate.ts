// The candidate Deployment `<model>-canary` while a release holds traffic on it: a quick look
// (observeCandidate) and a watch that ends only when the candidate is lost (watchCandidate) —
// deleted or being deleted, replaced by another object of the same name, or scaled below the
// replicas it must keep available.
import type { V1Deployment } from '@kubernetes/client-node';
import { clusterCall, type ClusterTarget } from './cluster-errors.ts';
import { ignoreNotFound, type KubernetesClients } from './clients.ts';
import { deploymentName } from './labels.ts';
import { watchUntil } from './watch-until.ts';

export type CandidateObservation =
  | { exists: false }
  | {
      exists: true;
      uid: string;
      replicas: number;
      readyReplicas: number;
      availableReplicas: number;
      deleting: boolean;
    };

export interface CandidateRef {
  namespace: string;
  model: string;
}

export interface WatchCandidateInput extends CandidateRef {
  /** The uid deployCandidate returned: another uid means the candidate was replaced. */
  uid: string;
  /** Available replicas the candidate must keep; 0 = only deletion or replacement count. */
  minAvailable: number;
}

export function observationOf(deployment: V1Deployment | undefined): CandidateObservation {
  if (!deployment) return { exists: false };
  return {
    exists: true,
    uid: deployment.metadata?.uid ?? '',
    replicas: deployment.spec?.replicas ?? 1,
    readyReplicas: deployment.status?.readyReplicas ?? 0,
    availableReplicas: deployment.status?.availableReplicas ?? 0,
    deleting: deployment.metadata?.deletionTimestamp !== undefined,
  };
}

/** Why the candidate is lost, in a sentence, or undefined while it is fine. Pure. */
export function candidateLoss(
  name: string,
  observed: CandidateObservation,
  expected: { uid: string; minAvailable: number },
): string | undefined {
  if (!observed.exists) return `the candidate Deployment ${name} was deleted`;
  if (observed.deleting) return `the candidate Deployment ${name} is being deleted`;
  if (observed.uid !== expected.uid) {
    return `the candidate Deployment ${name} was replaced by another object (uid ${observed.uid}, expected ${expected.uid})`;
  }
  if (observed.availableReplicas < expected.minAvailable) {
    const scaled = observed.replicas < expected.minAvailable ? ` (scaled to ${observed.replicas})` : '';
    return `the candidate Deployment ${name} has ${observed.availableReplicas} available replicas, fewer than the ${expected.minAvailable} it needs${scaled}`;
  }
  return undefined;
}

function target(ref: CandidateRef, verb: string): ClusterTarget {
  return {
    verb,
    resource: 'deployments',
    namespace: ref.namespace,
    name: deploymentName(ref.model, 'canary'),
  };
}

function readCandidate(clients: KubernetesClients, ref: CandidateRef): Promise<V1Deployment | undefined> {
  const name = deploymentName(ref.model, 'canary');
  return ignoreNotFound(clients.apps.readNamespacedDeployment({ name, namespace: ref.namespace }));
}

export async function observeCandidate(
  clients: KubernetesClients,
  ref: CandidateRef,
): Promise<CandidateObservation> {
  return observationOf(await clusterCall(target(ref, 'get'), () => readCandidate(clients, ref)));
}

/**
 * Resolves only when the candidate is lost, with the sentence saying how. Watches (no polling),
 * resumes after disconnects, and rejects with the cancellation when `signal` aborts.
 */
export async function watchCandidate(
  clients: KubernetesClients,
  input: WatchCandidateInput,
  signal: AbortSignal,
  onObservation: (observation: CandidateObservation) => void,
): Promise<{ reason: string }> {
  const name = deploymentName(input.model, 'canary');
  return watchUntil(clients, {
    path: `/apis/apps/v1/namespaces/${input.namespace}/deployments`,
    name,
    list: (fieldSelector) =>
      clients.apps.listNamespacedDeployment({ namespace: input.namespace, fieldSelector }),
    signal,
    target: target(input, 'watch'),
    // Heartbeats carry on meanwhile; the hold's own timers end the activity, not an outage.
    giveUpAfterMs: Number.POSITIVE_INFINITY,
    onObject: (deployment) => onObservation(observationOf(deployment)),
    decide: (deployment) => {
      const reason = candidateLoss(name, observationOf(deployment), input);
      return reason === undefined ? undefined : { reason };
    },
    decideAbsent: () => ({ reason: `the candidate Deployment ${name} was deleted` }),
  });
}
