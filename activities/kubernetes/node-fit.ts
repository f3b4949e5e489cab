// Which nodes may a pod use, and what does it request? The kube-scheduler's filters that decide
// for Slipway's pods, as pure functions: NodeUnschedulable, node readiness, NodeAffinity
// (nodeSelector and required node affinity), TaintToleration (NoSchedule and NoExecute) and the
// requests NodeResourcesFit counts (containers summed, init containers as the scheduler does).
import type {
  V1Node,
  V1NodeSelectorRequirement,
  V1NodeSelectorTerm,
  V1PodSpec,
  V1Taint,
  V1Toleration,
} from '@kubernetes/client-node';
import { quantityValue } from '../../workflows/spec/index.ts';

export type ResourceList = Record<string, number>;

export function toResourceList(map: Record<string, string> | undefined): ResourceList {
  const out: ResourceList = {};
  for (const [k, v] of Object.entries(map ?? {})) out[k] = quantityValue(v);
  return out;
}

function add(into: ResourceList, more: ResourceList): ResourceList {
  for (const [k, v] of Object.entries(more)) into[k] = (into[k] ?? 0) + v;
  return into;
}

function maxOf(into: ResourceList, other: ResourceList): ResourceList {
  for (const [k, v] of Object.entries(other)) into[k] = Math.max(into[k] ?? 0, v);
  return into;
}

/**
 * What the scheduler counts for one pod: the sum of the containers' requests; an init container
 * runs alone (next to the sidecars started before it), so each resource is the larger of that and
 * the sum; sidecars (init containers with `restartPolicy: Always`) run beside everything. Plus the
 * pod itself (`pods: 1`, a node's allocatable `pods`) and the RuntimeClass overhead.
 */
export function podRequests(spec: V1PodSpec | undefined): ResourceList {
  const containers: ResourceList = {};
  for (const c of spec?.containers ?? []) add(containers, toResourceList(c.resources?.requests));
  const sidecars: ResourceList = {};
  const initPeak: ResourceList = {};
  for (const c of spec?.initContainers ?? []) {
    const requests = toResourceList(c.resources?.requests);
    if (c.restartPolicy === 'Always') {
      add(sidecars, requests);
      maxOf(initPeak, sidecars);
    } else {
      maxOf(initPeak, add({ ...sidecars }, requests));
    }
  }
  const total = maxOf(add(containers, sidecars), initPeak);
  add(total, toResourceList(spec?.overhead));
  total.pods = 1;
  return total;
}

export function nodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Does one toleration tolerate one taint (the scheduler's `ToleratesTaint`)? */
export function tolerates(toleration: V1Toleration, taint: V1Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  const operator = toleration.operator ?? 'Equal';
  if (!toleration.key) return operator === 'Exists';
  if (toleration.key !== taint.key) return false;
  if (operator === 'Exists') return true;
  return operator === 'Equal' && (toleration.value ?? '') === (taint.value ?? '');
}

/** The node's NoSchedule/NoExecute taints none of the tolerations tolerate (PreferNoSchedule is only a preference). */
export function untoleratedTaints(node: V1Node, tolerations: readonly V1Toleration[] = []): V1Taint[] {
  return (node.spec?.taints ?? []).filter(
    (taint) =>
      (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') &&
      !tolerations.some((t) => tolerates(t, taint)),
  );
}

export function describeTaint(taint: V1Taint): string {
  return `${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`;
}

function integer(text: string | undefined): number | undefined {
  return text !== undefined && /^-?\d+$/.test(text) ? Number(text) : undefined;
}

function matchesRequirement(value: string | undefined, r: V1NodeSelectorRequirement): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const have = integer(value);
      const bound = integer(values[0]);
      if (have === undefined || bound === undefined || values.length !== 1) return false;
      return r.operator === 'Gt' ? have > bound : have < bound;
    }
    default:
      return false;
  }
}

/** One nodeSelectorTerm: all its expressions and fields; an empty term matches no node. */
export function matchesTerm(node: V1Node, term: V1NodeSelectorTerm): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  return (
    expressions.every((r) => matchesRequirement(labels[r.key], r)) &&
    // Only metadata.name is a supported node field (the apiserver refuses any other).
    fields.every((r) => r.key === 'metadata.name' && matchesRequirement(node.metadata?.name, r))
  );
}

/** nodeSelector (every label) and required node affinity (any of the terms). */
export function matchesNodeSelection(node: V1Node, spec: V1PodSpec | undefined): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(spec?.nodeSelector ?? {})) {
    if (labels[key] !== value) return false;
  }
  const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return required.nodeSelectorTerms.some((term) => matchesTerm(node, term));
}

/** Why a pod may not go to a node at all, whatever is free there; `undefined` when it may. */
export type NodeRefusal =
  { kind: 'cordoned' } | { kind: 'not-ready' } | { kind: 'selection' } | { kind: 'taint'; taints: V1Taint[] };

export function nodeRefusal(node: V1Node, spec: V1PodSpec | undefined): NodeRefusal | undefined {
  if (node.spec?.unschedulable) return { kind: 'cordoned' };
  if (!nodeReady(node)) return { kind: 'not-ready' };
  if (!matchesNodeSelection(node, spec)) return { kind: 'selection' };
  const taints = untoleratedTaints(node, spec?.tolerations);
  if (taints.length > 0) return { kind: 'taint', taints };
  return undefined;
}
