// A model's first release: no stable version yet, so — once the promotion approval, windows and
// freezes allow it — the candidate is deployed as stable directly, its gates evaluated, and the
// route (if any) set to 100% stable. Its rollback removes everything it created (the Deployment,
// and the Services and route recorded in build).
import { patched } from '@temporalio/workflow';
import { kube } from '../activities.ts';
import type { ReleaseRun } from '../release-run.ts';
import type { StableSnapshot } from '../../activities/kubernetes/deployments.ts';
import { waitForTrack } from './rollout.ts';
import { untilGatesPass } from './gates.ts';
import { awaitPromotionGoAhead } from './promote.ts';
import { verifiesAfterPromotion, verifyStage } from './verify.ts';
import { firstReleaseGates } from '../spec/reading.ts';

export async function firstReleaseStage(run: ReleaseRun, snapshot: StableSnapshot): Promise<void> {
  const { spec } = run;
  await run.enterStage('promote', `first release of ${spec.model}: deploying ${spec.version} as stable`);
  // Added after releases were running: older first releases ignored the promotion's approval,
  // windows and freezes (a release during a freeze deployed).
  if (patched('first-release-promotion-rules')) await awaitPromotionGoAhead(run, []);
  await kube.ensureServices({ spec });
  // Rolling back a first release restores the prior state: no Deployment.
  run.compensations.stableMayChange(snapshot);
  await kube.deployStable({
    releaseId: run.status.releaseId,
    spec,
    autoscaled: snapshot.autoscaled,
    qualityScores: run.status.qualityScores,
  });
  const message = await waitForTrack(run, 'stable');
  run.note(`stable deployed: ${message}`);
  await kube.setTrafficWeights({ spec, weights: { stable: 100, canary: 0 } });
  run.status.weights = { stable: 100, canary: 0 };
  run.trafficTookEffect();
  await untilGatesPass(run, firstReleaseGates(spec), true);
  if (verifiesAfterPromotion(run)) await verifyStage(run, undefined);
  run.compensations.settled('stable', 'created-objects');
}
