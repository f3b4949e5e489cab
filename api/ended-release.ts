// The status of a release whose run ended without a result of its own (it failed before it could
// run — an invalid spec, say — or was terminated, timed out or cancelled): stage `done`, phase
// `Failed`, an outcome naming the failure. What the run's status query still knows (timeline,
// weights, approvals) is kept when it answers; the rest comes from Temporal's record of the run.
import type { WorkflowExecutionDescription } from '@temporalio/client';
import type { ReleaseStatus } from '../workflows/status.ts';
import type { RecordedReleaseInput, RunFailure, RunIdentity } from './release-runs.ts';

/**
 * What the API answers for a release: the workflow's status, or for a run that ended before it
 * had one, the fields Temporal's record gives (the rest absent, so older releases render too).
 */
export type ReleaseView = Pick<
  ReleaseStatus,
  'releaseId' | 'model' | 'namespace' | 'version' | 'stage' | 'phase'
> &
  Partial<Omit<ReleaseStatus, 'releaseId' | 'model' | 'namespace' | 'version' | 'stage' | 'phase'>>;

export interface EndedRun {
  description: WorkflowExecutionDescription;
  identity: RunIdentity;
  input: RecordedReleaseInput | undefined;
  failure: RunFailure;
  /** What the run's status query answered, if it did. */
  queried: ReleaseStatus | undefined;
}

export function endedReleaseView({ description, identity, input, failure, queried }: EndedRun): ReleaseView {
  const at = (description.closeTime ?? new Date()).toISOString();
  const {
    waitingFor: _waitingFor,
    pendingDecision: _pendingDecision,
    promoteNow: _promoteNow,
    ...kept
  } = queried ?? ({} as Partial<ReleaseStatus>);
  const submittedBy = queried?.submittedBy ?? input?.submittedBy;
  const retryOf = queried?.retryOf ?? input?.retryOf;
  return {
    ...kept,
    releaseId: description.workflowId,
    ...identity,
    ...(submittedBy ? { submittedBy } : {}),
    ...(retryOf ? { retryOf } : {}),
    stage: 'done',
    phase: 'Failed',
    paused: false,
    pauseReasons: [],
    approvals: queried?.approvals ?? [],
    timeline: [...(queried?.timeline ?? []), { at, stage: 'done', message: `Failed: ${failure.reason}` }],
    outcome: { result: 'Failed', reason: failure.reason, failureType: failure.failureType, at },
    startedAt: queried?.startedAt ?? description.startTime.toISOString(),
    updatedAt: at,
  };
}
