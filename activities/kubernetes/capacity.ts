// Does the candidate fit? Requested resources per pod against each node's free allocatable
// (allocatable minus what running pods request) and against the namespace's ResourceQuotas.
import type { V1Node, V1Pod, V1ResourceQuota } from '@kubernetes/client-node';
import { quantityValue } from '../../workflows/spec/index.ts';

export type ResourceList = Record<string, number>;

export interface CapacityVerdict {
  fits: boolean;
  /** Why not, in words naming the resource and the numbers. */
  reasons: string[];
  /** How many of the wanted pods the nodes can place. */
  placeablePods: number;
}

export function toResourceList(map: Record<string, string> | undefined): ResourceList {
  const out: ResourceList = {};
  for (const [k, v] of Object.entries(map ?? {})) out[k] = quantityValue(v);
  return out;
}

function podRequests(pod: V1Pod): ResourceList {
  const total: ResourceList = {};
  for (const c of pod.spec?.containers ?? []) {
    for (const [k, v] of Object.entries(toResourceList(c.resources?.requests))) {
      total[k] = (total[k] ?? 0) + v;
    }
  }
  return total;
}

/** Free allocatable per schedulable node. */
export function freeByNode(nodes: readonly V1Node[], pods: readonly V1Pod[]): Map<string, ResourceList> {
  const free = new Map<string, ResourceList>();
  for (const node of nodes) {
    if (node.spec?.unschedulable) continue;
    if (!node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    free.set(node.metadata?.name ?? '', toResourceList(node.status?.allocatable));
  }
  for (const pod of pods) {
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    const left = free.get(pod.spec?.nodeName ?? '');
    if (!left) continue;
    for (const [k, v] of Object.entries(podRequests(pod))) left[k] = (left[k] ?? 0) - v;
  }
  return free;
}

/** How many pods with `request` fit, first-fit over nodes. */
export function placeablePods(
  free: Map<string, ResourceList>,
  request: ResourceList,
  wanted: number,
): number {
  let placed = 0;
  for (const left of free.values()) {
    const room = { ...left };
    while (placed < wanted && Object.entries(request).every(([k, v]) => v <= 0 || (room[k] ?? 0) >= v)) {
      for (const [k, v] of Object.entries(request)) room[k] = (room[k] ?? 0) - v;
      placed++;
    }
  }
  return placed;
}

export function checkCapacity(input: {
  nodes: readonly V1Node[];
  pods: readonly V1Pod[];
  quotas: readonly V1ResourceQuota[];
  request: ResourceList;
  replicas: number;
}): CapacityVerdict {
  const reasons: string[] = [];
  const placeable = placeablePods(freeByNode(input.nodes, input.pods), input.request, input.replicas);
  if (placeable < input.replicas) {
    const wants =
      Object.entries(input.request)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || 'no requests';
    reasons.push(
      `only ${placeable} of ${input.replicas} candidate pods (${wants} each) fit on the schedulable nodes`,
    );
  }
  for (const quota of input.quotas) {
    const hard = toResourceList(quota.status?.hard);
    const used = toResourceList(quota.status?.used);
    for (const [resource, perPod] of Object.entries(input.request)) {
      for (const key of [resource, `requests.${resource}`]) {
        const limit = hard[key];
        if (limit === undefined) continue;
        const need = perPod * input.replicas;
        const free = limit - (used[key] ?? 0);
        if (need > free) {
          reasons.push(
            `ResourceQuota ${quota.metadata?.name ?? ''}: ${key} needs ${need}, ${free} left of ${limit}`,
          );
        }
      }
    }
  }
  return { fits: reasons.length === 0, reasons, placeablePods: placeable };
}
