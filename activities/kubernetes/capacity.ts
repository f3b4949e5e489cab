// Does the release fit? What it runs at its peak (release-demand.ts), pods as the scheduler sees
// them (node-fit.ts: requests, nodeSelector, affinity, taints), against each node's free
// allocatable (allocatable minus what the pods bound there request) and the namespace's
// ResourceQuotas. Pure; a refusal names the short resources, the node pools and the numbers.
import type { V1Node, V1Pod, V1PodSpec, V1ResourceQuota } from '@kubernetes/client-node';
import {
  describeTaint,
  nodeRefusal,
  podRequests,
  toResourceList,
  type NodeRefusal,
  type ResourceList,
} from './node-fit.ts';
import type { DemandPart } from './release-demand.ts';

export { podRequests, toResourceList, type ResourceList } from './node-fit.ts';

export interface CapacityVerdict {
  fits: boolean;
  /** Why not, in words naming the resource, the nodes and the numbers. */
  reasons: string[];
  /** How many of the wanted pods the nodes can place. */
  placeablePods: number;
  /** How many pods the release needs at its peak. */
  wantedPods?: number;
}

/** Free allocatable of every node (pods not yet bound, or finished, hold nothing). */
export function freeByNode(nodes: readonly V1Node[], pods: readonly V1Pod[]): Map<string, ResourceList> {
  const free = new Map<string, ResourceList>();
  for (const node of nodes) free.set(node.metadata?.name ?? '', toResourceList(node.status?.allocatable));
  for (const pod of pods) {
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    const left = free.get(pod.spec?.nodeName ?? '');
    if (!left) continue;
    for (const [k, v] of Object.entries(podRequests(pod.spec))) left[k] = (left[k] ?? 0) - v;
  }
  return free;
}

/** How many pods with `request` fit in `free` (identical pods: the per-resource floor, smallest). */
export function podsFitting(free: ResourceList, request: ResourceList): number {
  let n = Infinity;
  for (const [k, v] of Object.entries(request)) {
    if (v <= 0) continue;
    n = Math.min(n, Math.floor(((free[k] ?? 0) + 1e-9) / v));
  }
  return Math.max(0, n === Infinity ? Number.MAX_SAFE_INTEGER : n);
}

function podCount(n: number): string {
  return `${n} pod${n === 1 ? '' : 's'}`;
}

const BYTES = /^(memory|ephemeral-storage|hugepages-.*)$/;

/** A quantity as people write it: `500m` CPU, `8Gi` memory, plain counts for GPUs and the like. */
export function formatQuantity(resource: string, value: number): string {
  if (BYTES.test(resource)) {
    for (const [unit, size] of [
      ['Ti', 2 ** 40],
      ['Gi', 2 ** 30],
      ['Mi', 2 ** 20],
      ['Ki', 2 ** 10],
    ] as const) {
      if (Math.abs(value) >= size) return `${Number((value / size).toFixed(2))}${unit}`;
    }
    return String(value);
  }
  if (resource === 'cpu' && !Number.isInteger(value)) return `${Math.round(value * 1000)}m`;
  return String(Number(value.toFixed(3)));
}

function describeRequest(request: ResourceList): string {
  const shown = Object.entries(request).filter(([k, v]) => k !== 'pods' && v > 0);
  if (shown.length === 0) return '{no requests}';
  return `{${shown.map(([k, v]) => `${k} ${formatQuantity(k, v)}`).join(', ')}}`;
}

function names(list: readonly string[]): string {
  const shown = list.slice(0, 5).join(', ');
  return list.length > 5 ? `${shown} and ${list.length - 5} more` : shown;
}

function refusalWords(refusal: NodeRefusal, group: string[]): string {
  switch (refusal.kind) {
    case 'cordoned':
      return `cordoned (${names(group)})`;
    case 'not-ready':
      return `not Ready (${names(group)})`;
    case 'selection':
      return `outside the pod's nodeSelector and node affinity (${names(group)})`;
    case 'taint':
      return `tainted ${refusal.taints.map(describeTaint).join(', ')}, which the pod does not tolerate (${names(group)})`;
  }
}

interface NodeView {
  name: string;
  free: ResourceList;
  refusal: NodeRefusal | undefined;
}

/** Why fewer than `wanted` pods fit: per short resource, where it is free but forbidden and how much the usable nodes have. */
function diagnose(views: NodeView[], request: ResourceList, wanted: number): string {
  const usable = views.filter((v) => !v.refusal);
  const parts: string[] = [];
  const short = Object.entries(request).filter(
    ([k, v]) => v > 0 && usable.reduce((n, node) => n + podsFitting(node.free, { [k]: v }), 0) < wanted,
  );
  for (const [resource, perPod] of short) {
    const label = resource === 'pods' ? 'pod slots' : resource;
    // Nodes with room for this resource that the pod may not use, grouped by why not.
    const groups = new Map<string, { refusal: NodeRefusal; nodes: string[] }>();
    for (const view of views) {
      if (!view.refusal || (view.free[resource] ?? 0) < perPod) continue;
      const key =
        view.refusal.kind === 'taint' ? view.refusal.taints.map(describeTaint).join(',') : view.refusal.kind;
      const group = groups.get(key) ?? { refusal: view.refusal, nodes: [] };
      group.nodes.push(view.name);
      groups.set(key, group);
    }
    const elsewhere = [...groups.values()].map((g) => refusalWords(g.refusal, g.nodes));
    if (elsewhere.length > 0) parts.push(`nodes with free ${label} are ${elsewhere.join('; or ')}`);
    const free = usable.reduce((n, node) => n + Math.max(0, node.free[resource] ?? 0), 0);
    // The usable nodes that have the resource at all (a CPU node has no nvidia.com/gpu to speak of).
    const having = usable.filter((v) => v.free[resource] !== undefined);
    parts.push(
      usable.length === 0
        ? 'no node may take the pod'
        : having.length === 0
          ? `no node the pod may use has any ${label}`
          : `nodes the pod may use (${names(having.map((v) => v.name))}) have ${formatQuantity(resource, free)} ${label} free`,
    );
  }
  if (short.length === 0) {
    // Enough of every resource in total, but not together on one node.
    parts.push(
      `no node has room for the whole pod: ${usable
        .slice(0, 5)
        .map((v) => `${v.name} has ${describeRequest(v.free)} free`)
        .join(', ')}`,
    );
  }
  if (usable.length === 0 && short.length === 0) return 'no node may take the pod';
  return parts.join('; ');
}

function describeDemand(demand: readonly DemandPart[]): string {
  return demand
    .filter((d) => d.pods > 0)
    .map((d) => `${d.pods} ${d.what}`)
    .join(' + ');
}

export function checkCapacity(input: {
  nodes: readonly V1Node[];
  pods: readonly V1Pod[];
  quotas: readonly V1ResourceQuota[];
  /** The pod template's spec (renderDeployment(...).spec.template.spec). */
  template: V1PodSpec;
  /** What runs at the peak, by part (candidate, promotion surge…). */
  demand: readonly DemandPart[];
  /** `at its peak` (the whole release) or `for the promotion` (what it adds). */
  when?: string;
}): CapacityVerdict {
  const reasons: string[] = [];
  const request = podRequests(input.template);
  const wanted = input.demand.reduce((n, d) => n + d.pods, 0);
  const free = freeByNode(input.nodes, input.pods);
  const views: NodeView[] = input.nodes.map((node) => {
    const name = node.metadata?.name ?? '';
    return { name, free: free.get(name) ?? {}, refusal: nodeRefusal(node, input.template) };
  });
  const placeable = Math.min(
    wanted,
    views.filter((v) => !v.refusal).reduce((n, v) => n + Math.min(wanted, podsFitting(v.free, request)), 0),
  );
  const when = input.when ?? 'at its peak';
  const needs = `the release needs ${podCount(wanted)} of ${describeRequest(request)} ${when} (${describeDemand(input.demand)})`;
  if (placeable < wanted) {
    reasons.push(`${needs}; ${placeable} fit: ${diagnose(views, request, wanted)}`);
  }
  for (const quota of input.quotas) {
    const hard = toResourceList(quota.status?.hard);
    const used = toResourceList(quota.status?.used);
    for (const [resource, perPod] of Object.entries(request)) {
      for (const key of [resource, `requests.${resource}`]) {
        const limit = hard[key];
        if (limit === undefined) continue;
        const need = perPod * wanted;
        const left = limit - (used[key] ?? 0);
        if (need > left) {
          reasons.push(
            `ResourceQuota ${quota.metadata?.name ?? ''}: ${key} needs ${formatQuantity(resource, need)}, ${formatQuantity(resource, left)} left of ${formatQuantity(resource, limit)} (${podCount(wanted)} ${when}: ${describeDemand(input.demand)})`,
          );
        }
      }
    }
  }
  return { fits: reasons.length === 0, reasons, placeablePods: placeable, wantedPods: wanted };
}
