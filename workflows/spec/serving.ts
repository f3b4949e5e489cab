// How the model is served: image, port, replicas, resources, env, labels, probes, rolling update. Pure.
import { z } from 'zod';
import { annotations, imageReference, labelValue, QUALIFIED_NAME_MESSAGE, qualifiedName } from './names.ts';
import { Resources } from './quantities.ts';
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

/** Labels Slipway sets itself on every pod; a spec may not set them. */
const RESERVED_LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/version',
  'app.kubernetes.io/managed-by',
  'slipway.dev/track',
] as const;

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

export const ServingSpec = z.strictObject({
  image: imageReference,
  /** Where the model server loads the model from; passed as MODEL_URI. */
  modelUri: z.string().min(1).optional(),
  port: port.default(8000),
  /** Replicas of stable (and of the candidate at 100%). Left unset on a Deployment an HPA scales. */
  replicas: intIn(1, MAX_REPLICAS, `must be a whole number of replicas from 1 to ${MAX_REPLICAS}`).default(1),
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
});
