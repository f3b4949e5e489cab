// Rendering the Kubernetes objects of a release (DESIGN §6). Pure functions: same spec, same objects.
import type {
  V1Container,
  V1Deployment,
  V1PodSpec,
  V1ResourceRequirements,
  V1Service,
} from '@kubernetes/client-node';
import {
  candidateHeaders,
  type Container,
  DEFAULT_CONTAINER,
  PROBE_FIELDS,
  type ReleaseSpec,
  renderProbe,
  routeName as routeNameOf,
  servingContainerIndex,
  slipwayEnv,
} from '../../workflows/spec/index.ts';
import {
  deploymentLabels,
  deploymentName,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  objectLabels,
  selectorLabels,
  slipwayPodAnnotations,
  trackServiceName,
  type Track,
} from './labels.ts';

export interface HttpRouteWeights {
  stable: number;
  canary: number;
}

/** An HTTPRoute (gateway.networking.k8s.io/v1) limited to the fields Slipway owns. */
export interface HttpRoute {
  apiVersion: 'gateway.networking.k8s.io/v1';
  kind: 'HTTPRoute';
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: {
    parentRefs?: Array<Record<string, unknown>>;
    rules: Array<{
      matches?: Array<{ headers: Array<{ type: 'Exact'; name: string; value: string }> }>;
      backendRefs: Array<{ name: string; port: number; weight: number }>;
      filters?: Array<{
        type: 'RequestMirror';
        requestMirror: { backendRef: { name: string; port: number }; percent: number };
      }>;
    }>;
  };
}

export interface RenderDeploymentOptions {
  track: Track;
  /** Replicas to set; `undefined` leaves replicas unset (an HPA owns them). */
  replicas: number | undefined;
  releaseId: string;
  /** Build-gate scores to record on the pods (the stable track keeps them for the next release). */
  qualityScores?: Record<string, number> | undefined;
  /** Slipway's annotations on the Deployment itself (the stable's template fingerprint). */
  annotations?: Record<string, string> | undefined;
}

export function renderDeployment(spec: ReleaseSpec, options: RenderDeploymentOptions): V1Deployment {
  const { model, namespace, serving } = spec;
  const labels = objectLabels(model, spec.version, options.track);
  const template = serving.template;
  const podAnnotations = {
    ...(template?.metadata?.annotations ?? {}),
    ...(serving.annotations ?? {}),
    ...slipwayPodAnnotations(spec.version, options.releaseId, options.qualityScores),
  };
  const index = servingContainerIndex(serving);
  const containers = (template?.spec?.containers ?? []) as V1Container[];
  const container = renderServingContainer(spec, index === -1 ? undefined : containers[index]);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: deploymentName(model, options.track),
      namespace,
      labels: deploymentLabels(model, options.track),
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec: {
      ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
      selector: { matchLabels: selectorLabels(model, options.track) },
      progressDeadlineSeconds: serving.progressDeadlineSeconds,
      ...(serving.revisionHistoryLimit === undefined
        ? {}
        : { revisionHistoryLimit: serving.revisionHistoryLimit }),
      ...(serving.minReadySeconds === undefined ? {} : { minReadySeconds: serving.minReadySeconds }),
      // strategy recreate: the old pods stop before the new ones start (one version at a time).
      strategy:
        spec.strategy.type === 'recreate' && options.track === 'stable'
          ? { type: 'Recreate' }
          : {
              type: 'RollingUpdate',
              rollingUpdate: {
                maxSurge: serving.rollingUpdate.maxSurge,
                maxUnavailable: serving.rollingUpdate.maxUnavailable,
              },
            },
      template: {
        ...template,
        metadata: {
          ...(template?.metadata ?? {}),
          labels: { ...(template?.metadata?.labels ?? {}), ...(serving.labels ?? {}), ...labels },
          annotations: podAnnotations,
        },
        spec: {
          ...((template?.spec ?? {}) as V1PodSpec),
          containers:
            index === -1 ? [container] : containers.map((other, i) => (i === index ? container : other)),
        },
      },
    },
  };
}

/**
 * The serving container: the template's (or a new `model-server`) filled by the shorthand fields.
 * The schema has refused every contradiction, so filling never overrides a value the template set
 * differently. Slipway's env comes first (the template's may refer to it as `$(MODEL_URI)`), then
 * the template's own, then the shorthand's.
 */
function renderServingContainer(spec: ReleaseSpec, base: V1Container | undefined): V1Container {
  const { serving } = spec;
  const theirs: V1Container = base ?? { name: DEFAULT_CONTAINER };
  const ownEnv = theirs.env ?? [];
  const named = new Set(ownEnv.map((e) => e.name));
  const ours = slipwayEnv(spec.model, spec.version, serving.modelUri);
  const slipwayNames = new Set(ours.map((e) => e.name));
  const env = [
    ...ours,
    ...ownEnv.filter((e) => !slipwayNames.has(e.name)),
    ...(serving.env ?? []).filter((e) => !named.has(e.name)),
  ];
  const ports = theirs.ports ?? [];
  const resources = renderResources(serving.resources);
  const { claims } = (theirs.resources ?? {}) as { claims?: V1ResourceRequirements['claims'] };
  const probes = Object.fromEntries(
    PROBE_FIELDS.flatMap(([short, field]) => {
      const probe = renderProbe(serving.probes?.[short]) ?? (theirs as Container)[field];
      return probe === undefined ? [] : [[field, probe]];
    }),
  );
  return {
    ...theirs,
    name: theirs.name,
    image: serving.image,
    ...(serving.command ? { command: serving.command } : {}),
    ...(serving.args ? { args: serving.args } : {}),
    ports: ports.some((p) => p.name === 'http')
      ? ports
      : [{ name: 'http', containerPort: serving.port }, ...ports],
    env,
    ...(resources || claims ? { resources: { ...(claims ? { claims } : {}), ...(resources ?? {}) } } : {}),
    ...probes,
  };
}

/**
 * Extended resources (`nvidia.com/gpu`) and hugepages cannot be overcommitted: Kubernetes requires a
 * limit equal to the request. A spec that requests them without a limit gets that limit.
 */
export function renderResources(
  resources: ReleaseSpec['serving']['resources'],
): V1ResourceRequirements | undefined {
  if (!resources) return undefined;
  const requests = resources.requests ? { ...resources.requests } : undefined;
  const limits: Record<string, string> = { ...(resources.limits ?? {}) };
  for (const [name, value] of Object.entries(requests ?? {})) {
    if ((name.includes('/') || name.startsWith('hugepages-')) && limits[name] === undefined)
      limits[name] = value;
  }
  return { ...(requests ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) };
}

/** How the stable track of an adopted Deployment is reached: its selector and serving port. */
export interface AdoptedStable {
  selector: Record<string, string>;
  /** The serving container's port (its `http` port, else its first): adopted pods may not name it. */
  targetPort: number | string;
}

/**
 * Services `m` (all tracks), `m-stable` and `m-canary` (one track each). For an adopted
 * Deployment, `m-stable` selects what that Deployment selects and `m` is not made (the adopted
 * pods carry no Slipway label; the routers that need `m` cannot adopt).
 */
export function renderServices(spec: ReleaseSpec, adopted?: AdoptedStable): V1Service[] {
  const { model, namespace, serving } = spec;
  const service = (
    name: string,
    selector: Record<string, string>,
    targetPort: number | string = 'http',
  ): V1Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { [LABEL_NAME]: model, [LABEL_MANAGED_BY]: 'slipway' } },
    spec: { selector, ports: [{ name: 'http', port: serving.port, targetPort }] },
  });
  const canary = service(trackServiceName(model, 'canary'), selectorLabels(model, 'canary'));
  if (adopted)
    return [
      service(trackServiceName(model, 'stable'), adopted.selector, adopted.targetPort),
      {
        ...canary,
        spec: {
          ...canary.spec,
          ports: [{ name: 'http', port: serving.port, targetPort: adopted.targetPort }],
        },
      },
    ];
  return [
    service(model, { [LABEL_NAME]: model }),
    service(trackServiceName(model, 'stable'), selectorLabels(model, 'stable')),
    canary,
  ];
}

/** The HTTPRoute's name (the spec fills it in; the model's name without a route). */
export function routeName(spec: ReleaseSpec): string {
  return routeNameOf(spec) ?? spec.model;
}

/**
 * The HTTPRoute with Slipway's fields only (server-side apply with field manager `slipway`): the
 * weighted backendRefs and the RequestMirror filter, and — with `cohort`, when the spec has an A/B
 * cohort or a blue-green preview — a rule before them sending requests with those headers to the candidate (a rule with
 * header matches is more specific than one without: Gateway API gives it precedence). parentRefs are
 * set only when the spec names them, so users may own them (and hostnames) with their own manager.
 */
export function renderHttpRoute(
  spec: ReleaseSpec,
  weights: HttpRouteWeights,
  mirrorPercent: number | null,
  cohort = false,
): HttpRoute {
  const headers = cohort ? candidateHeaders(spec) : undefined;
  const { model, namespace, serving } = spec;
  const port = serving.port;
  const parentRefs = 'parentRefs' in spec.traffic ? spec.traffic.parentRefs : undefined;
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: {
      name: routeName(spec),
      namespace,
      labels: { [LABEL_NAME]: model, [LABEL_MANAGED_BY]: 'slipway' },
    },
    spec: {
      ...(parentRefs ? { parentRefs } : {}),
      rules: [
        ...(headers
          ? [
              {
                matches: [
                  { headers: headers.map((h) => ({ type: 'Exact' as const, name: h.name, value: h.value })) },
                ],
                backendRefs: [{ name: trackServiceName(model, 'canary'), port: serving.port, weight: 1 }],
              },
            ]
          : []),
        {
          backendRefs: [
            { name: trackServiceName(model, 'stable'), port, weight: weights.stable },
            { name: trackServiceName(model, 'canary'), port, weight: weights.canary },
          ],
          ...(mirrorPercent === null || mirrorPercent <= 0
            ? {}
            : {
                filters: [
                  {
                    type: 'RequestMirror' as const,
                    requestMirror: {
                      backendRef: { name: trackServiceName(model, 'canary'), port },
                      percent: mirrorPercent,
                    },
                  },
                ],
              }),
        },
      ],
    },
  };
}
