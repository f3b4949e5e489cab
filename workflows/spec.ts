// The release spec: what a user submits (DESIGN §4). One zod schema is the single source of truth
// for the workflow, the activities, the API and the CLI; TypeScript types are derived from it.
// Imported inside the workflow sandbox: pure, no I/O.
import { z } from 'zod';
import { durationString } from './duration.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const QUANTITY = /^([+-]?\d+(\.\d+)?|[+-]?\.\d+)([eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;
const RESOURCE_NAME = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const PERCENT = /^\d{1,3}%$/;

export const dnsLabel = z
  .string()
  .max(63, 'must be at most 63 characters (a DNS-1123 label)')
  .regex(DNS1123_LABEL, 'must be a DNS-1123 label: lower-case letters, digits and -, starting and ending alphanumeric');

const labelValue = z
  .string()
  .min(1)
  .max(63, 'must be at most 63 characters (a label value)')
  .regex(LABEL_VALUE, 'must be a Kubernetes label value: letters, digits, -, _ and ., starting and ending alphanumeric');

const quantity = z
  .union([z.string().regex(QUANTITY, 'must be a Kubernetes quantity such as 500m, 2, 8Gi'), z.number().nonnegative()])
  .transform(String);
const resourceList = z.record(z.string().regex(RESOURCE_NAME, 'must be a resource name such as cpu, memory or nvidia.com/gpu'), quantity);
const intOrPercent = z.union([z.int().min(0), z.string().regex(PERCENT, 'must be an integer or a percentage such as 25%')]);
const port = z.int().min(1).max(65535);

const probeTiming = {
  initialDelaySeconds: z.int().min(0).optional(),
  periodSeconds: z.int().min(1).optional(),
  timeoutSeconds: z.int().min(1).optional(),
  failureThreshold: z.int().min(1).optional(),
  successThreshold: z.int().min(1).optional(),
};
export const ProbeSpec = z
  .strictObject({
    httpGet: z.strictObject({ path: z.string().startsWith('/'), port: z.union([port, z.string().min(1)]) }).optional(),
    tcpSocket: z.strictObject({ port: z.union([port, z.string().min(1)]) }).optional(),
    ...probeTiming,
  })
  .refine((p) => (p.httpGet === undefined) !== (p.tcpSocket === undefined), { message: 'a probe needs exactly one of httpGet or tcpSocket' });
export type ProbeSpec = z.output<typeof ProbeSpec>;

export const ServingSpec = z.strictObject({
  image: z.string().min(1, 'an image is required'),
  modelUri: z.string().min(1).optional(),
  port: port.default(8000),
  replicas: z.int().min(0).max(1000).default(1),
  resources: z.strictObject({ requests: resourceList.optional(), limits: resourceList.optional() }).optional(),
  env: z.array(z.strictObject({ name: z.string().regex(ENV_NAME, 'must be an environment variable name'), value: z.string() })).optional(),
  /** Pod template annotations (the local simulator reads version behaviour from them). */
  annotations: z.record(z.string().min(1), z.string()).optional(),
  labels: z.record(z.string().min(1), labelValue).optional(),
  probes: z.strictObject({ readiness: ProbeSpec.optional(), liveness: ProbeSpec.optional(), startup: ProbeSpec.optional() }).optional(),
  rollingUpdate: z.strictObject({ maxSurge: intOrPercent.default('25%'), maxUnavailable: intOrPercent.default(0) }).default({ maxSurge: '25%', maxUnavailable: 0 }),
  progressDeadlineSeconds: z.int().min(1).max(86_400).default(600),
});
export type ServingSpec = z.output<typeof ServingSpec>;

export const TrafficSpec = z.discriminatedUnion('router', [
  z.strictObject({
    router: z.literal('gateway-api'),
    /** HTTPRoute name; defaults to the model's name. */
    route: dnsLabel.optional(),
    /** parentRefs Slipway sets; leave out to let users own them. */
    parentRefs: z.array(z.record(z.string(), z.unknown())).optional(),
  }),
  z.strictObject({ router: z.literal('replica-ratio') }),
]);
export type TrafficSpec = z.output<typeof TrafficSpec>;

const gateNames = z.array(dnsLabel).optional();

export const BuildJobSpec = z.strictObject({
  image: z.string().min(1),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  timeout: durationString.default('30m'),
  backoffLimit: z.int().min(0).max(10).optional(),
  annotations: z.record(z.string().min(1), z.string()).optional(),
});

export const BuildSpec = z.strictObject({ job: BuildJobSpec.optional(), gates: gateNames });

export const ShadowSpec = z.strictObject({
  duration: durationString,
  mirrorPercent: z.int().min(1).max(100).default(100),
  gates: gateNames,
});

export const ApprovalSpec = z.strictObject({
  timeout: durationString.optional(),
  onTimeout: z.enum(['reject', 'approve']).default('reject'),
});

export const CanaryStep = z.union([
  z.strictObject({ weight: z.int().min(1, 'a weight is 1..100').max(100, 'a weight is 1..100'), hold: durationString.optional() }),
  z.strictObject({ approval: ApprovalSpec }),
  z.strictObject({ pause: z.strictObject({ duration: durationString.optional() }) }),
]);
export type CanaryStep = z.output<typeof CanaryStep>;

export const CanarySpec = z
  .strictObject({ steps: z.array(CanaryStep).min(1, 'a canary needs at least one step'), gates: gateNames })
  .superRefine((canary, ctx) => {
    let previous = 0;
    canary.steps.forEach((step, index) => {
      if (!('weight' in step)) return;
      if (step.weight <= previous) {
        ctx.addIssue({ code: 'custom', path: ['steps', index, 'weight'], message: `weights must increase: ${step.weight} follows ${previous}` });
      }
      previous = step.weight;
    });
  });

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const PromotionWindow = z.strictObject({
  days: z.array(z.enum(DAYS)).min(1).default([...DAYS]),
  from: z.string().regex(HHMM, 'must be HH:MM'),
  to: z.string().regex(HHMM, 'must be HH:MM'),
  timezone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin').default('UTC'),
});
export type PromotionWindow = z.output<typeof PromotionWindow>;

export const Freeze = z
  .strictObject({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }), reason: z.string().optional() })
  .refine((f) => Date.parse(f.from) < Date.parse(f.to), { message: 'a freeze must end after it starts', path: ['to'] });
export type Freeze = z.output<typeof Freeze>;

export const PromoteSpec = z.strictObject({
  mode: z.enum(['rolling']).default('rolling'),
  approval: z.strictObject({ required: z.boolean().default(true), timeout: durationString.optional(), onTimeout: z.enum(['reject', 'approve']).default('reject') }).optional(),
  windows: z.array(PromotionWindow).optional(),
  freezes: z.array(Freeze).optional(),
});

const passRange = z
  .strictObject({ min: z.number().optional(), max: z.number().optional() })
  .refine((p) => p.min !== undefined || p.max !== undefined, { message: 'pass needs min, max or both' })
  .refine((p) => p.min === undefined || p.max === undefined || p.min <= p.max, { message: 'pass.min must not exceed pass.max' });

const gateCommon = {
  name: dnsLabel,
  interval: durationString.default('30s'),
  failureLimit: z.int().min(0).default(0),
  consecutiveSuccesses: z.int().min(1).default(1),
  onNoData: z.enum(['inconclusive', 'fail', 'pass']).default('inconclusive'),
};

export const GateSpec = z.union([
  z.strictObject({ ...gateCommon, prometheus: z.strictObject({ query: z.string().min(1) }), pass: passRange }),
]);
export type GateSpec = z.output<typeof GateSpec>;

export const ReleaseSpec = z
  .strictObject({
    model: dnsLabel.max(56, 'must be at most 56 characters (the candidate Deployment is <model>-canary)'),
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
    const defined = new Set<string>();
    spec.gates.forEach((gate, index) => {
      if (defined.has(gate.name)) ctx.addIssue({ code: 'custom', path: ['gates', index, 'name'], message: `gate ${gate.name} is defined twice` });
      defined.add(gate.name);
    });
    for (const stage of ['build', 'shadow', 'canary'] as const) {
      spec[stage]?.gates?.forEach((name, index) => {
        if (!defined.has(name)) ctx.addIssue({ code: 'custom', path: [stage, 'gates', index], message: `gate ${name} is not defined in gates` });
      });
    }
    if (spec.shadow && spec.traffic.router === 'replica-ratio') {
      ctx.addIssue({ code: 'custom', path: ['shadow'], message: 'shadow needs mirrored traffic: use traffic.router gateway-api' });
    }
  });

export type ReleaseSpecInput = z.input<typeof ReleaseSpec>;
export type ReleaseSpec = z.output<typeof ReleaseSpec>;
