// The candidate is watched, always: during every hold and wait a watch on the `<model>-canary`
// Deployment ends the release at once when it is deleted, replaced or has no available pods, and
// before traffic moves or the promotion starts a read checks the same. Either way the failure is
// CandidateLost with a sentence that says what happened.
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  isCancellation,
  patched,
  proxyActivities,
} from '@temporalio/workflow';
import type { Activities } from '../../activities/index.ts';
import { kube } from '../activities.ts';
import { FailureType } from '../failures.ts';
import type { ReleaseRun } from '../release-run.ts';
import { routerOf } from '../spec/reading.ts';

/** The watch lasts as long as the hold (an approval can wait for weeks); its heartbeats prove it alive. */
const watcher = proxyActivities<Activities>({
  startToCloseTimeout: '365 days',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
});

function candidateLost(run: ReleaseRun, how: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `the candidate Deployment ${run.spec.model}-canary ${how}`,
    FailureType.CandidateLost,
  );
}

/** Available pods the candidate must keep: all tracks that may get traffic need one. */
function minAvailable(run: ReleaseRun): number {
  return routerOf(run.spec).candidateFullSize || run.status.weights.canary > 0 ? 1 : 0;
}

/** Whether this release watches its candidate (it created one, and the code that does it ran from the start). */
export function watchesCandidate(run: ReleaseRun): boolean {
  return run.candidateUid !== undefined && patched('watch-candidate');
}

/**
 * Resolves never; rejects with CandidateLost when the candidate is lost. A watch that cannot run
 * (retries exhausted) is noted and leaves the checks before traffic moves and before promotion.
 */
export async function untilCandidateLost(run: ReleaseRun): Promise<never> {
  const uid = run.candidateUid ?? '';
  try {
    const lost = await watcher.watchCandidate({
      namespace: run.spec.namespace,
      model: run.spec.model,
      uid,
      minAvailable: minAvailable(run),
    });
    // The activity's reason is a whole sentence naming the candidate.
    throw ApplicationFailure.nonRetryable(lost.reason, FailureType.CandidateLost);
  } catch (error) {
    if (
      isCancellation(error) ||
      (error instanceof ApplicationFailure && error.type === FailureType.CandidateLost)
    )
      throw error;
    run.candidateWatchFailures += 1;
    const cause = error instanceof ActivityFailure && error.cause ? error.cause.message : String(error);
    run.note(
      `could not watch the candidate (${cause}); it is checked before traffic moves and before promotion`,
    );
    await condition(() => false);
    throw error;
  }
}

/**
 * Fails with CandidateLost unless the candidate is the one this release created and `ready` pods
 * serve. With `unlessVouched`, a candidate a watch has just vouched for is not read again.
 */
export async function assertCandidateServes(
  run: ReleaseRun,
  before: string,
  options: { unlessVouched?: boolean } = {},
): Promise<void> {
  const uid = run.candidateUid;
  if (uid === undefined || (options.unlessVouched && run.candidateVouched) || !patched('check-candidate'))
    return;
  const seen = await kube.observeCandidate({ namespace: run.spec.namespace, model: run.spec.model });
  if (!seen.exists) throw candidateLost(run, `was deleted (seen ${before})`);
  if (seen.uid !== uid)
    throw candidateLost(run, `was replaced by another Deployment of that name (seen ${before})`);
  if (seen.deleting) throw candidateLost(run, `is being deleted (seen ${before})`);
  const needed = routerOf(run.spec).candidateFullSize ? 1 : 0;
  if (seen.availableReplicas < needed) {
    throw candidateLost(
      run,
      `has no available pods (${seen.readyReplicas}/${seen.replicas} ready, seen ${before}): it cannot take traffic`,
    );
  }
}
