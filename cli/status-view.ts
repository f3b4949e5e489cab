// The release status as the CLI reads it from the API (workflows/status.ts on the wire): checked
// with zod, every field beyond the release's identity optional, so that a release that failed
// before it could run, or one recorded by an older worker, still renders.
import { z } from 'zod';
import { CliError, ExitCode } from './exit-codes.ts';

const MeasurementView = z.object({
  gate: z.string(),
  provider: z.string().optional(),
  at: z.string().optional(),
  value: z.number().optional(),
  verdict: z.string(),
  reason: z.string().optional(),
  query: z.string().optional(),
  threshold: z.object({ min: z.number().optional(), max: z.number().optional() }).optional(),
});
export type MeasurementView = z.infer<typeof MeasurementView>;

const PauseReasonView = z.object({
  reason: z.string(),
  message: z.string(),
  since: z.string().optional(),
  by: z.string().optional(),
  deadline: z.string().optional(),
});

export const StatusView = z.object({
  releaseId: z.string(),
  model: z.string(),
  namespace: z.string(),
  version: z.string(),
  stage: z.string(),
  phase: z.string(),
  submittedBy: z.string().optional(),
  retryOf: z.string().optional(),
  stableVersion: z.string().optional(),
  firstRelease: z.boolean().optional(),
  step: z.object({ index: z.number(), total: z.number(), description: z.string() }).optional(),
  weights: z.object({ stable: z.number(), canary: z.number() }).optional(),
  mirrorPercent: z.number().nullable().optional(),
  paused: z.boolean().optional(),
  pauseReasons: z.array(PauseReasonView).optional(),
  pendingDecision: z
    .object({
      decides: z.string(),
      what: z.string(),
      since: z.string().optional(),
      deadline: z.string().optional(),
    })
    .optional(),
  waitingFor: z
    .object({
      kind: z.string(),
      what: z.string(),
      since: z.string().optional(),
      deadline: z.string().optional(),
    })
    .optional(),
  promoteNow: z.object({ by: z.string(), at: z.string() }).optional(),
  policy: z.object({ separationOfDuties: z.boolean() }).optional(),
  gates: z.record(z.string(), z.object({ status: z.string(), last: MeasurementView.optional() })).optional(),
  approvals: z
    .array(
      z.object({
        decision: z.string(),
        actor: z.string(),
        at: z.string().optional(),
        comment: z.string().optional(),
      }),
    )
    .optional(),
  timeline: z.array(z.object({ at: z.string(), stage: z.string(), message: z.string() })).optional(),
  outcome: z
    .object({
      result: z.string(),
      reason: z.string(),
      failureType: z.string().optional(),
      decidingMeasurement: MeasurementView.optional(),
      at: z.string().optional(),
    })
    .optional(),
  strategy: z.string().optional(),
  downtime: z.object({ since: z.string(), expectedSeconds: z.number(), message: z.string() }).optional(),
  warmStandby: z.object({ version: z.string(), until: z.string() }).optional(),
  startedAt: z.string().optional(),
  updatedAt: z.string().optional(),
});
export type StatusView = z.infer<typeof StatusView>;

/** The status in an API answer; a CliError (one line) when it is not one. */
export function parseStatus(json: unknown): StatusView {
  const parsed = StatusView.safeParse(json);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const where = first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'unknown shape';
  throw new CliError(
    `the API answered with a release status this CLI cannot read (${where})`,
    ExitCode.apiProblem,
  );
}
