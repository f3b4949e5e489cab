// zod schemas of the API's parameters, queries, bodies and responses (they also make the OpenAPI
// document). The release spec itself is workflows/spec/'s ReleaseSpec; the words (stages, phases,
// outcomes, pause reasons, actions) are workflows/vocabulary.ts's.
import { z } from 'zod';
import { dnsLabel, modelName } from '../workflows/spec/index.ts';
import {
  OUTCOMES,
  PAUSE_REASONS,
  PHASES,
  RELEASE_ACTIONS,
  STAGES,
  STRATEGIES,
} from '../workflows/vocabulary.ts';

export const ReleaseParams = z.strictObject({ namespace: dnsLabel, model: modelName });

export const ActionParams = ReleaseParams.extend({
  action: z.enum(RELEASE_ACTIONS),
});

const booleanFlag = z.enum(['true', 'false']).transform((v) => v === 'true');

export const StartQuery = z.strictObject({
  dryRun: booleanFlag.optional(),
  supersede: booleanFlag.optional(),
});

export const PageQuery = {
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
  pageToken: z.string().max(2000).optional(),
};

export const ListQuery = z.strictObject({
  namespace: dnsLabel.optional(),
  model: modelName.optional(),
  stage: z.enum(STAGES).optional(),
  outcome: z.enum(OUTCOMES).optional(),
  ...PageQuery,
});

export const HistoryQuery = z.strictObject(PageQuery);

export const ActionBody = z
  .strictObject({ comment: z.string().min(1).max(2000).optional() })
  .nullish()
  .meta({ id: 'ActionBody', description: 'An optional comment (required to reject).' });

export const StartedRelease = z
  .object({
    releaseId: z.string(),
    workflowId: z.string(),
    runId: z.string(),
    namespace: z.string(),
    model: z.string(),
    version: z.string(),
    retryOf: z.string().optional().meta({ description: 'The run this release retries (retry only)' }),
    links: z.object({ self: z.string(), events: z.string(), history: z.string() }),
  })
  .meta({ id: 'StartedRelease' });

export const DryRunResult = z
  .object({
    dryRun: z.literal(true),
    valid: z.literal(true),
    objects: z.array(z.object({ kind: z.string(), name: z.string(), namespace: z.string() })),
    capacity: z.unknown(),
  })
  .meta({ id: 'DryRunResult' });

const PauseCondition = z
  .looseObject({
    reason: z.enum(PAUSE_REASONS),
    message: z.string(),
    since: z.string(),
    by: z.string().optional(),
    deadline: z.string().optional(),
  })
  .meta({ id: 'PauseCondition', description: 'Why the release is not moving (several can hold at once)' });

const PendingDecision = z
  .looseObject({
    decides: z.enum(['approval', 'gate-verdict']),
    what: z.string(),
    since: z.string(),
    deadline: z.string().optional(),
  })
  .meta({ id: 'PendingDecision', description: 'The decision approve/reject take now' });

const ReleaseOutcome = z
  .looseObject({
    result: z.enum(OUTCOMES),
    reason: z.string(),
    failureType: z.string().optional(),
    decidingMeasurement: z.unknown().optional(),
    at: z.string().optional(),
  })
  .meta({ id: 'ReleaseOutcome' });

/**
 * The release status (workflows/status.ts); documented by its main fields. Only the fields every
 * release has are required: a release that failed before it could run, or an older one, lacks the rest.
 */
export const ReleaseStatusDoc = z
  .looseObject({
    releaseId: z.string(),
    model: z.string(),
    namespace: z.string(),
    version: z.string(),
    submittedBy: z.string().optional(),
    retryOf: z.string().optional().meta({ description: 'The run this release retries (same spec)' }),
    stage: z.enum(STAGES),
    phase: z.enum(PHASES),
    paused: z.boolean().optional(),
    pauseReasons: z.array(PauseCondition).optional(),
    pendingDecision: PendingDecision.optional(),
    promoteNow: z.looseObject({ by: z.string(), at: z.string() }).optional(),
    policy: z.looseObject({ separationOfDuties: z.boolean() }).optional(),
    weights: z.object({ stable: z.number(), canary: z.number() }).optional(),
    gates: z.record(z.string(), z.unknown()).optional(),
    measurements: z.array(z.unknown()).optional(),
    approvals: z.array(z.unknown()).optional(),
    timeline: z.array(z.unknown()).optional(),
    outcome: ReleaseOutcome.optional(),
    strategy: z.enum(STRATEGIES).optional().meta({ description: 'strategy.type of the spec' }),
    downtime: z
      .looseObject({ since: z.string(), expectedSeconds: z.number(), message: z.string() })
      .optional()
      .meta({ description: 'A recreate is under way: no version serves until the new one is ready' }),
    warmStandby: z
      .looseObject({ version: z.string(), until: z.string() })
      .optional()
      .meta({ description: 'Blue-green after the switch: the old version is kept warm until `until`' }),
  })
  .meta({
    id: 'ReleaseStatus',
    description: 'The release status: see workflows/status.ts and docs/gates.md',
  });

export const ReleaseList = z
  .object({
    items: z.array(
      z.object({
        releaseId: z.string(),
        workflowId: z.string(),
        runId: z.string(),
        namespace: z.string().optional(),
        model: z.string().optional(),
        version: z.string().optional(),
        stage: z.string().optional(),
        outcome: z.string().optional(),
        status: z.string(),
        startTime: z.string().optional(),
        closeTime: z.string().optional(),
      }),
    ),
    nextPageToken: z.string().optional(),
  })
  .meta({ id: 'ReleaseList' });
