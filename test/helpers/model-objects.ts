// What a release may touch for one model, read from the real cluster so that tests can compare it
// before a release and after its rollback: the stable Deployment (its whole spec, labels and Slipway
// annotations), the three Services and the route (an HTTPRoute, or the VirtualService of the istio
// router). Also: what is left of a model, a narrow
// ServiceAccount identity, an instant Prometheus query, and polling a release's status.
import * as k8s from '@kubernetes/client-node';
import type { WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../../workflows/messages.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import type { TestNamespace } from './cluster.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A plain JSON copy: typed client models, `undefined` fields and Dates compare as the wire has them. */
function plain(value: unknown): Json {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as Json);
}

export interface DeploymentPicture {
  uid: string | undefined;
  spec: Json;
  labels: Json;
  /** `slipway.dev/*` annotations only (the controller's own, e.g. the revision, change on every rollout). */
  slipwayAnnotations: Record<string, string>;
  /** The pods' `slipway.dev/*` annotations (version, release, scores: they live in the template). */
  podAnnotations: Record<string, string>;
  /** The controller's `deployment.kubernetes.io/revision` (not compared: it tells whether the template changed meanwhile). */
  revision: string | undefined;
}

export interface ServicePicture {
  uid: string | undefined;
  /** The apiserver assigns these: compared apart, a change is reported rather than failed. */
  clusterIPs: Json;
  /** The spec without clusterIP and clusterIPs. */
  spec: Json;
  labels: Json;
}

export interface RoutePicture {
  /** HTTPRoute or VirtualService. */
  kind: string;
  uid: string | undefined;
  spec: Json;
  labels: Json;
}

export interface ModelObjects {
  deployment: DeploymentPicture | undefined;
  services: Record<string, ServicePicture | undefined>;
  route: RoutePicture | undefined;
}

/** The route object a model's router applies: an HTTPRoute (the default) or a VirtualService. */
export interface RouteKind {
  group: string;
  version: string;
  plural: string;
  kind: string;
}
export const HTTP_ROUTE: RouteKind = {
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  plural: 'httproutes',
  kind: 'HTTPRoute',
};
export const VIRTUAL_SERVICE: RouteKind = {
  group: 'networking.istio.io',
  version: 'v1',
  plural: 'virtualservices',
  kind: 'VirtualService',
};

export function serviceNames(model: string): string[] {
  return [model, `${model}-stable`, `${model}-canary`];
}

interface RouteObject {
  metadata?: { uid?: string; labels?: Record<string, string> };
  spec?: unknown;
}

async function readRoute(
  ns: TestNamespace,
  namespace: string,
  name: string,
  kind: RouteKind,
): Promise<RouteObject | undefined> {
  const { group, version, plural } = kind;
  return (await ns.custom
    .getNamespacedCustomObject({ group, version, plural, namespace, name })
    .catch(() => undefined)) as RouteObject | undefined;
}

/** Reads the model's stable Deployment, Services and route (an HTTPRoute unless told) as they are now. */
export async function readModelObjects(
  ns: TestNamespace,
  namespace: string,
  model: string,
  routeKind: RouteKind = HTTP_ROUTE,
): Promise<ModelObjects> {
  const d = await ns.apps.readNamespacedDeployment({ name: model, namespace }).catch(() => undefined);
  const deployment: DeploymentPicture | undefined = d && {
    uid: d.metadata?.uid,
    spec: plain(d.spec),
    labels: plain(d.metadata?.labels ?? {}),
    slipwayAnnotations: Object.fromEntries(
      Object.entries(d.metadata?.annotations ?? {}).filter(([key]) => key.startsWith('slipway.dev/')),
    ),
    podAnnotations: Object.fromEntries(
      Object.entries(d.spec?.template.metadata?.annotations ?? {}).filter(([key]) =>
        key.startsWith('slipway.dev/'),
      ),
    ),
    revision: d.metadata?.annotations?.['deployment.kubernetes.io/revision'],
  };
  const services: Record<string, ServicePicture | undefined> = {};
  for (const name of serviceNames(model)) {
    const s = await ns.core.readNamespacedService({ name, namespace }).catch(() => undefined);
    if (!s) {
      services[name] = undefined;
      continue;
    }
    const { clusterIP, clusterIPs, ...rest } = s.spec ?? {};
    services[name] = {
      uid: s.metadata?.uid,
      clusterIPs: plain({ clusterIP, clusterIPs }),
      spec: plain(rest),
      labels: plain(s.metadata?.labels ?? {}),
    };
  }
  const r = await readRoute(ns, namespace, model, routeKind);
  const route: RoutePicture | undefined = r && {
    kind: routeKind.kind,
    uid: r.metadata?.uid,
    spec: plain(r.spec),
    labels: plain(r.metadata?.labels ?? {}),
  };
  return { deployment, services, route };
}

/** Differences between two JSON values, one line per differing leaf path (empty = equal). */
export function jsonDiff(before: Json, after: Json, path = ''): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const isObject = (v: Json): v is { [key: string]: Json } =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) =>
      jsonDiff(before[key] ?? null, after[key] ?? null, path ? `${path}.${key}` : key),
    );
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, i) => jsonDiff(item, after[i] ?? null, `${path}[${i}]`));
  }
  return [`${path || '(root)'}: ${JSON.stringify(before)} → ${JSON.stringify(after)}`];
}

/**
 * Every difference between two pictures of a model, field by field (empty = restored exactly).
 * ClusterIP changes go to `notes`: the apiserver assigns them, but a change means a Service was recreated.
 */
export function differences(before: ModelObjects, after: ModelObjects, notes: string[] = []): string[] {
  const found: string[] = [];
  const compare = (what: string, a: Json, b: Json) =>
    found.push(...jsonDiff(a, b).map((line) => `${what}.${line}`));
  if (!before.deployment || !after.deployment) {
    if (before.deployment !== after.deployment)
      found.push(
        `Deployment: ${before.deployment ? 'present' : 'absent'} → ${after.deployment ? 'present' : 'absent'}`,
      );
  } else {
    compare('Deployment spec', before.deployment.spec, after.deployment.spec);
    compare('Deployment labels', before.deployment.labels, after.deployment.labels);
    compare(
      'Deployment annotations',
      before.deployment.slipwayAnnotations,
      after.deployment.slipwayAnnotations,
    );
    if (before.deployment.uid !== after.deployment.uid) found.push('Deployment: recreated (uid changed)');
  }
  for (const name of Object.keys({ ...before.services, ...after.services })) {
    const a = before.services[name];
    const b = after.services[name];
    if (!a || !b) {
      if (a !== b) found.push(`Service ${name}: ${a ? 'present' : 'absent'} → ${b ? 'present' : 'absent'}`);
      continue;
    }
    compare(`Service ${name} spec`, a.spec, b.spec);
    compare(`Service ${name} labels`, a.labels, b.labels);
    const ips = jsonDiff(a.clusterIPs, b.clusterIPs);
    if (ips.length > 0 || a.uid !== b.uid)
      notes.push(`Service ${name}: ${a.uid !== b.uid ? 'recreated; ' : ''}${ips.join('; ')}`);
  }
  const kind = (before.route ?? after.route)?.kind ?? 'HTTPRoute';
  if (!before.route || !after.route) {
    if (before.route !== after.route)
      found.push(`${kind}: ${before.route ? 'present' : 'absent'} → ${after.route ? 'present' : 'absent'}`);
  } else {
    compare(`${kind} spec`, before.route.spec, after.route.spec);
    compare(`${kind} labels`, before.route.labels, after.route.labels);
  }
  return found;
}

/** What of the model is still in the cluster: Deployments, ReplicaSets, Services, the route. */
export async function modelLeftovers(
  ns: TestNamespace,
  namespace: string,
  model: string,
  routeKind: RouteKind = HTTP_ROUTE,
): Promise<string[]> {
  const left: string[] = [];
  for (const name of [model, `${model}-canary`]) {
    if (await ns.apps.readNamespacedDeployment({ name, namespace }).catch(() => undefined))
      left.push(`Deployment ${name}`);
  }
  const sets = await ns.apps.listNamespacedReplicaSet({
    namespace,
    labelSelector: `app.kubernetes.io/name=${model}`,
  });
  left.push(...sets.items.map((rs) => `ReplicaSet ${rs.metadata?.name ?? '?'}`));
  for (const name of serviceNames(model)) {
    if (await ns.core.readNamespacedService({ name, namespace }).catch(() => undefined))
      left.push(`Service ${name}`);
  }
  if (await readRoute(ns, namespace, model, routeKind)) left.push(`${routeKind.kind} ${model}`);
  return left;
}

/** Polls `read` until it returns a value `done` accepts; returns the last value read at the deadline. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Queries the release's status until `predicate` holds. */
export async function waitForStatus(
  handle: WorkflowHandle,
  predicate: (s: ReleaseStatus) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<ReleaseStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await handle.query(statusQuery);
    if (predicate(status)) return status;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}; phase ${status.phase}, timeline: ${JSON.stringify(status.timeline.slice(-4))}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The workflow's result, or — when it has not ended within `ms` — a failure saying where it hangs
 * (its last timeline entries and pending activities), after terminating it so that nothing lingers.
 */
export async function resultWithin<R>(handle: WorkflowHandle, ms: number): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const late = Symbol('late');
  const deadline = new Promise<typeof late>((resolve) => (timer = setTimeout(() => resolve(late), ms)));
  try {
    const result = await Promise.race([handle.result() as Promise<R>, deadline]);
    if (result !== late) return result;
  } finally {
    clearTimeout(timer);
  }
  const status = await handle.query(statusQuery).catch(() => undefined);
  const described = await handle.describe().catch(() => undefined);
  const pending = (described?.raw.pendingActivities ?? []).map(
    (a) => `${a.activityType?.name ?? '?'} (attempt ${a.attempt ?? '?'})`,
  );
  await handle.terminate(`did not end within ${ms} ms (test deadline)`).catch(() => undefined);
  throw new Error(
    `the release did not end within ${ms} ms (terminated): phase ${status?.phase ?? '?'}, pending activities [${pending.join(', ')}], timeline ${JSON.stringify(status?.timeline.slice(-4).map((e) => e.message))}`,
  );
}

/** Merge-patches an object as a person would (their own field manager), e.g. to own a field Slipway does not set. */
export const MERGE_PATCH = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** One instant PromQL query against the stack's Prometheus: the first sample's value, or undefined. */
export async function promQuery(query: string): Promise<number | undefined> {
  const base = process.env.PROMETHEUS_URL;
  if (!base) throw new Error('PROMETHEUS_URL is not set');
  const response = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as { data?: { result?: Array<{ value?: [number, string] }> } };
  const value = body.data?.result?.[0]?.value?.[1];
  return value === undefined ? undefined : Number(value);
}
