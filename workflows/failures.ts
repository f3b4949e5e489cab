// The typed failure vocabulary shared by workflows, activities and the API: every failure that
// ends or rolls back a release carries one of these ApplicationFailure types.
export const FailureType = {
  /** The release spec did not validate (never retried). */
  InvalidReleaseSpec: 'InvalidReleaseSpec',
  /** Server-side dry-run rejected a rendered object (RBAC, quota, admission, schema). */
  DryRunFailed: 'DryRunFailed',
  /** The candidate cannot fit: requested resources exceed what nodes or quotas allow. */
  InsufficientCapacity: 'InsufficientCapacity',
  /** A Deployment exceeded its progress deadline or its pods failed. */
  RolloutFailed: 'RolloutFailed',
  /** A build/evaluation Job failed or timed out. */
  JobFailed: 'JobFailed',
  /** A gate decided against the candidate. */
  GateFailed: 'GateFailed',
  /** A human rejected the release at an approval. */
  ApprovalRejected: 'ApprovalRejected',
  /** An approval was not given in time and its onTimeout said reject. */
  ApprovalTimedOut: 'ApprovalTimedOut',
  /** Someone aborted the release (API verb or workflow cancellation). */
  ReleaseAborted: 'ReleaseAborted',
  /** The traffic router did not reach the requested weights. */
  TrafficNotApplied: 'TrafficNotApplied',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Failures that must never be retried by an activity retry policy. */
export const nonRetryableFailureTypes: readonly FailureType[] = [
  FailureType.InvalidReleaseSpec,
  FailureType.DryRunFailed,
  FailureType.InsufficientCapacity,
  FailureType.RolloutFailed,
  FailureType.JobFailed,
];
