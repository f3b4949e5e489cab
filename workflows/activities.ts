// Activity proxies with the timeouts and retry policies of each kind of activity.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { nonRetryableFailureTypes } from './failures.ts';

const retry = {
  initialInterval: '500ms',
  backoffCoefficient: 2,
  maximumInterval: '20s',
  nonRetryableErrorTypes: [...nonRetryableFailureTypes],
};

/** Short calls to the Kubernetes API (apply, read, delete, events). */
export const kube = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { ...retry, maximumAttempts: 10 },
});

/** Kubernetes Events: best effort, never worth holding a release for. */
export const events = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { ...retry, maximumAttempts: 2 },
});

/** Rollback steps: retried until they succeed (a rollback must always finish). */
export const compensation = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { ...retry, maximumInterval: '10s' },
});

/** Waits on the cluster (rollouts, Jobs): long, heartbeating. */
export function waiting(timeoutMs: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: timeoutMs,
    heartbeatTimeout: '30 seconds',
    retry: { ...retry, maximumAttempts: 20 },
  });
}

/** Job gates: one long heartbeating wait, a few attempts, then the gate counts as inconclusive. */
export function measureByJob(timeoutMs: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: timeoutMs,
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 3 },
  });
}

/**
 * Parsing the submitted spec (activities/release-spec.ts), pure and quick. Releases parse it with a
 * regular activity: a local activity's workflow task split by a `status` query did not replay
 * (test/integration/replay-after-queries.test.ts); `specParser` stays for the releases that began so.
 */
export const specParsing = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { ...retry, maximumAttempts: 3 },
});

/** Parsing as a local activity: only for releases that began with it (patch spec-parsed-by-activity). */
export const specParser = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { ...retry, maximumAttempts: 3 },
});
