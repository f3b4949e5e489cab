// `serving.template`: a Kubernetes PodTemplateSpec passed through to both tracks (a vLLM or Triton
// server with its args, volumes, init containers, sidecars, tolerations …). Pure.
//
// The schema checks the shape Slipway relies on — objects are objects, container names are unique
// DNS labels, every volumeMount names a volume of the pod, images parse, integers fit their int32
// fields — and nothing more: every object is loose (`z.looseObject`), so fields Slipway does not
// know pass through, and the apiserver's server-side dry-run with `fieldValidation=Strict` (run by
// the API's start and by build) refuses an unknown or mistyped field with its own reason.
import { z } from 'zod';
import {
  annotations,
  dnsLabel,
  imageReference,
  labelValue,
  QUALIFIED_NAME_MESSAGE,
  qualifiedName,
} from './names.ts';
import { Resources } from './quantities.ts';
import { INT32_MAX, intIn, recordOf } from './zod-shapes.ts';

/** Labels Slipway sets itself on every pod; a spec may not set them. */
export const RESERVED_LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/version',
  'app.kubernetes.io/managed-by',
  'slipway.dev/track',
] as const;

/** Annotations under this prefix are Slipway's. */
export const RESERVED_ANNOTATION_PREFIX = 'slipway.dev/';

/** The serving container's name when the spec gives no template containers. */
export const DEFAULT_CONTAINER = 'model-server';

const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const int32 = (min = 0) => intIn(min, INT32_MAX, `must be a whole number from ${min} to ${INT32_MAX}`);
const port = z.int('must be a port number').min(1, 'a port is 1..65535').max(65535, 'a port is 1..65535');

const ContainerPort = z.looseObject({
  containerPort: port,
  hostPort: port.optional(),
  protocol: z.string().optional(),
  name: z
    .string()
    .max(15, 'a port name is at most 15 characters')
    .regex(PORT_NAME, 'a port name is lower-case letters, digits and -')
    .optional(),
});

const EnvVar = z.looseObject({
  name: z.string().min(1, 'an environment variable needs a name'),
  value: z.string().optional(),
  valueFrom: z.looseObject({}).optional(),
});

const VolumeMount = z.looseObject({
  name: z.string().min(1, 'a volumeMount names a volume'),
  mountPath: z.string().startsWith('/', 'must start with /'),
});

const Probe = z.looseObject({
  initialDelaySeconds: int32().optional(),
  periodSeconds: int32(1).optional(),
  timeoutSeconds: int32(1).optional(),
  failureThreshold: int32(1).optional(),
  successThreshold: int32(1).optional(),
  terminationGracePeriodSeconds: int32(1).optional(),
});

/**
 * A container's resources: `requests` and `limits` as `serving.resources` checks them (quantities
 * normalized to strings), anything else (`claims`) passed through.
 */
const ContainerResources = z
  .looseObject({ requests: z.unknown().optional(), limits: z.unknown().optional() })
  .transform((value, ctx) => {
    const { requests, limits, ...rest } = value;
    const parsed = Resources.safeParse({
      ...(requests === undefined ? {} : { requests }),
      ...(limits === undefined ? {} : { limits }),
    });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: 'custom', path: issue.path });
      return z.NEVER;
    }
    return { ...rest, ...parsed.data };
  });

export const Container = z.looseObject({
  name: dnsLabel,
  image: imageReference.optional(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  ports: z.array(ContainerPort).optional(),
  env: z.array(EnvVar).optional(),
  envFrom: z.array(z.looseObject({})).optional(),
  resources: ContainerResources.optional(),
  volumeMounts: z.array(VolumeMount).optional(),
  readinessProbe: Probe.optional(),
  livenessProbe: Probe.optional(),
  startupProbe: Probe.optional(),
  securityContext: z.looseObject({}).optional(),
  /** `Always` on an init container makes it a sidecar. */
  restartPolicy: z.string().optional(),
});
export type Container = z.output<typeof Container>;

const PodSpec = z.looseObject({
  containers: z.array(Container).optional(),
  initContainers: z.array(Container).optional(),
  volumes: z.array(z.looseObject({ name: dnsLabel })).optional(),
  nodeSelector: z.record(z.string(), z.string()).optional(),
  tolerations: z
    .array(
      z.looseObject({
        key: z.string().optional(),
        operator: z.string().optional(),
        value: z.string().optional(),
        effect: z.string().optional(),
        tolerationSeconds: z.int().optional(),
      }),
    )
    .optional(),
  affinity: z.looseObject({}).optional(),
  topologySpreadConstraints: z
    .array(
      z.looseObject({
        maxSkew: int32(1),
        topologyKey: z.string().min(1),
        whenUnsatisfiable: z.string().min(1),
        minDomains: int32(1).optional(),
      }),
    )
    .optional(),
  serviceAccountName: z.string().optional(),
  imagePullSecrets: z.array(z.looseObject({ name: z.string().min(1) })).optional(),
  runtimeClassName: z.string().optional(),
  priorityClassName: z.string().optional(),
  priority: int32().optional(),
  securityContext: z.looseObject({}).optional(),
  terminationGracePeriodSeconds: int32().optional(),
});

const templateLabels = recordOf(qualifiedName, labelValue, QUALIFIED_NAME_MESSAGE);

const PodTemplateShape = z
  .looseObject({
    metadata: z
      .looseObject({ labels: templateLabels.optional(), annotations: annotations.optional() })
      .optional(),
    spec: PodSpec.optional(),
  })
  .superRefine((template, ctx) => {
    for (const key of RESERVED_LABELS) {
      if (template.metadata?.labels && key in template.metadata.labels)
        ctx.addIssue({
          code: 'custom',
          path: ['metadata', 'labels', key],
          message: `${key} is set by Slipway`,
        });
    }
    for (const key of Object.keys(template.metadata?.annotations ?? {})) {
      if (key.startsWith(RESERVED_ANNOTATION_PREFIX))
        ctx.addIssue({
          code: 'custom',
          path: ['metadata', 'annotations', key],
          message: `${RESERVED_ANNOTATION_PREFIX}* annotations are set by Slipway`,
        });
    }
    // A PodTemplateSpec has neither: they are the Deployment's, and Slipway sets them (serving.replicas,
    // serving.rollingUpdate). Someone copying a Deployment may put them here.
    for (const [where, object] of [
      [[], template],
      [['spec'], template.spec ?? {}],
    ] as const) {
      for (const key of ['replicas', 'strategy'] as const) {
        if (key in object)
          ctx.addIssue({
            code: 'custom',
            path: [...where, key],
            message: `${key} is set by Slipway (serving.${key === 'replicas' ? 'replicas' : 'rollingUpdate'}), not in the pod template`,
          });
      }
    }
    const volumes = new Set((template.spec?.volumes ?? []).map((volume) => volume.name));
    const names = new Set<string>();
    for (const list of ['initContainers', 'containers'] as const) {
      template.spec?.[list]?.forEach((container, index) => {
        if (names.has(container.name))
          ctx.addIssue({
            code: 'custom',
            path: ['spec', list, index, 'name'],
            message: `container name ${container.name} is used twice in the pod`,
          });
        names.add(container.name);
        container.volumeMounts?.forEach((mount, at) => {
          if (!volumes.has(mount.name))
            ctx.addIssue({
              code: 'custom',
              path: ['spec', list, index, 'volumeMounts', at, 'name'],
              message: `no volume named ${mount.name} in serving.template.spec.volumes`,
            });
        });
      });
    }
  });

/**
 * The template, and then (only when its shape is right, so a typed field's own issue is not
 * repeated) no integer beyond int32 anywhere in it, typed by Slipway or not.
 */
export const PodTemplate = PodTemplateShape.pipe(
  z.custom<z.output<typeof PodTemplateShape>>().superRefine((template, ctx) => {
    for (const [path, value] of largeIntegers(template))
      ctx.addIssue({
        code: 'custom',
        path,
        message: `${value} is beyond ±${INT32_MAX}, the most a Kubernetes int32 field takes (the apiserver answers a larger one with an internal error); write a quantity as a string such as 16Gi`,
      });
  }),
);
export type PodTemplate = z.output<typeof PodTemplate>;

/** Every integer in `value` beyond int32, with its path (the template's fields Slipway does not type). */
function largeIntegers(value: unknown, path: PropertyKey[] = []): Array<[PropertyKey[], number]> {
  if (typeof value === 'number')
    return Number.isInteger(value) && Math.abs(value) > INT32_MAX ? [[path, value]] : [];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) =>
    largeIntegers(child, [...path, Array.isArray(value) ? Number(key) : key]),
  );
}
