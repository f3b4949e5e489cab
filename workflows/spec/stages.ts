// The stages before promotion: build (an optional Job), shadow (mirrored traffic) and the canary
// plan (weight, approval and pause steps). Each lists the gates it evaluates by name. Pure.
import { z } from 'zod';
import { duration } from '../duration.ts';
import { annotations, imageReference, dnsLabel } from './names.ts';
import { HeaderMatches } from './strategy.ts';
import { intIn, keyedUnion, LONGEST_WAIT, positiveDuration } from './zod-shapes.ts';

const gateNames = z.array(dnsLabel).optional();

const BuildJobSpec = z.strictObject({
  image: imageReference,
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  /** The Job's activeDeadlineSeconds, at most a week. */
  timeout: positiveDuration('7d').prefault('30m'),
  backoffLimit: intIn(0, 10).optional(),
  annotations: annotations.optional(),
});

export const BuildSpec = z.strictObject({ job: BuildJobSpec.optional(), gates: gateNames });

export const ShadowSpec = z.strictObject({
  duration: positiveDuration(),
  mirrorPercent: z.int().min(1, 'mirrorPercent is 1..100').max(100, 'mirrorPercent is 1..100').default(100),
  gates: gateNames,
});

/** What happens when a human decision times out. */
export const onTimeout = z.enum(['reject', 'approve']).default('reject');

/** A human decision; `timeout` unset = wait as long as it takes; on timeout `onTimeout` decides. */
const ApprovalSpec = z.strictObject({ timeout: positiveDuration().optional(), onTimeout });

/** Traffic to the candidate, in percent; held for `hold` (none = move on once the router took it). */
const WeightStep = z.strictObject({
  /** 0 only with `canary.cohort`: the cohort alone reaches the candidate. */
  weight: z.int('a weight is a whole percentage').min(0, 'a weight is 0..100').max(100, 'a weight is 0..100'),
  hold: duration({ max: LONGEST_WAIT }).optional(),
});
export type WeightStep = z.output<typeof WeightStep>;

const ApprovalStep = z.strictObject({ approval: ApprovalSpec });
export type ApprovalStep = z.output<typeof ApprovalStep>;

/** A pause for `duration`, or until resumed when no duration is given. */
const PauseStep = z.strictObject({ pause: z.strictObject({ duration: positiveDuration().optional() }) });
export type PauseStep = z.output<typeof PauseStep>;

const CanaryStep = keyedUnion(
  { weight: WeightStep, approval: ApprovalStep, pause: PauseStep },
  { what: 'a canary step', keys: 'one of { weight, hold }, { approval } or { pause }' },
);
export type CanaryStep = z.output<typeof CanaryStep>;

/**
 * A/B cohort: requests carrying all these headers (exact values) go to the candidate during the
 * whole canary, whatever the step's weight; the other requests follow the weights.
 */
const CohortSpec = z.strictObject({ headers: HeaderMatches });

export const CanarySpec = z
  .strictObject({
    steps: z.array(CanaryStep).min(1, 'a canary needs at least one step'),
    gates: gateNames,
    cohort: CohortSpec.optional(),
  })
  .superRefine((canary, ctx) => {
    let previous = 0;
    canary.steps.forEach((step, index) => {
      if (!('weight' in step)) return;
      if (step.weight === 0 && !canary.cohort) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', index, 'weight'],
          message:
            'a weight of 0 sends nothing to the candidate: it needs canary.cohort (only the cohort then reaches it)',
        });
        return;
      }
      if (step.weight <= previous && !(step.weight === 0 && previous === 0)) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', index, 'weight'],
          message: `weights must increase from step to step: ${step.weight} follows ${previous}`,
        });
      }
      previous = Math.max(previous, step.weight);
    });
  });
