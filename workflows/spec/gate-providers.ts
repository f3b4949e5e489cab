// Where a gate's value comes from: a PromQL query, an HTTP evaluator, a Kubernetes Job, or a
// statistical judge of candidate against stable. Pure.
import { z } from 'zod';
import type { Duration } from '../duration.ts';
import { annotations, imageReference, dnsSubdomain } from './names.ts';
import { intIn, keyedUnion, positiveDuration, recordOf } from './zod-shapes.ts';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const JSON_PATH = /^\$(\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\]|\['[^']*'\]|\["[^"]*"\])*$/;
const HTTP_URL = /^https?:\/\/[^\s/?#]+[^\s]*$/;

/** Prometheus refuses a range query of more than 11,000 points per series. */
const MAX_RANGE_POINTS = 11_000;

/** A range query: samples over the last `duration` (at most 30 days), every `step`. */
const rangeShape = { duration: positiveDuration('30d'), step: positiveDuration('30d') };

/** `step` ≤ `duration`, and no more than MAX_RANGE_POINTS samples per series. */
function checkRange(range: { duration: Duration; step: Duration }, ctx: z.RefinementCtx): void {
  // zod runs this check even when a duration failed its own schema (that one has its issue already,
  // and its value is then not a parsed duration).
  const duration = parsedMs(range.duration);
  const step = parsedMs(range.step);
  if (duration === undefined || step === undefined) return;
  if (step > duration) {
    ctx.addIssue({ code: 'custom', path: ['step'], message: 'step must not exceed duration' });
  } else if (duration / step > MAX_RANGE_POINTS) {
    ctx.addIssue({
      code: 'custom',
      path: ['step'],
      message: `step is too small for duration: Prometheus returns at most ${MAX_RANGE_POINTS} samples per series`,
    });
  }
}

/** The milliseconds of a duration its schema parsed; undefined when it failed (the value is the raw input). */
function parsedMs(value: Duration | undefined): number | undefined {
  return typeof value === 'object' && value !== null ? value.ms : undefined;
}

const QueryRange = z.strictObject(rangeShape).superRefine(checkRange);

const PrometheusRange = z
  .strictObject({
    ...rangeShape,
    /** How the samples become the gate's value. */
    aggregate: z.enum(['mean', 'min', 'max', 'last']).default('mean'),
  })
  .superRefine(checkRange);
export type PrometheusRange = z.output<typeof PrometheusRange>;

export const PrometheusProvider = z.strictObject({
  /** PromQL; `{{model}}`, `{{namespace}}`, `{{version}}`, `{{stableVersion}}` are substituted. */
  query: z.string().min(1, 'a query is required'),
  /** Leave out for an instant query (the first finite value of the result is the gate's value). */
  range: PrometheusRange.optional(),
});

const SecretKeyRef = z.strictObject({
  secretRef: z.strictObject({
    name: dnsSubdomain,
    key: z.string().max(253).regex(SECRET_KEY, 'must be a Secret key (letters, digits, -, _ and .)'),
  }),
});
const EnvRef = z.strictObject({
  env: z.string().regex(ENV_NAME, 'must be an environment variable name of the worker'),
});

/** A header value: literal, from a Secret in the release's namespace, or from the worker's environment. */
const HeaderValue = keyedUnion(
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
    /** Per request, at most 5 minutes (the measuring activity's timeout is derived from it). */
    timeout: positiveDuration('5m').prefault('10s'),
  })
  .refine((h) => h.body === undefined || h.method === 'POST', {
    message: 'a body needs method POST',
    path: ['body'],
  });

/** A Kubernetes Job; its value is the number its container writes as termination message. */
export const JobProvider = z.strictObject({
  image: imageReference,
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  /** The Job's activeDeadlineSeconds; one measurement, so at most a day. */
  timeout: positiveDuration('24h').prefault('10m'),
  backoffLimit: intIn(0, 10).optional(),
  /** Pod-template annotations (e.g. for a sidecar injector, or the local stack's KWOK markers). */
  annotations: annotations.optional(),
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
  minSamples: intIn(3, MAX_RANGE_POINTS, `minSamples is 3..${MAX_RANGE_POINTS}`).default(10),
  range: QueryRange.prefault({ duration: '5m', step: '15s' }),
});
