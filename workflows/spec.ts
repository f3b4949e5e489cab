// The release spec: what a user submits (DESIGN §4). One zod schema is the single source of truth
// for the workflow, the activities, the API and the CLI; TypeScript types are derived from it.
// Imported inside the workflow sandbox: pure, no I/O, no clock.
//
// Conventions:
// - every object is strict (an unknown field is an error at its own path);
// - "one of" shapes (a canary step, a gate provider, a header value) are told apart by the key
//   present, so an error is reported inside the chosen shape, never as a vague "invalid union";
// - durations are strings (`30s`, `10m`, `1h30m`) and stay strings in the parsed spec;
// - defaults are filled in by parsing: the parsed spec (`ReleaseSpec`) is complete, and parsing it
//   again gives the same spec.
import { z } from 'zod';
import { duration, durationMs } from './duration.ts';

// ---- Kubernetes names and values -----------------------------------------------------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const PERCENT = /^(\d{1,3})%$/;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const HHMM_OR_24 = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
const JSON_PATH = /^\$(\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\]|\['[^']*'\]|\["[^"]*"\])*$/;
const HTTP_URL = /^https?:\/\/[^\s/?#]+[^\s]*$/;

const DNS_LABEL_MESSAGE =
  'must be a DNS-1123 label: lower-case letters, digits and -, starting and ending alphanumeric';

/** A DNS-1123 label: model, namespace and gate names (lower-case alphanumerics and `-`, ≤ 63). */
export const dnsLabel = z
  .string()
  .max(63, 'must be at most 63 characters (a DNS-1123 label)')
  .regex(DNS1123_LABEL, DNS_LABEL_MESSAGE);

/** A model name: a DNS-1123 label of at most 56 characters, as the candidate Deployment is `<model>-canary`. */
export const modelName = z
  .string()
  .max(56, 'must be at most 56 characters (the candidate Deployment is <model>-canary)')
  .regex(DNS1123_LABEL, DNS_LABEL_MESSAGE);

/** A DNS-1123 subdomain (Secret names, label prefixes). */
export const dnsSubdomain = z
  .string()
  .max(253, 'must be at most 253 characters (a DNS-1123 subdomain)')
  .regex(
    DNS1123_SUBDOMAIN,
    'must be a DNS-1123 subdomain: lower-case letters, digits, - and ., starting and ending alphanumeric',
  );

/** A Kubernetes label value, non-empty (an empty version says nothing). */
export const labelValue = z
  .string()
  .max(63, 'must be at most 63 characters (a Kubernetes label value)')
  .regex(
    NAME_PART,
    'must be a Kubernetes label value: letters, digits, -, _ and ., starting and ending alphanumeric',
  );

function isQualifiedName(key: string): boolean {
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && NAME_PART.test(name);
}

/** A label or annotation key: `[prefix/]name`, prefix a DNS subdomain, name ≤ 63 characters. */
export const qualifiedName = z
  .string()
  .refine(isQualifiedName, 'must be a qualified name such as example.com/key or key');

// ---- quantities ---------------------------------------------------------------------------------

const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;
const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value of a quantity already validated by `quantity`, in base units (approximate: a float). */
export function quantityValue(text: string): number {
  const match = QUANTITY.exec(text);
  if (!match) throw new TypeError(`not a Kubernetes quantity: ${JSON.stringify(text)}`);
  const [, number, exponent, suffix] = match;
  if (exponent !== undefined) return Number(number) * 10 ** Number(exponent);
  return Number(number) * (suffix === undefined ? 1 : (SUFFIX[suffix] ?? 1));
}

/**
 * A non-negative Kubernetes quantity such as `2`, `500m`, `1.5`, `8Gi`, `1e3`. YAML numbers
 * (`cpu: 2`) are accepted and become strings.
 */
export const quantity = z
  .union([z.string(), z.number()], { error: 'must be a Kubernetes quantity such as 2, 500m or 8Gi' })
  .transform(String)
  .pipe(z.string().regex(QUANTITY, 'must be a non-negative Kubernetes quantity such as 2, 500m, 1.5 or 8Gi'));

const NATIVE_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);

function isResourceName(name: string): boolean {
  if (NATIVE_RESOURCES.has(name) || /^hugepages-/.test(name)) return true;
  return name.includes('/') && isQualifiedName(name);
}

/** Extended resources (nvidia.com/gpu …) are whole numbers and cannot be overcommitted. */
function isExtendedResource(name: string): boolean {
  if (!name.includes('/')) return false;
  const prefix = name.slice(0, name.indexOf('/'));
  return prefix !== 'kubernetes.io' && !prefix.endsWith('.kubernetes.io') && !prefix.startsWith('requests.');
}

/** A record whose invalid keys are reported with `keyMessage` (zod's own says only "Invalid key"). */
function recordOf<K extends z.ZodType<string>, V extends z.ZodType>(key: K, value: V, keyMessage: string) {
  return z.record(key, value, { error: (issue) => (issue.code === 'invalid_key' ? keyMessage : undefined) });
}

const RESOURCE_NAME_MESSAGE =
  'must be cpu, memory, ephemeral-storage, hugepages-<size> or a qualified name such as nvidia.com/gpu';

export const ResourceList = recordOf(z.string().refine(isResourceName), quantity, RESOURCE_NAME_MESSAGE);
export type ResourceList = z.output<typeof ResourceList>;

export const Resources = z
  .strictObject({ requests: ResourceList.optional(), limits: ResourceList.optional() })
  .superRefine((resources, ctx) => {
    const requests = resources.requests ?? {};
    const limits = resources.limits ?? {};
    const fractional = new Set<string>();
    for (const [side, list] of [
      ['requests', requests],
      ['limits', limits],
    ] as const) {
      for (const [name, value] of Object.entries(list)) {
        if (isExtendedResource(name) && !Number.isInteger(quantityValue(value))) {
          ctx.addIssue({
            code: 'custom',
            path: [side, name],
            message: `${name} is an extended resource: a whole number is required`,
          });
          fractional.add(name);
        }
      }
    }
    for (const [name, limit] of Object.entries(limits)) {
      const request = requests[name];
      if (request === undefined || fractional.has(name)) continue;
      if (isExtendedResource(name) && quantityValue(request) !== quantityValue(limit)) {
        ctx.addIssue({
          code: 'custom',
          path: ['limits', name],
          message: `${name} is an extended resource: its limit (${limit}) must equal its request (${request})`,
        });
      } else if (quantityValue(limit) < quantityValue(request)) {
        ctx.addIssue({
          code: 'custom',
          path: ['limits', name],
          message: `the ${name} limit (${limit}) is below its request (${request})`,
        });
      }
    }
  });
export type Resources = z.output<typeof Resources>;

// ---- "one of" shapes ----------------------------------------------------------------------------

type KeyedOptions = Record<string, z.ZodType>;
type KeyedUnion<O extends KeyedOptions, Extra extends z.ZodType> = z.ZodType<
  z.output<O[keyof O]> | z.output<Extra>,
  z.input<O[keyof O]> | z.input<Extra>
>;

/**
 * A union whose object members are told apart by which of their keys is present (`weight`,
 * `approval`, `pause`; `prometheus`, `http` …). The member chosen by the key validates the value,
 * so its errors keep their precise paths. `scalar` optionally admits a non-object form (a string).
 */
function keyedUnion<const O extends KeyedOptions, Extra extends z.ZodType = z.ZodNever>(
  options: O,
  describe: { what: string; keys: string; scalar?: Extra },
): KeyedUnion<O, Extra> {
  const keys = Object.keys(options);
  const members = [...Object.values(options), ...(describe.scalar ? [describe.scalar] : [])] as [
    z.ZodType,
    ...z.ZodType[],
  ];
  const union = z.union(members);
  const checked = z.preprocess((value, ctx) => {
    const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
    if (!isObject) {
      if (describe.scalar) {
        const scalar = describe.scalar.safeParse(value);
        if (scalar.success) return value;
      }
      ctx.addIssue({ code: 'custom', message: `${describe.what} must be ${describe.keys}`, continue: false });
      return value;
    }
    const present = keys.filter((key) => key in value);
    if (present.length !== 1) {
      const found = present.length === 0 ? '' : ` (found ${present.join(' and ')})`;
      ctx.addIssue({
        code: 'custom',
        message: `${describe.what} must be ${describe.keys}${found}`,
        continue: false,
      });
      return value;
    }
    const parsed = options[present[0] as string]!.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, continue: false });
    }
    return value;
  }, union);
  // The preprocess step only validates (the value passes through unchanged), so the schema's input
  // and output types are those of the union.
  return checked as unknown as KeyedUnion<O, Extra>;
}

// ---- serving ------------------------------------------------------------------------------------

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
  initialDelaySeconds: z.int().min(0).optional(),
  periodSeconds: z.int().min(1).optional(),
  timeoutSeconds: z.int().min(1).optional(),
  failureThreshold: z.int().min(1).optional(),
  successThreshold: z.int().min(1).optional(),
};

export const ProbeSpec = z
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
export type ProbeSpec = z.output<typeof ProbeSpec>;

export const Probes = z
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
export type Probes = z.output<typeof Probes>;

/** An absolute number of pods or a percentage (`25%`), as in a Deployment's rollingUpdate. */
export const intOrPercent = z.union(
  [
    z.int().min(0, 'must not be negative'),
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

export const RollingUpdate = z
  .strictObject({ maxSurge: intOrPercent.default('25%'), maxUnavailable: intOrPercent.default(0) })
  .refine((r) => !(isZero(r.maxSurge) && isZero(r.maxUnavailable)), {
    message: 'maxSurge and maxUnavailable cannot both be 0 (the rollout could never make progress)',
    path: ['maxSurge'],
  });
export type RollingUpdate = z.output<typeof RollingUpdate>;

/** Labels Slipway sets itself on every pod; a spec may not set them. */
export const RESERVED_LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/version',
  'app.kubernetes.io/managed-by',
  'slipway.dev/track',
] as const;

const QUALIFIED_NAME_MESSAGE =
  'must be a qualified name such as example.com/key or key (name part ≤ 63 characters, alphanumeric at both ends)';
const stringMap = recordOf(qualifiedName, z.string(), QUALIFIED_NAME_MESSAGE);

const podLabels = recordOf(qualifiedName, labelValue, QUALIFIED_NAME_MESSAGE).superRefine((labels, ctx) => {
  for (const key of RESERVED_LABELS) {
    if (key in labels) ctx.addIssue({ code: 'custom', path: [key], message: `${key} is set by Slipway` });
  }
});

export const EnvVar = z.strictObject({
  name: z
    .string()
    .regex(
      ENV_NAME,
      'must be an environment variable name (letters, digits, _, . and -, not starting with a digit)',
    ),
  value: z.string(),
});
export type EnvVar = z.output<typeof EnvVar>;

export const ServingSpec = z.strictObject({
  image: z.string('an image is required').min(1, 'an image is required'),
  /** Where the model server loads the model from; passed as MODEL_URI. */
  modelUri: z.string().min(1).optional(),
  port: port.default(8000),
  /** Replicas of stable (and of the candidate at 100%). Left unset on a Deployment an HPA scales. */
  replicas: z.int().min(0, 'must not be negative').max(2_147_483_647).default(1),
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
  annotations: stringMap.optional(),
  /** Pod template labels, besides the ones Slipway sets. */
  labels: podLabels.optional(),
  probes: Probes.optional(),
  rollingUpdate: RollingUpdate.default({ maxSurge: '25%', maxUnavailable: 0 }),
  progressDeadlineSeconds: z.int().min(1).max(86_400).default(600),
});
export type ServingSpec = z.output<typeof ServingSpec>;

// ---- traffic ------------------------------------------------------------------------------------

/** A Gateway API ParentReference (usually a Gateway). */
export const ParentRef = z.strictObject({
  name: z.string().min(1).max(253),
  namespace: dnsLabel.optional(),
  group: z.string().max(253).optional(),
  kind: z.string().min(1).max(63).optional(),
  sectionName: z.string().min(1).max(253).optional(),
  port: port.optional(),
});
export type ParentRef = z.output<typeof ParentRef>;

export const GatewayApiTraffic = z.strictObject({
  router: z.literal('gateway-api'),
  /** HTTPRoute name; defaults to the model's name (filled in by `ReleaseSpec`). */
  route: dnsLabel.optional(),
  /** parentRefs Slipway sets; leave out to let users own them (server-side apply). */
  parentRefs: z.array(ParentRef).min(1).optional(),
});

export const ReplicaRatioTraffic = z.strictObject({ router: z.literal('replica-ratio') });

/** How traffic is split between stable and candidate. Default: `{ router: gateway-api, route: <model> }`. */
export const TrafficSpec = z.discriminatedUnion('router', [GatewayApiTraffic, ReplicaRatioTraffic]);

// ---- stages -------------------------------------------------------------------------------------

const gateNames = z.array(dnsLabel).optional();
const positive = duration({ min: '1s' });

export const BuildJobSpec = z.strictObject({
  image: z.string('an image is required').min(1, 'an image is required'),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  timeout: positive.default('30m'),
  backoffLimit: z.int().min(0).max(10).optional(),
  annotations: stringMap.optional(),
});
export type BuildJobSpec = z.output<typeof BuildJobSpec>;

export const BuildSpec = z.strictObject({ job: BuildJobSpec.optional(), gates: gateNames });
export type BuildSpec = z.output<typeof BuildSpec>;

export const ShadowSpec = z.strictObject({
  duration: positive,
  mirrorPercent: z.int().min(1, 'mirrorPercent is 1..100').max(100, 'mirrorPercent is 1..100').default(100),
  gates: gateNames,
});
export type ShadowSpec = z.output<typeof ShadowSpec>;

const onTimeout = z.enum(['reject', 'approve']).default('reject');

/** A human decision; `timeout` unset = wait as long as it takes; on timeout `onTimeout` decides. */
export const ApprovalSpec = z.strictObject({ timeout: positive.optional(), onTimeout });
export type ApprovalSpec = z.output<typeof ApprovalSpec>;

/** Traffic to the candidate, in percent; held for `hold` (none = move on once the router took it). */
export const WeightStep = z.strictObject({
  weight: z.int('a weight is a whole percentage').min(1, 'a weight is 1..100').max(100, 'a weight is 1..100'),
  hold: duration().optional(),
});
export type WeightStep = z.output<typeof WeightStep>;

export const ApprovalStep = z.strictObject({ approval: ApprovalSpec });
export type ApprovalStep = z.output<typeof ApprovalStep>;

/** A pause for `duration`, or until resumed when no duration is given. */
export const PauseStep = z.strictObject({ pause: z.strictObject({ duration: positive.optional() }) });
export type PauseStep = z.output<typeof PauseStep>;

export const CanaryStep = keyedUnion(
  { weight: WeightStep, approval: ApprovalStep, pause: PauseStep },
  { what: 'a canary step', keys: 'one of { weight, hold }, { approval } or { pause }' },
);
export type CanaryStep = z.output<typeof CanaryStep>;

export const CanarySpec = z
  .strictObject({ steps: z.array(CanaryStep).min(1, 'a canary needs at least one step'), gates: gateNames })
  .superRefine((canary, ctx) => {
    let previous = 0;
    canary.steps.forEach((step, index) => {
      if (!('weight' in step)) return;
      if (step.weight <= previous) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', index, 'weight'],
          message: `weights must increase from step to step: ${step.weight} follows ${previous}`,
        });
      }
      previous = Math.max(previous, step.weight);
    });
  });
export type CanarySpec = z.output<typeof CanarySpec>;

// ---- promotion ----------------------------------------------------------------------------------

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * When promotion may start, in local wall-clock time of `timezone`: from `from` (inclusive) to `to`
 * (exclusive) on each of `days`. When `to` ≤ `from` the window crosses midnight and `days` name the
 * day it starts (`{days: [Fri], from: '22:00', to: '02:00'}` = Friday 22:00 to Saturday 02:00);
 * `from` = `to` is a whole day from `from`. `to` may be `24:00`. See workflows/calendar.ts.
 */
export const PromotionWindow = z.strictObject({
  days: z
    .array(z.enum(WEEKDAYS, 'must be one of Mon, Tue, Wed, Thu, Fri, Sat, Sun'))
    .min(1, 'name at least one day')
    .default([...WEEKDAYS]),
  from: z.string().regex(HHMM, 'must be a time HH:MM such as 09:00'),
  to: z.string().regex(HHMM_OR_24, 'must be a time HH:MM such as 16:00 (or 24:00)'),
  timezone: z
    .string()
    .refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin or UTC')
    .default('UTC'),
});
export type PromotionWindow = z.output<typeof PromotionWindow>;

const isoInstant = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time with a zone, such as 2026-12-20T00:00:00Z',
});

/** No promotion from `from` (inclusive) to `to` (exclusive). */
export const Freeze = z
  .strictObject({ from: isoInstant, to: isoInstant, reason: z.string().optional() })
  .refine((f) => Date.parse(f.from) < Date.parse(f.to), {
    message: 'a freeze must end after it starts',
    path: ['to'],
  });
export type Freeze = z.output<typeof Freeze>;

export const PromoteApproval = z.strictObject({
  required: z.boolean().default(true),
  timeout: positive.optional(),
  onTimeout,
});
export type PromoteApproval = z.output<typeof PromoteApproval>;

export const PromoteSpec = z.strictObject({
  /**
   * `rolling` (default): roll stable to the candidate's template (needs only surge capacity).
   * `handoff`: scale the candidate to full size, route 100% to it, roll stable, route back.
   */
  mode: z.enum(['rolling', 'handoff']).default('rolling'),
  approval: PromoteApproval.optional(),
  windows: z.array(PromotionWindow).optional(),
  freezes: z.array(Freeze).optional(),
});
export type PromoteSpec = z.output<typeof PromoteSpec>;

// ---- gates --------------------------------------------------------------------------------------

/** The pass range of a measured value (inclusive bounds). */
export const PassRange = z
  .strictObject({ min: z.number().optional(), max: z.number().optional() })
  .superRefine((pass, ctx) => {
    if (pass.min === undefined && pass.max === undefined) {
      ctx.addIssue({ code: 'custom', message: 'pass needs min, max or both' });
    } else if (pass.min !== undefined && pass.max !== undefined && pass.min > pass.max) {
      ctx.addIssue({
        code: 'custom',
        path: ['max'],
        message: `max (${pass.max}) is below min (${pass.min})`,
      });
    }
  });
export type PassRange = z.output<typeof PassRange>;

/** A range query: samples over the last `duration`, every `step`. */
const rangeShape = { duration: positive, step: positive };
function stepWithinDuration(range: { duration: string; step: string }): boolean {
  return durationMs(range.step) <= durationMs(range.duration);
}
const stepMessage = { message: 'step must not exceed duration', path: ['step'] };

export const QueryRange = z.strictObject(rangeShape).refine(stepWithinDuration, stepMessage);
export type QueryRange = z.output<typeof QueryRange>;

export const PrometheusRange = z
  .strictObject({
    ...rangeShape,
    /** How the samples become the gate's value. */
    aggregate: z.enum(['mean', 'min', 'max', 'last']).default('mean'),
  })
  .refine(stepWithinDuration, stepMessage);
export type PrometheusRange = z.output<typeof PrometheusRange>;

export const PrometheusProvider = z.strictObject({
  /** PromQL; `{{model}}`, `{{namespace}}`, `{{version}}`, `{{stableVersion}}` are substituted. */
  query: z.string().min(1, 'a query is required'),
  /** Leave out for an instant query (the first finite value of the result is the gate's value). */
  range: PrometheusRange.optional(),
});

export const SecretKeyRef = z.strictObject({
  secretRef: z.strictObject({
    name: dnsSubdomain,
    key: z.string().max(253).regex(SECRET_KEY, 'must be a Secret key (letters, digits, -, _ and .)'),
  }),
});
export const EnvRef = z.strictObject({
  env: z.string().regex(ENV_NAME, 'must be an environment variable name of the worker'),
});

/** A header value: literal, from a Secret in the release's namespace, or from the worker's environment. */
export const HeaderValue = keyedUnion(
  { secretRef: SecretKeyRef, env: EnvRef },
  {
    what: 'a header value',
    keys: 'a string, { secretRef: { name, key } } or { env: NAME }',
    scalar: z.string(),
  },
);
export type HeaderValue = z.output<typeof HeaderValue>;

export const HttpProvider = z
  .strictObject({
    /** http(s) URL; the same `{{…}}` placeholders as queries (URL-encoded). */
    url: z.string().regex(HTTP_URL, 'must be an http:// or https:// URL'),
    method: z.enum(['GET', 'POST']).default('GET'),
    headers: recordOf(z.string().regex(HTTP_TOKEN), HeaderValue, 'must be an HTTP header name').optional(),
    /** Request body (POST only). */
    body: z.string().optional(),
    /** Where the number is in the JSON answer: `$`, `$.accuracy`, `$.scores[0].value`, `$['f1-score']`. */
    value: z
      .string()
      .regex(JSON_PATH, "must be a JSON path such as $.accuracy, $.scores[0] or $['f1-score']"),
    timeout: positive.default('10s'),
  })
  .refine((h) => h.body === undefined || h.method === 'POST', {
    message: 'a body needs method POST',
    path: ['body'],
  });

/** A Kubernetes Job; its value is the number its container writes as termination message. */
export const JobProvider = z.strictObject({
  image: z.string('an image is required').min(1, 'an image is required'),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  timeout: positive.default('10m'),
  backoffLimit: z.int().min(0).max(10).optional(),
  /** Pod-template annotations (e.g. for a sidecar injector, or the local stack's KWOK markers). */
  annotations: stringMap.optional(),
});

/**
 * A statistical judge (Kayenta-like): samples of `candidate` and `baseline` (range queries over
 * `range`) compared with a one-sided Mann-Whitney U test. The gate fails when the candidate is worse
 * (`worseIf`) with `confidence` and by more than `tolerance` (relative: 0.25 = 25% worse than the
 * baseline's median); fewer than `minSamples` samples on either side = no data.
 */
export const JudgeProvider = z.strictObject({
  test: z.literal('mann-whitney'),
  candidate: z.string().min(1, 'a candidate query is required'),
  baseline: z.string().min(1, 'a baseline query is required'),
  worseIf: z.enum(['higher', 'lower']),
  confidence: z
    .number()
    .min(0.5, 'confidence is 0.5..0.9999')
    .max(0.9999, 'confidence is 0.5..0.9999')
    .default(0.95),
  tolerance: z.number().min(0, 'tolerance must not be negative').default(0),
  minSamples: z.int().min(3, 'minSamples must be at least 3').default(10),
  range: QueryRange.default({ duration: '5m', step: '15s' }),
});

const gateCommon = {
  name: dnsLabel,
  /** Time between measurements. */
  interval: positive.default('30s'),
  /** Failed measurements tolerated before the gate fails (0 = the first failure fails). */
  failureLimit: z.int().min(0).default(0),
  /** Passing measurements in a row before a gate that must pass (build) has passed. */
  consecutiveSuccesses: z.int().min(1).default(1),
  /** What a measurement without a value means: inconclusive pauses the release for a human. */
  onNoData: z.enum(['inconclusive', 'fail', 'pass']).default('inconclusive'),
};

export const PrometheusGate = z.strictObject({
  ...gateCommon,
  prometheus: PrometheusProvider,
  pass: PassRange,
});
export type PrometheusGate = z.output<typeof PrometheusGate>;

/**
 * A model-quality check against the stable version: the candidate's score may be worse than the
 * score recorded when the current stable was released by at most `tolerance` (absolute, in the
 * score's units; `better` says which way is better). No recorded score (a first release, or a stable
 * released without this gate) = only `pass` applies. Scores of build gates are recorded on promotion.
 */
export const Regression = z.strictObject({
  better: z.enum(['higher', 'lower'], 'better is higher or lower'),
  tolerance: z.number().min(0, 'tolerance must not be negative').default(0),
});
export type Regression = z.output<typeof Regression>;

/** Evaluator gates (http, job) decide by a pass range, by regression against stable, or both. */
const evaluatorDecision = {
  pass: PassRange.optional(),
  regression: Regression.optional(),
};
const needsDecision = {
  message: 'give pass (a range), regression (against the stable version) or both',
  path: ['pass'],
};
function hasDecision(gate: { pass?: unknown; regression?: unknown }): boolean {
  return gate.pass !== undefined || gate.regression !== undefined;
}

export const HttpGate = z
  .strictObject({ ...gateCommon, http: HttpProvider, ...evaluatorDecision })
  .refine(hasDecision, needsDecision);
export type HttpGate = z.output<typeof HttpGate>;
export const JobGate = z
  .strictObject({ ...gateCommon, job: JobProvider, ...evaluatorDecision })
  .refine(hasDecision, needsDecision);
export type JobGate = z.output<typeof JobGate>;
/** A judge decides by its test: it has no pass range. */
export const JudgeGate = z.strictObject({
  ...gateCommon,
  judge: JudgeProvider,
  pass: z
    .never('a judge decides by its test: it takes no pass range (see judge.confidence and judge.tolerance)')
    .optional(),
});
export type JudgeGate = z.output<typeof JudgeGate>;

export const GATE_PROVIDERS = ['prometheus', 'http', 'job', 'judge'] as const;
export type GateProvider = (typeof GATE_PROVIDERS)[number];

export const GateSpec = keyedUnion(
  { prometheus: PrometheusGate, http: HttpGate, job: JobGate, judge: JudgeGate },
  { what: 'a gate', keys: 'given exactly one provider: prometheus, http, job or judge' },
);
export type GateSpec = z.output<typeof GateSpec>;

// ---- the release spec ---------------------------------------------------------------------------

const GATED_STAGES = ['build', 'shadow', 'canary'] as const;

export const ReleaseSpec = z
  .strictObject({
    model: modelName,
    namespace: dnsLabel,
    version: labelValue,
    serving: ServingSpec,
    traffic: TrafficSpec.default({ router: 'gateway-api' }),
    build: BuildSpec.optional(),
    shadow: ShadowSpec.optional(),
    canary: CanarySpec.optional(),
    promote: PromoteSpec.optional(),
    gates: z.array(GateSpec).default([]),
  })
  .superRefine((spec, ctx) => {
    const defined = new Map<string, GateSpec>();
    spec.gates.forEach((gate, index) => {
      if (defined.has(gate.name))
        ctx.addIssue({
          code: 'custom',
          path: ['gates', index, 'name'],
          message: `gate ${gate.name} is defined twice`,
        });
      else defined.set(gate.name, gate);
    });
    for (const stage of GATED_STAGES) {
      const listed = new Set<string>();
      spec[stage]?.gates?.forEach((name, index) => {
        const path = [stage, 'gates', index];
        const gate = defined.get(name);
        if (!gate) ctx.addIssue({ code: 'custom', path, message: `gate ${name} is not defined in gates` });
        else if (listed.has(name))
          ctx.addIssue({ code: 'custom', path, message: `gate ${name} is listed twice` });
        else if (stage === 'build' && 'judge' in gate) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `gate ${name} is a judge of live traffic: it cannot run in build (no candidate serves yet)`,
          });
        }
        listed.add(name);
      });
    }
    if (spec.shadow && spec.traffic.router === 'replica-ratio') {
      ctx.addIssue({
        code: 'custom',
        path: ['shadow'],
        message: 'shadow needs mirrored traffic: use traffic.router gateway-api',
      });
    }
  })
  .transform((spec) => ({
    ...spec,
    traffic:
      spec.traffic.router === 'gateway-api'
        ? { ...spec.traffic, route: spec.traffic.route ?? spec.model }
        : spec.traffic,
  }));

export type ReleaseSpecInput = z.input<typeof ReleaseSpec>;
export type ReleaseSpec = z.output<typeof ReleaseSpec>;
export type TrafficSpec = ReleaseSpec['traffic'];
export type GatewayApiTraffic = Extract<TrafficSpec, { router: 'gateway-api' }>;
export type ReplicaRatioTraffic = Extract<TrafficSpec, { router: 'replica-ratio' }>;
