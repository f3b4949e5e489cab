// zod schemas of the API's parameters, queries, bodies and responses (they also make the OpenAPI
// document). The release spec itself is workflows/spec.ts's ReleaseSpec.
import { z } from 'zod';
import { dnsLabel, modelName } from '../workflows/spec/index.ts';

export const ReleaseParams = z.strictObject({ namespace: dnsLabel, model: modelName });

export const ActionParams = ReleaseParams.extend({
  action: z.enum(['approve', 'reject', 'pause', 'resume', 'abort', 'promote']),
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
  stage: z.enum(['build', 'shadow', 'canary', 'promote', 'rollback', 'done']).optional(),
  outcome: z.enum(['Promoted', 'RolledBack', 'Failed']).optional(),
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

/** The release status (workflows/status.ts); documented by its main fields. */
export const ReleaseStatusDoc = z
  .looseObject({
    releaseId: z.string(),
    model: z.string(),
    namespace: z.string(),
    version: z.string(),
    stage: z.string(),
    phase: z.string().optional(),
    weights: z.object({ stable: z.number(), canary: z.number() }).optional(),
    gates: z.record(z.string(), z.unknown()).optional(),
    measurements: z.array(z.unknown()).optional(),
    approvals: z.array(z.unknown()).optional(),
    outcome: z.unknown().optional(),
  })
  .meta({ id: 'ReleaseStatus', description: 'The release status: see workflows/status.ts and docs/gates.md' });

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
