// Rendering for a release whose stable Deployment already exists (`serving.deploymentRef`, made by
// kubectl, Helm or a GitOps tool). Pure. The adopted Deployment's live template is the base: the
// spec says only what changes on top of it (image, command/args, env and MODEL_URI, resources,
// probes, pod labels and annotations). Slipway adds nothing else to it, so a release whose spec
// matches what runs changes no field and restarts no pod.
//
// - The candidate is the base with those changes as Deployment `<model>-canary`, selected by
//   Slipway's own labels. Its pods carry none of the adopted Deployment's selector labels, so
//   neither that Deployment nor a Service selecting by them reaches the candidate.
// - The promotion server-side applies only those fields to the adopted Deployment (field manager
//   `slipway`): every other field stays with the manager that owns it.
import { createHash } from 'node:crypto';
import type {
  V1Container,
  V1Deployment,
  V1DeploymentSpec,
  V1ObjectMeta,
  V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { canonical, PROBE_FIELDS, renderProbe, type ReleaseSpec } from '../../workflows/spec/index.ts';
import { quantityValue } from '../../workflows/spec/quantities.ts';
import {
  ANNOTATION_RELEASE,
  deploymentName,
  objectLabels,
  selectorLabels,
  slipwayPodAnnotations,
} from './labels.ts';
import { renderDeployment, renderResources } from './manifests.ts';

/** What a release reads of the Deployment it adopts. */
export interface AdoptedBase {
  name: string;
  /** `spec.selector.matchLabels`: what the stable track's Service selects. */
  selector: Record<string, string>;
  template: V1PodTemplateSpec;
  replicas: number | undefined;
}

/** The adopted Deployment's serving container: the one the spec names, or the first. */
export function adoptedContainerIndex(spec: ReleaseSpec, template: V1PodTemplateSpec): number {
  const containers = template.spec?.containers ?? [];
  if (spec.serving.container === undefined) return containers.length > 0 ? 0 : -1;
  return containers.findIndex((c) => c.name === spec.serving.container);
}

/** The env entries the spec sets (MODEL_URI from modelUri, then serving.env), by name. */
function specEnv(spec: ReleaseSpec): Array<{ name: string; value: string }> {
  const env =
    spec.serving.modelUri === undefined ? [] : [{ name: 'MODEL_URI', value: spec.serving.modelUri }];
  for (const variable of spec.serving.env ?? []) {
    if (!env.some((e) => e.name === variable.name)) env.push(variable);
  }
  return env;
}

/** Resource quantities the spec sets that differ in value from the container's (`1000m` equals `1`). */
function changedQuantities(
  theirs: Record<string, string> | undefined,
  mine: Record<string, string> | undefined,
): Record<string, string> {
  const changed: Record<string, string> = {};
  for (const [name, value] of Object.entries(mine ?? {})) {
    const other = theirs?.[name];
    changed[name] = other !== undefined && quantityValue(other) === quantityValue(value) ? other : value;
  }
  return changed;
}

/**
 * The fields of the serving container the spec sets, with the spec's values: what the promotion
 * applies, and what the candidate lays over the base.
 */
export function servingContainerChanges(spec: ReleaseSpec, base: V1Container): V1Container {
  const { serving } = spec;
  const resources = renderResources(serving.resources);
  const probes = Object.fromEntries(
    PROBE_FIELDS.flatMap(([short, field]) => {
      const probe = renderProbe(serving.probes?.[short]);
      return probe === undefined ? [] : [[field, probe]];
    }),
  );
  // In the live container's order (new ones last): an apply orders the entries it owns as it sends them.
  const position = (name: string) => {
    const at = (base.env ?? []).findIndex((e) => e.name === name);
    return at === -1 ? Number.MAX_SAFE_INTEGER : at;
  };
  const env = specEnv(spec).sort((a, b) => position(a.name) - position(b.name));
  const requests = changedQuantities(base.resources?.requests, resources?.requests);
  const limits = changedQuantities(base.resources?.limits, resources?.limits);
  return {
    name: base.name,
    image: serving.image,
    ...(serving.command ? { command: serving.command } : {}),
    ...(serving.args ? { args: serving.args } : {}),
    ...(env.length > 0 ? { env } : {}),
    ...(Object.keys(requests).length + Object.keys(limits).length > 0
      ? {
          resources: {
            ...(Object.keys(requests).length > 0 ? { requests } : {}),
            ...(Object.keys(limits).length > 0 ? { limits } : {}),
          },
        }
      : {}),
    ...probes,
  };
}

/** The container with the changes laid over it: env and resources merge by name, the rest replaces. */
function overlayContainer(base: V1Container, changes: V1Container): V1Container {
  const env = [...(base.env ?? [])];
  for (const variable of changes.env ?? []) {
    const at = env.findIndex((e) => e.name === variable.name);
    if (at === -1) env.push(variable);
    else env[at] = variable;
  }
  const { env: _env, resources, ...rest } = changes;
  const merged: V1Container = { ...base, ...rest };
  if (env.length > 0) merged.env = env;
  if (resources) {
    merged.resources = {
      ...(base.resources ?? {}),
      ...(resources.requests
        ? { requests: { ...(base.resources?.requests ?? {}), ...resources.requests } }
        : {}),
      ...(resources.limits ? { limits: { ...(base.resources?.limits ?? {}), ...resources.limits } } : {}),
    };
  }
  return merged;
}

/** The pod labels and annotations the spec sets. */
function podMetadataChanges(spec: ReleaseSpec): {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
} {
  return {
    ...(spec.serving.labels ? { labels: spec.serving.labels } : {}),
    ...(spec.serving.annotations ? { annotations: spec.serving.annotations } : {}),
  };
}

/** The base template with the spec's changes laid over it (no Slipway label or annotation added). */
export function overlayTemplate(spec: ReleaseSpec, base: V1PodTemplateSpec): V1PodTemplateSpec {
  const index = adoptedContainerIndex(spec, base);
  const containers = base.spec?.containers ?? [];
  const container = containers[index];
  if (!container) throw new Error(`the adopted template has no serving container`);
  const changes = servingContainerChanges(spec, container);
  const metadata = podMetadataChanges(spec);
  const labels = { ...(base.metadata?.labels ?? {}), ...(metadata.labels ?? {}) };
  const annotations = { ...(base.metadata?.annotations ?? {}), ...(metadata.annotations ?? {}) };
  return {
    ...base,
    metadata: {
      ...(base.metadata ?? {}),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: {
      ...base.spec,
      containers: containers.map((c, i) => (i === index ? overlayContainer(c, changes) : c)),
    },
  };
}

/** `kubectl rollout restart` stamps the template with this: a restart, not a change of what runs. */
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/**
 * A pod template's fingerprint (sha256 of its canonical JSON, 16 hex digits): what drift compares.
 * A `kubectl rollout restart` does not change it.
 */
export function templateHash(template: V1PodTemplateSpec | undefined): string {
  const { [RESTARTED_AT]: _restart, ...annotations } = template?.metadata?.annotations ?? {};
  const { annotations: _all, ...rest } = template?.metadata ?? {};
  const metadata = Object.keys(annotations).length === 0 ? rest : { ...rest, annotations };
  return createHash('sha256')
    .update(canonical({ ...(template ?? {}), metadata }))
    .digest('hex')
    .slice(0, 16);
}

/** True when the spec changes nothing in the adopted template: the release adopts it as it runs. */
export function changesNothing(spec: ReleaseSpec, base: AdoptedBase): boolean {
  return canonical(overlayTemplate(spec, base.template)) === canonical(base.template);
}

export interface AdoptedRenderOptions {
  releaseId: string;
  replicas: number | undefined;
  /** Slipway's pod annotations (version, release, scores): they go back with a `rollout undo`. */
  podAnnotations: Record<string, string>;
}

/** The candidate: the base with the spec's changes, as `<model>-canary` with Slipway's labels. */
export function renderAdoptedCandidate(
  spec: ReleaseSpec,
  base: AdoptedBase,
  options: AdoptedRenderOptions,
): V1Deployment {
  const template = overlayTemplate(spec, base.template);
  const ours = objectLabels(spec.model, spec.version, 'canary');
  const annotations = { ...(template.metadata?.annotations ?? {}), ...options.podAnnotations };
  // The adopted Deployment's selector labels stay off the candidate's pods (see the header).
  const theirs = Object.fromEntries(
    Object.entries(template.metadata?.labels ?? {}).filter(([key]) => !(key in base.selector)),
  );
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: deploymentName(spec.model, 'canary'),
      namespace: spec.namespace,
      labels: ours,
      annotations: { [ANNOTATION_RELEASE]: options.releaseId },
    },
    spec: {
      ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
      selector: { matchLabels: selectorLabels(spec.model, 'canary') },
      progressDeadlineSeconds: spec.serving.progressDeadlineSeconds,
      template: {
        ...template,
        metadata: { ...template.metadata, labels: { ...theirs, ...ours }, annotations },
      },
    },
  };
}

/** Some fields of a Deployment, as a server-side apply sends them (the apiserver merges the rest). */
export interface DeploymentFields {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: V1ObjectMeta;
  spec?: Partial<Omit<V1DeploymentSpec, 'template'>> & { template?: V1PodTemplateSpec };
}

/**
 * What the promotion applies to the adopted Deployment: only the fields the spec sets (and
 * replicas when the spec says them), and Slipway's annotations. `annotations`: on the Deployment itself.
 */
export function renderAdoptedPromotion(
  spec: ReleaseSpec,
  base: AdoptedBase,
  options: AdoptedRenderOptions & { annotations: Record<string, string> },
): DeploymentFields {
  const index = adoptedContainerIndex(spec, base.template);
  const container = base.template.spec?.containers?.[index];
  if (!container) throw new Error(`the adopted template has no serving container`);
  const changes = podMetadataChanges(spec);
  const metadata = { ...changes, annotations: { ...(changes.annotations ?? {}), ...options.podAnnotations } };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: base.name, namespace: spec.namespace, annotations: options.annotations },
    spec: {
      ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
      ...(spec.serving.revisionHistoryLimit === undefined
        ? {}
        : { revisionHistoryLimit: spec.serving.revisionHistoryLimit }),
      ...(spec.serving.minReadySeconds === undefined
        ? {}
        : { minReadySeconds: spec.serving.minReadySeconds }),
      // An apply is merged with the live object before it is validated: the selector, the other
      // containers and every other field stay as they are, with their owners.
      template: { metadata, spec: { containers: [servingContainerChanges(spec, container)] } },
    },
  };
}

/** The candidate Deployment: over the adopted Deployment when there is one, else from the spec alone. */
export function renderCandidateOf(
  spec: ReleaseSpec,
  base: AdoptedBase | undefined,
  options: { releaseId: string; replicas: number | undefined },
): V1Deployment {
  const { releaseId, replicas } = options;
  return base
    ? renderAdoptedCandidate(spec, base, {
        releaseId,
        replicas,
        podAnnotations: slipwayPodAnnotations(spec.version, releaseId),
      })
    : renderDeployment(spec, { track: 'canary', replicas, releaseId });
}
