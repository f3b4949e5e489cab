// A gate: a named check with a provider (exactly one of prometheus, http, job, judge), how often it
// measures, how many failures it tolerates, and how it decides. Pure.
import { z } from 'zod';
import { HttpProvider, JobProvider, JudgeProvider, PrometheusProvider } from './gate-providers.ts';
import { dnsLabel } from './names.ts';
import { intIn, keyedUnion, positiveDuration } from './zod-shapes.ts';

/** The pass range of a measured value (inclusive bounds). */
const PassRange = z
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

const gateCommon = {
  name: dnsLabel,
  /** Time between measurements. */
  interval: positiveDuration('24h').prefault('30s'),
  /** Failed measurements tolerated before the gate fails (0 = the first failure fails). */
  failureLimit: intIn(0, 1000).default(0),
  /** Passing measurements in a row before a gate that must pass (build) has passed. */
  consecutiveSuccesses: intIn(1, 1000).default(1),
  /**
   * Measurements in a row that end in an error (provider unreachable, query rejected) tolerated
   * before the release pauses for a human; a measurement with a value resets the count.
   */
  consecutiveErrorLimit: intIn(1, 100).default(3),
  /** What a measurement without a value means: inconclusive pauses the release for a human. */
  onNoData: z.enum(['inconclusive', 'fail', 'pass']).default('inconclusive'),
};

const PrometheusGate = z.strictObject({
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
const Regression = z.strictObject({
  better: z.enum(['higher', 'lower'], 'better is higher or lower'),
  tolerance: z.number().min(0, 'tolerance must not be negative').default(0),
});

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

const HttpGate = z
  .strictObject({ ...gateCommon, http: HttpProvider, ...evaluatorDecision })
  .refine(hasDecision, needsDecision);
export type HttpGate = z.output<typeof HttpGate>;
const JobGate = z
  .strictObject({ ...gateCommon, job: JobProvider, ...evaluatorDecision })
  .refine(hasDecision, needsDecision);
export type JobGate = z.output<typeof JobGate>;
/** A judge decides by its test: it has no pass range. */
const JudgeGate = z.strictObject({
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
