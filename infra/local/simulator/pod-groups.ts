// Models that are a Service in front of pods, for tools other than Slipway (an Argo Rollout's
// ReplicaSets, a plain Deployment): the Service's requests are spread over its ready pods, and each
// pod answers as its version's annotations say (sim.slipway.dev/*, as for Slipway's Deployments).
// Opt-in: the Service and the pods (their template) carry the label sim.slipway.dev/traffic=pods.
// The model is the Service's app.kubernetes.io/name label (else its name); a pod's version is its
// app.kubernetes.io/version label. The version of the oldest pod plays the stable track, the next
// one the canary track; the split is then the ready pods of each (traffic-split.ts, no route).
// Routed (a mesh's tools: Argo Rollouts' trafficRouting, Flagger): when the model has a stable
// Service (`<model>-stable`, Flagger's `<model>-primary`) and a `<model>-canary` Service, both opted
// in, and a route (VirtualService, HTTPRoute) names them, each track is the pods behind its Service
// (the tools move the Services' selectors) and the route's weights split the requests.
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { parseBehaviour, parseRequestRate, type Behaviour } from './behaviour.ts';
import {
  LABELS,
  serviceName,
  type DeploymentView,
  type ModelObjects,
  type RouteView,
  type Track,
} from './objects.ts';

export const POD_TRAFFIC_LABEL = 'sim.slipway.dev/traffic';
export const POD_TRAFFIC_SELECTOR = `${POD_TRAFFIC_LABEL}=pods`;

export interface ServiceView {
  namespace: string;
  name: string;
  model: string;
  selector: Record<string, string>;
  /** Per-model request rate from the Service's annotations, when set. */
  requestsPerSecond: number | undefined;
}

export interface PodView {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  version: string;
  /** Ready and not being deleted: an endpoint of its Service. */
  ready: boolean;
  /** Creation time, ms since the epoch. */
  createdMs: number;
  behaviour: Behaviour;
  problems: string[];
}

export function serviceView(s: V1Service): ServiceView | undefined {
  const namespace = s.metadata?.namespace;
  const name = s.metadata?.name;
  const selector = s.spec?.selector ?? {};
  if (!namespace || !name || Object.keys(selector).length === 0) return undefined;
  return {
    namespace,
    name,
    model: s.metadata?.labels?.[LABELS.name] ?? name,
    selector,
    requestsPerSecond: parseRequestRate(s.metadata?.annotations),
  };
}

export function podView(p: V1Pod): PodView | undefined {
  const namespace = p.metadata?.namespace;
  const name = p.metadata?.name;
  if (!namespace || !name) return undefined;
  const labels = p.metadata?.labels ?? {};
  const { behaviour, problems } = parseBehaviour(p.metadata?.annotations);
  const created = p.metadata?.creationTimestamp;
  return {
    namespace,
    name,
    labels,
    version: labels[LABELS.version] ?? 'unknown',
    ready:
      p.metadata?.deletionTimestamp === undefined &&
      (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    createdMs: created ? new Date(created).getTime() : 0,
    behaviour,
    problems,
  };
}

const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

interface VersionPods {
  version: string;
  oldestMs: number;
  pods: PodView[];
}

function byVersion(pods: PodView[]): VersionPods[] {
  const groups = new Map<string, VersionPods>();
  for (const pod of pods) {
    const group = groups.get(pod.version) ?? { version: pod.version, oldestMs: Infinity, pods: [] };
    group.oldestMs = Math.min(group.oldestMs, pod.createdMs);
    group.pods.push(pod);
    groups.set(pod.version, group);
  }
  return [...groups.values()].sort((a, b) => a.oldestMs - b.oldestMs || a.version.localeCompare(b.version));
}

function trackView(
  service: ServiceView,
  track: Track,
  group: VersionPods,
  problems: string[],
): DeploymentView {
  const first = [...group.pods].sort((a, b) => a.name.localeCompare(b.name))[0];
  return {
    namespace: service.namespace,
    name: `${service.name} pods ${group.version}`,
    model: service.model,
    track,
    version: group.version,
    readyReplicas: group.pods.filter((p) => p.ready).length,
    behaviour: first?.behaviour ?? parseBehaviour(undefined).behaviour,
    problems: [...(first?.problems ?? []), ...problems],
    requestsPerSecond: service.requestsPerSecond,
  };
}

/**
 * The names a routed model's track Services may have: `<model>-stable` (as the peer bench names an
 * Argo Rollout's stableService) or Flagger's `<model>-primary`, and `<model>-canary`.
 */
export const TRACK_SERVICE_SUFFIXES: Readonly<Record<Track, readonly string[]>> = {
  stable: ['-stable', '-primary'],
  canary: ['-canary'],
};

/** A track: the pods behind its Service, all ready ones serving, answering as the version with most. */
function serviceTrack(service: ServiceView, track: Track, pods: PodView[]): DeploymentView | undefined {
  const behind = pods.filter((p) => selects(service.selector, p.labels));
  const groups = byVersion(behind);
  const ready = (g: VersionPods) => g.pods.filter((p) => p.ready).length;
  const main = groups.reduce<VersionPods | undefined>(
    (best, g) => (!best || ready(g) > ready(best) ? g : best),
    undefined,
  );
  if (!main) return undefined;
  const others = groups
    .filter((g) => g !== main)
    .map((g) => `pods of version ${g.version} behind Service ${service.name} answer as ${main.version}`);
  return { ...trackView(service, track, main, others), readyReplicas: behind.filter((p) => p.ready).length };
}

/** The model routed through its track Services, or undefined when it has no such Services or route. */
function routedModel(
  key: string,
  services: ServiceView[],
  pods: PodView[],
  routes: RouteView[],
): ModelObjects | undefined {
  const first = services[0];
  if (!first) return undefined;
  const { namespace, model } = first;
  const named = (track: Track) =>
    services.find((s) => TRACK_SERVICE_SUFFIXES[track].some((suffix) => s.name === `${model}${suffix}`));
  const [stableService, canaryService] = [named('stable'), named('canary')];
  if (!stableService || !canaryService) return undefined;
  const names = new Set([stableService.name, canaryService.name]);
  const serves = (r: RouteView) =>
    r.namespace === namespace && r.rules.some((rule) => rule.backends.some((b) => names.has(b.name)));
  const route = routes.find((r) => r.name === model && serves(r)) ?? routes.find(serves);
  if (!route) return undefined;
  // The split reads the tracks' Services by Slipway's names (traffic-split.ts).
  const rename = (name: string) =>
    name === stableService.name
      ? serviceName(model, 'stable')
      : name === canaryService.name
        ? serviceName(model, 'canary')
        : name;
  const stable = serviceTrack(stableService, 'stable', pods);
  const canary = serviceTrack(canaryService, 'canary', pods);
  if (!stable && !canary) return undefined;
  return {
    key,
    namespace,
    model,
    deployments: { ...(stable ? { stable } : {}), ...(canary ? { canary } : {}) },
    route: {
      ...route,
      rules: route.rules.map((rule) => ({
        ...rule,
        backends: rule.backends.map((b) => ({ ...b, name: rename(b.name) })),
        mirror: rule.mirror && { ...rule.mirror, backend: rename(rule.mirror.backend) },
      })),
    },
  };
}

/**
 * One model per opted-in Service with at least one pod behind it, skipping the keys in `taken`
 * (a Slipway model of the same namespace and name keeps its own picture); a model whose track
 * Services a route names is routed by it (see the header).
 */
export function podGroupModels(
  services: Iterable<ServiceView>,
  pods: Iterable<PodView>,
  taken: ReadonlySet<string> = new Set(),
  routes: Iterable<RouteView> = [],
): ModelObjects[] {
  const podsByNamespace = new Map<string, PodView[]>();
  for (const pod of pods) {
    const list = podsByNamespace.get(pod.namespace) ?? [];
    list.push(pod);
    podsByNamespace.set(pod.namespace, list);
  }
  const servicesByKey = new Map<string, ServiceView[]>();
  for (const service of [...services].sort((a, b) => a.name.localeCompare(b.name))) {
    const key = `${service.namespace}/${service.model}`;
    servicesByKey.set(key, [...(servicesByKey.get(key) ?? []), service]);
  }
  const routeList = [...routes];
  const models = new Map<string, ModelObjects>();
  for (const [key, group] of servicesByKey) {
    if (taken.has(key)) continue;
    const inNamespace = podsByNamespace.get(group[0]?.namespace ?? '') ?? [];
    const routed = routedModel(key, group, inNamespace, routeList);
    if (routed) {
      models.set(key, routed);
      continue;
    }
    for (const service of group) {
      const behind = inNamespace.filter((p) => selects(service.selector, p.labels));
      const [stable, canary, ...others] = byVersion(behind);
      if (!stable) continue;
      const ignored = others.map(
        (g) =>
          `pods of version ${g.version} behind Service ${service.name} are not simulated (two versions at most)`,
      );
      models.set(key, {
        key,
        namespace: service.namespace,
        model: service.model,
        deployments: {
          stable: trackView(service, 'stable', stable, ignored),
          ...(canary ? { canary: trackView(service, 'canary', canary, []) } : {}),
        },
        route: undefined,
      });
      break;
    }
  }
  return [...models.values()];
}
