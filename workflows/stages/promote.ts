// promote: approval and promotion window (durable timers), then the stable Deployment rolls to the
// candidate's template, 100% to stable, mirror and candidate removed. Mode `rolling` keeps the
// canary weights while stable rolls (needs only surge capacity); `handoff` first sends 100% to the
// candidate (double capacity, users never see a half-rolled stable).
import { ApplicationFailure, condition } from '@temporalio/workflow';
import { compensation, kube } from '../activities.ts';
import { nextPromotionTime } from '../calendar.ts';
import { workflowIsoNow, workflowNow } from '../clock.ts';
import { durationMs } from '../duration.ts';
import { FailureType } from '../failures.ts';
import type { ReleaseRun } from '../release-run.ts';
import { CompensationRank } from '../saga.ts';
import type { StableSnapshot } from '../../activities/kubernetes/deployments.ts';
import { setCanaryWeight } from './canary.ts';
import { waitForTrack } from './rollout.ts';
import { whileGatesHold } from './gates.ts';

/** Waits for an allowed promotion window outside every freeze. promote-now skips windows, not freezes. */
async function waitForPromotionWindow(run: ReleaseRun): Promise<void> {
  const windows = run.spec.promote?.windows ?? [];
  const freezes = run.spec.promote?.freezes ?? [];
  if (windows.length === 0 && freezes.length === 0) return;
  for (;;) {
    const now = new Date(workflowNow());
    const next = nextPromotionTime(now, run.promoteNowBy ? [] : windows, freezes);
    if (!next) {
      throw ApplicationFailure.nonRetryable('no promotion window within the next year', FailureType.ApprovalTimedOut);
    }
    const waitMs = next.getTime() - now.getTime();
    if (waitMs <= 0) return;
    run.showWait('AwaitingPromotionWindow', { kind: 'promotion-window', what: `promotion allowed from ${next.toISOString()}`, since: workflowIsoNow() });
    run.note(`waiting for the promotion window: ${next.toISOString()}`);
    const promotedNow = run.promoteNowBy !== undefined;
    await condition(() => run.abortedBy !== undefined || (!promotedNow && run.promoteNowBy !== undefined), waitMs);
    run.throwIfAborted();
    run.endWait();
  }
}

export async function promoteStage(run: ReleaseRun, snapshot: StableSnapshot): Promise<void> {
  const { spec } = run;
  const promote = spec.promote;
  await run.enterStage('promote', `promoting ${spec.version}`);
  const canaryGates = spec.canary?.gates ?? [];
  if (promote?.approval?.required && !run.promoteNowBy) {
    const timeoutMs = promote.approval.timeout ? durationMs(promote.approval.timeout) : undefined;
    await whileGatesHold(run, canaryGates, async () => {
      await run.awaitApproval('promotion', timeoutMs, promote.approval?.onTimeout ?? 'reject');
    });
  }
  // Waiting for a window can take days: gates are not evaluated meanwhile, so that the history stays
  // bounded (a measurement every interval for days would approach Temporal's history limit).
  await waitForPromotionWindow(run);

  if (promote?.mode === 'handoff') {
    // handoff: the candidate (already at full size) takes all traffic while stable rolls, so users
    // never meet a half-rolled stable; costs double capacity for the duration.
    await setCanaryWeight(run, 100);
    run.note(`handoff: 100% of traffic on ${spec.version} while the stable Deployment rolls`);
  }
  // From here on a rollback must also put the stable Deployment back as it was.
  run.saga.register('stable', CompensationRank.stable, async () => {
    await compensation.restoreStable({ spec, snapshot });
    await waitForTrack(run, 'stable').catch(() => undefined);
  });
  await kube.deployStable({ releaseId: run.status.releaseId, spec, autoscaled: snapshot.autoscaled, qualityScores: run.status.qualityScores });
  const message = await waitForTrack(run, 'stable');
  run.note(`stable rolled to ${spec.version}: ${message}`);
  await kube.resetTraffic({ spec });
  run.status.weights = { stable: 100, canary: 0 };
  run.status.mirrorPercent = null;
  await kube.removeCandidate({ spec });
  run.saga.forget('stable');
  run.saga.forget('traffic');
  run.saga.forget('candidate');
  run.note(`${spec.version} is stable and serves 100% of traffic; candidate removed`);
}
