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
  /** The cluster's RBAC (or its authentication) does not let Slipway's worker do what a release needs. */
  Forbidden: 'Forbidden',
  /** An object that must exist does not (a namespace, a kind the cluster does not serve). */
  NotFound: 'NotFound',
  /** The apiserver refused an object as invalid (schema, strict field validation, admission). */
  InvalidObject: 'InvalidObject',
  /** A ResourceQuota is used up, or the cluster has no Service IP (or port) left to allocate. */
  ClusterCapacityExhausted: 'ClusterCapacityExhausted',
  /** The apiserver could not be reached or answered a transient error (retried with backoff). */
  ClusterUnavailable: 'ClusterUnavailable',
  /** The candidate Deployment was deleted, replaced or scaled below what it needs during a hold. */
  CandidateLost: 'CandidateLost',
  /** A gate cannot be measured as configured (missing Secret or env var, bad query, no Prometheus). */
  GateMisconfigured: 'GateMisconfigured',
  /** No allowed promotion window opens before the release's deadline (or at all). */
  NoPromotionWindow: 'NoPromotionWindow',
  /** The stable's pod template changed outside Slipway and the spec's onDrift says refuse. */
  StableDrifted: 'StableDrifted',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Failures that must never be retried by an activity retry policy. */
export const nonRetryableFailureTypes: readonly FailureType[] = [
  FailureType.InvalidReleaseSpec,
  FailureType.DryRunFailed,
  FailureType.InsufficientCapacity,
  FailureType.RolloutFailed,
  FailureType.JobFailed,
  FailureType.Forbidden,
  FailureType.NotFound,
  FailureType.InvalidObject,
  FailureType.ClusterCapacityExhausted,
  FailureType.GateMisconfigured,
];
