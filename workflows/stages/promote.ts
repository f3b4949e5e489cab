// promote: approval and promotion window (durable timers), a last check of the candidate, then the
// stable Deployment rolls to the candidate's template. Once stable serves the new version the
// promotion is final: routing back to stable and removing the candidate are cleanup, retried and
// reported, never a rollback. Mode `rolling` keeps the canary weights while stable rolls (needs
// only surge capacity); `handoff` first sends 100% to the candidate (double capacity, users never
// see a half-rolled stable).
import { ApplicationFailure, patched } from '@temporalio/workflow';
import { compensation, kube } from '../activities.ts';
import { nextPromotionTime } from '../calendar.ts';
import { workflowNow } from '../clock.ts';
import { FailureType } from '../failures.ts';
import { replicasToApply } from '../spec/reading.ts';
import type { ReleaseRun } from '../release-run.ts';
import type { StableSnapshot } from '../../activities/kubernetes/deployments.ts';
import { assertCandidateServes } from './candidate-watch.ts';
import { setCanaryWeight } from './canary.ts';
import { waitForTrack } from './rollout.ts';
import { whileWatched } from './gates.ts';
import { verifiesAfterPromotion, verifyStage } from './verify.ts';

/** Waits for an allowed promotion window outside every freeze. promote-now skips windows, not freezes. */
async function waitForPromotionWindow(run: ReleaseRun): Promise<void> {
  const windows = run.spec.promote?.windows ?? [];
  const freezes = run.spec.promote?.freezes ?? [];
  if (windows.length === 0 && freezes.length === 0) return;
  for (;;) {
    const now = new Date(workflowNow());
    const promotedNow = run.promoteNowEffective;
    const next = nextPromotionTime(now, promotedNow ? [] : windows, freezes);
    if (!next) {
      // Added after releases were running: older runs called this an approval timeout.
      const type = patched('no-window-failure')
        ? FailureType.NoPromotionWindow
        : FailureType.ApprovalTimedOut;
      throw ApplicationFailure.nonRetryable(
        'no promotion window within the next year: the windows and freezes leave no time to promote',
        type,
      );
    }
    const waitMs = next.getTime() - now.getTime();
    if (waitMs <= 0) return;
    run.note(`waiting for the promotion window: ${next.toISOString()}`);
    await whileWatched(run, [], () =>
      run.awaitWindow(`promotion allowed from ${next.toISOString()}`, waitMs, !promotedNow),
    );
  }
}

/**
 * Capacity can change during a long canary: what the promotion adds (the rolling update's surge, or
 * handoff's candidate at full size) must still fit, or the release rolls back before stable moves.
 */
export async function checkCapacityAgain(run: ReleaseRun): Promise<void> {
  // Added after releases were running: older runs checked capacity in build only.
  if (!patched('capacity-before-promotion')) return;
  const verdict = await kube.checkCapacity({
    spec: run.spec,
    phase: 'promotion',
    releaseId: run.status.releaseId,
  });
  run.note(`capacity checked again before the promotion: ${verdict.placeablePods} pods of what it adds fit`);
}

/** A hand scale of the stable during the release is overridden by the promotion: say so. */
export async function noteHandScaledStable(run: ReleaseRun, snapshot: StableSnapshot): Promise<void> {
  // Nothing is overridden when the spec leaves replicas to the adopted Deployment's own manager.
  const replicas = replicasToApply(run.spec);
  if (snapshot.autoscaled || replicas === undefined || !patched('note-hand-scaled-stable')) return;
  const now = await kube.captureStableState({ spec: run.spec });
  if (now.replicas === undefined || now.replicas === snapshot.replicas) return;
  const message = `the stable Deployment was scaled by hand to ${now.replicas} during the release (it had ${snapshot.replicas ?? 'none'}); the promotion sets serving.replicas ${replicas}`;
  run.note(message);
  await run.event('Warning', 'StableScaledByHand', message);
}

/**
 * What a promotion waits for — the promotion approval, then an allowed window outside every freeze —
 * for a release and for a model's first release alike. `gates` are measured during the approval.
 */
export async function awaitPromotionGoAhead(run: ReleaseRun, gates: readonly string[]): Promise<void> {
  const approval = run.spec.promote?.approval;
  await run.waitWhileStopped();
  if (approval?.required && !run.promoteNowEffective) {
    await whileWatched(run, gates, async () => {
      await run.awaitApproval('promotion', approval.timeout?.ms, approval.onTimeout);
    });
  }
  // Waiting for a window can take days: gates are not evaluated meanwhile, so that the history stays
  // bounded (a measurement every interval for days would approach Temporal's history limit); the
  // candidate is still watched (one long activity, no history growth).
  await waitForPromotionWindow(run);
  // A person's pause or an undecided gate holds the promotion, whatever asked for it.
  await run.waitWhileStopped();
}

export async function promoteStage(run: ReleaseRun, snapshot: StableSnapshot): Promise<void> {
  const { spec } = run;
  const promote = spec.promote;
  await run.enterStage('promote', `promoting ${spec.version}`);
  await awaitPromotionGoAhead(run, spec.canary?.gates ?? []);
  await assertCandidateServes(run, 'before the promotion');
  await checkCapacityAgain(run);
  await noteHandScaledStable(run, snapshot);

  if (promote?.mode === 'handoff') {
    // handoff: the candidate (already at full size) takes all traffic while stable rolls, so users
    // never meet a half-rolled stable; costs double capacity for the duration.
    await setCanaryWeight(run, 100);
    run.note(`handoff: 100% of traffic on ${spec.version} while the stable Deployment rolls`);
  }
  await rollStableToCandidate(run, snapshot);
}

/**
 * The stable Deployment rolls to the candidate's template; once it serves the new version the
 * route goes back to it and the candidate is removed (canary's promotion, blue-green's after its
 * `scaleDownDelay`). Then the post-promotion verification, if any.
 */
export async function rollStableToCandidate(run: ReleaseRun, snapshot: StableSnapshot): Promise<void> {
  const { spec } = run;
  // From here on a rollback must also put the stable Deployment back as it was.
  run.compensations.stableMayChange(snapshot);
  await kube.deployStable({
    releaseId: run.status.releaseId,
    spec,
    autoscaled: snapshot.autoscaled,
    qualityScores: run.status.qualityScores,
  });
  const message = await waitForTrack(run, 'stable');
  run.note(`stable rolled to ${spec.version}: ${message}`);
  // The new version serves from the stable track: the promotion is final, nothing is rolled back now
  // — unless it is verified first: then the stable may still go back until the verification passes.
  const verifies = verifiesAfterPromotion(run);
  run.compensations.settled(
    ...(verifies ? [] : (['stable'] as const)),
    'traffic',
    'candidate',
    'created-objects',
  );
  await cleanUpAfterPromotion(run);
  run.note(`${spec.version} is stable and serves 100% of traffic; candidate removed`);
  if (verifies) await verifyStage(run, snapshot.version);
}

/** Route to stable and remove the candidate: retried until done; a failure is reported, not undone. */
async function cleanUpAfterPromotion(run: ReleaseRun): Promise<void> {
  const { spec } = run;
  // Added after releases were running: older runs retried these a bounded number of times.
  const cleanup = patched('promotion-final') ? compensation : kube;
  try {
    await cleanup.resetTraffic({ spec });
    run.status.weights = { stable: 100, canary: 0 };
    run.status.mirrorPercent = null;
    await cleanup.removeCandidate({ spec });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    run.note(
      `promoted, but the cleanup after it failed (${reason}): remove ${spec.model}-canary and route 100% to ${spec.model}-stable by hand`,
    );
    await run.event('Warning', 'PromotionCleanupFailed', reason);
  }
}
