// How the model is served: image, port, replicas, resources, env, labels, probes, rolling update,
// and optionally a full pod template (pod-template.ts) that the shorthand fields fill. Pure.
import { z } from 'zod';
import { formatIssuePath } from './issue-path.ts';
import { servingContainerIndex } from './serving-lookup.ts';
import {
  annotations,
  dnsLabel,
  imageReference,
  labelValue,
  QUALIFIED_NAME_MESSAGE,
  qualifiedName,
} from './names.ts';
import { PodTemplate, RESERVED_LABELS, type Container } from './pod-template.ts';
import { quantityValue, Resources } from './quantities.ts';
import { intIn, recordOf } from './zod-shapes.ts';

const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const PERCENT = /^(\d{1,3})%$/;

/** More pods than this per Deployment is a typo, not a model release. */
const MAX_REPLICAS = 10_000;

export const port = z
  .int('must be a port number')
  .min(1, 'a port is 1..65535')
  .max(65535, 'a port is 1..65535');

/** A container port by number or by name (`http` is the name Slipway gives the serving port). */
const containerPort = z.union(
  [
    port,
    z
      .string()
      .max(15, 'a port name is at most 15 characters')
      .regex(PORT_NAME, 'a port name is lower-case letters, digits and -'),
  ],
  { error: 'must be a port number (1..65535) or a port name such as http' },
);

const probeTiming = {
  initialDelaySeconds: intIn(0, 86_400).optional(),
  periodSeconds: intIn(1, 3_600).optional(),
  timeoutSeconds: intIn(1, 3_600).optional(),
  failureThreshold: intIn(1, 10_000).optional(),
  successThreshold: intIn(1, 100).optional(),
};

const ProbeSpec = z
  .strictObject({
    /** `port` defaults to `http`, the serving port. */
    httpGet: z
      .strictObject({
        path: z.string().startsWith('/', 'must start with /'),
        port: containerPort.default('http'),
      })
      .optional(),
    tcpSocket: z.strictObject({ port: containerPort.default('http') }).optional(),
    ...probeTiming,
  })
  .refine((p) => (p.httpGet === undefined) !== (p.tcpSocket === undefined), {
    message: 'a probe needs exactly one of httpGet or tcpSocket',
  });

const Probes = z
  .strictObject({
    readiness: ProbeSpec.optional(),
    liveness: ProbeSpec.optional(),
    startup: ProbeSpec.optional(),
  })
  .superRefine((probes, ctx) => {
    for (const kind of ['liveness', 'startup'] as const) {
      const threshold = probes[kind]?.successThreshold;
      if (threshold !== undefined && threshold !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: [kind, 'successThreshold'],
          message: `a ${kind} probe's successThreshold must be 1`,
        });
      }
    }
  });

/** An absolute number of pods or a percentage (`25%`), as in a Deployment's rollingUpdate. */
const intOrPercent = z.union(
  [
    intIn(0, MAX_REPLICAS, `must be a number of pods from 0 to ${MAX_REPLICAS}`),
    z.string().refine((text) => {
      const match = PERCENT.exec(text);
      return match !== null && Number(match[1]) <= 100;
    }, 'must be a percentage from 0% to 100%'),
  ],
  { error: 'must be a number of pods or a percentage such as 25%' },
);

function isZero(value: number | string): boolean {
  return value === 0 || (typeof value === 'string' && Number(value.slice(0, -1)) === 0);
}

const RollingUpdate = z
  .strictObject({ maxSurge: intOrPercent.default('25%'), maxUnavailable: intOrPercent.default(0) })
  .refine((r) => !(isZero(r.maxSurge) && isZero(r.maxUnavailable)), {
    message: 'maxSurge and maxUnavailable cannot both be 0 (the rollout could never make progress)',
    path: ['maxSurge'],
  });

const podLabels = recordOf(qualifiedName, labelValue, QUALIFIED_NAME_MESSAGE).superRefine((labels, ctx) => {
  for (const key of RESERVED_LABELS) {
    if (key in labels) ctx.addIssue({ code: 'custom', path: [key], message: `${key} is set by Slipway` });
  }
});

const EnvVar = z.strictObject({
  name: z
    .string()
    .regex(
      ENV_NAME,
      'must be an environment variable name (letters, digits, _, . and -, not starting with a digit)',
    ),
  value: z.string(),
});

const ServingObject = z.strictObject({
  /** Required unless the serving container of `template` has one. */
  image: imageReference.optional(),
  /** Where the model server loads the model from; passed as MODEL_URI. */
  modelUri: z.string().min(1).optional(),
  /** Default: the serving container's port named `http`, else 8000. */
  port: port.optional(),
  /**
   * Replicas of stable (and of the candidate at 100%). Absent: 1 (servingReplicas), or with
   * `deploymentRef` the adopted Deployment's own. Refused when an HPA scales the stable (preflight).
   */
  replicas: intIn(1, MAX_REPLICAS, `must be a whole number of replicas from 1 to ${MAX_REPLICAS}`).optional(),
  /** The serving container's command and args (fill the template's, or replace an adopted Deployment's). */
  command: z.array(z.string().max(4096)).min(1).max(256).optional(),
  args: z.array(z.string().max(4096)).max(1024).optional(),
  resources: Resources.optional(),
  env: z
    .array(EnvVar)
    .superRefine((env, ctx) => {
      const seen = new Set<string>();
      env.forEach((variable, index) => {
        if (seen.has(variable.name))
          ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `${variable.name} is set twice` });
        seen.add(variable.name);
      });
    })
    .optional(),
  /** Pod template annotations (the local simulator reads version behaviour from them). */
  annotations: annotations.optional(),
  /** Pod template labels, besides the ones Slipway sets. */
  labels: podLabels.optional(),
  probes: Probes.optional(),
  rollingUpdate: RollingUpdate.default({ maxSurge: '25%', maxUnavailable: 0 }),
  progressDeadlineSeconds: intIn(1, 86_400).default(600),
  /** Seconds a new pod must be ready before it counts as available (Kubernetes' default: 0). */
  minReadySeconds: intIn(0, 86_400).optional(),
  /** Old ReplicaSets the Deployment keeps for `kubectl rollout undo` (Kubernetes' default: 10). */
  revisionHistoryLimit: intIn(0, 1_000).optional(),
  /**
   * The stable's pod template changed outside Slipway since the last release (`kubectl rollout
   * undo`, an edit, a Helm upgrade): `refuse` the release in build, or `adopt` the live template as
   * the stable version this release starts from (and rolls back to).
   */
  onDrift: z.enum(['refuse', 'adopt']).default('refuse'),
  /** The pod template of both tracks; the shorthand fields above fill its serving container. */
  template: PodTemplate.optional(),
  /** The serving container of `template` by name (default: its first container). */
  container: dnsLabel.optional(),
  /**
   * An existing Deployment (made by kubectl, Helm or a GitOps tool) that is the stable track: the
   * release changes only what this spec says on top of its live template.
   */
  deploymentRef: dnsLabel.optional(),
});

type ServingObject = z.output<typeof ServingObject>;
type ProbeSpec = NonNullable<NonNullable<ServingObject['probes']>['readiness']>;

/** A probe of `serving.probes` as Kubernetes writes it. */
export function renderProbe(probe: ProbeSpec | undefined): Record<string, unknown> | undefined {
  if (!probe) return undefined;
  const { httpGet, tcpSocket, ...timing } = probe;
  return {
    ...(httpGet ? { httpGet: { path: httpGet.path, port: httpGet.port } } : {}),
    ...(tcpSocket ? { tcpSocket: { port: tcpSocket.port } } : {}),
    ...timing,
  };
}

export const PROBE_FIELDS = [
  ['readiness', 'readinessProbe'],
  ['liveness', 'livenessProbe'],
  ['startup', 'startupProbe'],
] as const;

/** The port named `http` of a container, if any. */
export function httpPort(container: Container | undefined): number | undefined {
  return container?.ports?.find((p) => p.name === 'http')?.containerPort;
}

/** JSON with object keys sorted: equal values give equal text. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

/**
 * One rule for the shorthand fields: they fill the serving container of `template` (or the
 * `model-server` container Slipway makes when the template has none). Giving a field both ways is
 * fine with the same value and an error with two: the issue is at the shorthand's path and names
 * the template's.
 */
function checkShorthand(serving: ServingObject, ctx: z.RefinementCtx): void {
  const contradiction = (path: PropertyKey[], theirs: PropertyKey[], detail: string) =>
    ctx.addIssue({
      code: 'custom',
      path,
      message: `contradicts serving.${formatIssuePath(theirs)} (${detail}): set it once, or to the same value`,
    });
  if (serving.deploymentRef !== undefined) {
    checkAdoption(serving, ctx);
    return;
  }
  const index = servingContainerIndex(serving);
  if (serving.container !== undefined && index === -1) {
    const names = (serving.template?.spec?.containers ?? []).map((c) => c.name);
    ctx.addIssue({
      code: 'custom',
      path: ['container'],
      message: `no container named ${serving.container} in serving.template.spec.containers (${names.length ? names.join(', ') : 'it has none'})`,
    });
    return;
  }
  const container = index === -1 ? undefined : serving.template?.spec?.containers?.[index];
  const at = (...rest: PropertyKey[]) => ['template', 'spec', 'containers', index, ...rest];
  if (serving.image === undefined && container?.image === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['image'],
      message:
        container === undefined
          ? 'an image is required'
          : `an image is required (here or as serving.${formatIssuePath(at('image'))})`,
    });
  for (const kind of ['labels', 'annotations'] as const) {
    const theirs: Record<string, string> = serving.template?.metadata?.[kind] ?? {};
    for (const [key, value] of Object.entries(serving[kind] ?? {})) {
      if (theirs[key] !== undefined && theirs[key] !== value)
        contradiction([kind, key], ['template', 'metadata', kind, key], `${theirs[key]} ≠ ${value}`);
    }
  }
  if (!container) return;
  if (serving.image !== undefined && container.image !== undefined && serving.image !== container.image)
    contradiction(['image'], at('image'), `${container.image} ≠ ${serving.image}`);
  for (const field of ['command', 'args'] as const) {
    if (
      serving[field] !== undefined &&
      container[field] !== undefined &&
      !same(serving[field], container[field])
    )
      contradiction([field], at(field), `two different ${field} lists`);
  }
  const ports = container.ports ?? [];
  const http = ports.findIndex((p) => p.name === 'http');
  if (serving.port !== undefined && http !== -1 && ports[http]!.containerPort !== serving.port)
    contradiction(
      ['port'],
      at('ports', http, 'containerPort'),
      `${ports[http]!.containerPort} ≠ ${serving.port}`,
    );
  const effectivePort = serving.port ?? (http === -1 ? 8000 : ports[http]!.containerPort);
  if (http === -1) {
    ports.forEach((p, i) => {
      if (p.containerPort === effectivePort && (p.protocol ?? 'TCP') === 'TCP')
        ctx.addIssue({
          code: 'custom',
          path: at('ports', i, 'name'),
          message: `port ${effectivePort} is the serving port: name it http (the Services target the port named http)`,
        });
    });
  }
  for (const side of ['requests', 'limits'] as const) {
    const theirs: Record<string, string> = container.resources?.[side] ?? {};
    for (const [name, value] of Object.entries(serving.resources?.[side] ?? {})) {
      const other = theirs[name];
      if (other !== undefined && quantityValue(other) !== quantityValue(value))
        contradiction(['resources', side, name], at('resources', side, name), `${other} ≠ ${value}`);
    }
  }
  const theirEnv = container.env ?? [];
  const checkEnv = (name: string, value: string, path: PropertyKey[]) => {
    const i = theirEnv.findIndex((e) => e.name === name);
    if (i === -1) return;
    const other = theirEnv[i]!;
    if (other.valueFrom !== undefined || other.value !== value)
      contradiction(
        path,
        at('env', i),
        `${name} is ${other.valueFrom ? 'valueFrom' : JSON.stringify(other.value ?? '')} there`,
      );
  };
  if (serving.modelUri !== undefined) checkEnv('MODEL_URI', serving.modelUri, ['modelUri']);
  serving.env?.forEach((variable, i) => checkEnv(variable.name, variable.value, ['env', i, 'value']));
  for (const [short, field] of PROBE_FIELDS) {
    const mine = renderProbe(serving.probes?.[short]);
    const theirs = container[field];
    if (mine !== undefined && theirs !== undefined && !same(mine, theirs))
      contradiction(['probes', short], at(field), 'two different probes');
  }
}

/**
 * With `deploymentRef` the pod template is the adopted Deployment's, live: the spec says only what
 * changes on top of it (image, command/args, env, resources, probes, pod labels and annotations).
 */
function checkAdoption(serving: ServingObject, ctx: z.RefinementCtx): void {
  if (serving.template !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['template'],
      message: `with deploymentRef the pod template is ${serving.deploymentRef}'s own: say what changes with the serving fields (image, args, env…)`,
    });
  if (serving.image === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['image'],
      message: `an image is required: the version of ${serving.deploymentRef}'s serving container this release runs`,
    });
}

/** Env names Slipway sets from the spec; a template may set them only to the same value. */
export function slipwayEnv(model: string, version: string, modelUri: string | undefined) {
  return [
    { name: 'MODEL_NAME', value: model },
    { name: 'MODEL_VERSION', value: version },
    ...(modelUri ? [{ name: 'MODEL_URI', value: modelUri }] : []),
  ];
}

export const ServingSpec = ServingObject.superRefine(checkShorthand).transform((serving) => {
  // The parsed spec is complete: image, port and resources are those the serving container runs
  // with (what capacity checks and the Services read), and parsing it again gives the same spec.
  const index = servingContainerIndex(serving);
  const container = index === -1 ? undefined : serving.template?.spec?.containers?.[index];
  const resources = mergeResources(container?.resources, serving.resources);
  const { image: _image, port: _port, resources: _resources, ...rest } = serving;
  return {
    image: (serving.image ?? container?.image)!,
    ...(serving.modelUri === undefined ? {} : { modelUri: serving.modelUri }),
    port: serving.port ?? httpPort(container) ?? 8000,
    ...rest,
    ...(resources === undefined ? {} : { resources }),
  };
});

type ResourceLists = { requests?: Record<string, string>; limits?: Record<string, string> };

function mergeResources(
  theirs: ResourceLists | undefined,
  mine: ResourceLists | undefined,
): ResourceLists | undefined {
  if (!theirs || (!theirs.requests && !theirs.limits)) return mine;
  const merged: ResourceLists = {};
  for (const side of ['requests', 'limits'] as const) {
    const list = { ...(theirs[side] ?? {}), ...(mine?.[side] ?? {}) };
    if (Object.keys(list).length > 0) merged[side] = list;
  }
  return merged;
}
