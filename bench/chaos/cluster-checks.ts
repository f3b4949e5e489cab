// Is the cluster in the state a release's outcome says? Read from the real cluster after each
// release ends, and once more for the whole namespace after the run:
// - Promoted: the stable Deployment runs the candidate's version (template and every ready pod, its
//   rollout complete at the spec's size); the Services and the route are as before the release
//   (the route back at 100% stable, no mirror);
// - RolledBack: the stable Deployment, the Services and the route exactly as before the release
//   (test/helpers/model-objects.ts `differences`), its rollout complete;
// - either way: no candidate Deployment, candidate pod or candidate HPA left.
// Orphans, after the run: candidate Deployments, pods, HPAs, running Jobs and routes that still
// send traffic to a candidate or mirror it, anywhere in the namespace.
import * as k8s from '@kubernetes/client-node';
import type { TestNamespace } from '../../test/helpers/cluster.ts';
import {
  differences,
  HTTP_ROUTE,
  readModelObjects,
  type ModelObjects,
} from '../../test/helpers/model-objects.ts';
import { clusterState } from '../../test/helpers/release-fixtures.ts';
import type { Router } from './plan.ts';
import { replicasFor } from './specs.ts';

const TRACK = 'slipway.dev/track';
const VERSION = 'app.kubernetes.io/version';

export function pictureOf(ns: TestNamespace, model: string): Promise<ModelObjects> {
  return readModelObjects(ns, ns.name, model, HTTP_ROUTE);
}

/** What differs from the state `outcome` says (empty = as it should be), read once. */
async function endStateProblems(
  ns: TestNamespace,
  model: string,
  router: Router,
  outcome: 'Promoted' | 'RolledBack',
  stableVersion: string,
  before: ModelObjects,
): Promise<string[]> {
  const problems: string[] = [];
  const namespace = ns.name;
  const after = await pictureOf(ns, model);
  // A first release (no stable before it) created the Services and the route: nothing to compare.
  if (before.deployment) {
    const compared =
      outcome === 'RolledBack'
        ? differences(before, after)
        : differences({ ...before, deployment: undefined }, { ...after, deployment: undefined });
    problems.push(...compared);
  }

  const stable = await ns.apps.readNamespacedDeployment({ name: model, namespace }).catch(() => undefined);
  if (!stable) return [...problems, `Deployment ${model} is missing`];
  const version = stable.spec?.template.metadata?.labels?.[VERSION];
  const image = stable.spec?.template.spec?.containers[0]?.image;
  if (version !== stableVersion) problems.push(`stable template runs ${version}, not ${stableVersion}`);
  if (image !== `registry.example.com/triton:${stableVersion}`) problems.push(`stable image is ${image}`);
  const replicas = replicasFor(router);
  const s = stable.status;
  if (stable.spec?.replicas !== replicas) problems.push(`stable has ${stable.spec?.replicas} replicas`);
  const rolledOut =
    (s?.observedGeneration ?? 0) >= (stable.metadata?.generation ?? 0) &&
    s?.updatedReplicas === replicas &&
    s?.availableReplicas === replicas &&
    (s?.replicas ?? 0) === replicas;
  if (!rolledOut)
    problems.push(
      `stable rollout not complete (updated ${s?.updatedReplicas}, available ${s?.availableReplicas}, total ${s?.replicas})`,
    );

  const pods = await ns.core.listNamespacedPod({
    namespace,
    labelSelector: `app.kubernetes.io/name=${model}`,
  });
  const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
  const candidatePods = live.filter((p) => p.metadata?.labels?.[TRACK] === 'canary');
  if (candidatePods.length > 0) problems.push(`${candidatePods.length} candidate pods left`);
  const otherVersions = live.filter(
    (p) => p.metadata?.labels?.[TRACK] === 'stable' && p.metadata?.labels?.[VERSION] !== stableVersion,
  );
  if (otherVersions.length > 0) problems.push(`${otherVersions.length} stable pods not on ${stableVersion}`);

  const candidate = await ns.apps
    .readNamespacedDeployment({ name: `${model}-canary`, namespace })
    .catch(() => undefined);
  if (candidate) problems.push(`Deployment ${model}-canary left`);
  const hpa = await ns.kc
    .makeApiClient(k8s.AutoscalingV2Api)
    .readNamespacedHorizontalPodAutoscaler({ name: `${model}-canary`, namespace })
    .catch(() => undefined);
  if (hpa) problems.push(`HPA ${model}-canary left`);

  if (router === 'gateway-api') {
    const state = await clusterState(ns, namespace, model);
    if (state.weights?.stable !== 100 || state.weights.canary !== 0)
      problems.push(`route weights ${JSON.stringify(state.weights)}`);
    if (state.mirror) problems.push('route still mirrors to the candidate');
  }
  return problems;
}

/**
 * The end state of one release, read until it holds or `settleMs` passes (the last old pods may
 * still be terminating when the workflow ends): the problems left, empty when it holds.
 */
export async function checkEndState(
  ns: TestNamespace,
  model: string,
  router: Router,
  outcome: 'Promoted' | 'RolledBack',
  stableVersion: string,
  before: ModelObjects,
  settleMs = 20_000,
): Promise<string[]> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const problems = await endStateProblems(ns, model, router, outcome, stableVersion, before).catch(
      (error: unknown) => [`could not read the cluster: ${String(error)}`],
    );
    if (problems.length === 0 || Date.now() > deadline) return problems;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

interface RouteObject {
  metadata?: { name?: string };
  spec?: { rules?: Array<{ backendRefs?: Array<{ name: string; weight?: number }>; filters?: unknown[] }> };
}

/** What of a candidate or a running Job is left anywhere in the namespace. */
export async function orphans(ns: TestNamespace): Promise<string[]> {
  const namespace = ns.name;
  const found: string[] = [];
  const deployments = await ns.apps.listNamespacedDeployment({ namespace });
  for (const d of deployments.items)
    if (d.metadata?.name?.endsWith('-canary')) found.push(`Deployment ${d.metadata.name}`);
  const pods = await ns.core.listNamespacedPod({ namespace, labelSelector: `${TRACK}=canary` });
  for (const p of pods.items) found.push(`candidate pod ${p.metadata?.name ?? '?'}`);
  const hpas = await ns.kc
    .makeApiClient(k8s.AutoscalingV2Api)
    .listNamespacedHorizontalPodAutoscaler({ namespace });
  for (const h of hpas.items) found.push(`HPA ${h.metadata?.name ?? '?'}`);
  const jobs = await ns.batch.listNamespacedJob({ namespace });
  for (const j of jobs.items)
    if ((j.status?.active ?? 0) > 0) found.push(`running Job ${j.metadata?.name ?? '?'}`);
  const routes = (await ns.custom.listNamespacedCustomObject({
    group: HTTP_ROUTE.group,
    version: HTTP_ROUTE.version,
    plural: HTTP_ROUTE.plural,
    namespace,
  })) as { items?: RouteObject[] };
  for (const r of routes.items ?? []) {
    const rules = r.spec?.rules ?? [];
    const toCandidate = rules.some((rule) =>
      (rule.backendRefs ?? []).some((b) => b.name.endsWith('-canary') && (b.weight ?? 1) > 0),
    );
    const mirrors = rules.some((rule) => (rule.filters ?? []).length > 0);
    if (toCandidate || mirrors)
      found.push(
        `HTTPRoute ${r.metadata?.name ?? '?'}${toCandidate ? ' (to a candidate)' : ''}${mirrors ? ' (mirror)' : ''}`,
      );
  }
  return found;
}
