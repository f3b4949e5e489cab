// Strategies `rolling` and `recreate`: no candidate and no traffic split; the stable Deployment
// itself is updated while the strategy's gates run. `rolling` rolls it with serving.rollingUpdate
// (maxSurge / maxUnavailable); `recreate` stops the old pods before the new ones start (one version
// at a time, for models whose GPUs cannot hold two) and says the expected downtime in the status
// while no version serves. A failed gate, readiness or deadline — during the rollout, its hold, or
// the post-promotion verification — restores the previous template (compensations.ts: a rolling
// update is paused first, a recreate re-creates the old version one version at a time).
import { kube } from '../activities.ts';
import { workflowIsoNow, workflowNow } from '../clock.ts';
import type { ReleaseRun } from '../release-run.ts';
import { expectedDowntime } from '../spec/reading.ts';
import type { StableSnapshot } from '../../activities/kubernetes/deployments.ts';
import { untilGatesPass, whileWatched } from './gates.ts';
import { awaitPromotionGoAhead, checkCapacityAgain, noteHandScaledStable } from './promote.ts';
import { waitForTrack } from './rollout.ts';
import { verifiesAfterPromotion, verifyStage } from './verify.ts';

function describeRollingUpdate(run: ReleaseRun): string {
  const { maxSurge, maxUnavailable } = run.spec.serving.rollingUpdate;
  if (run.spec.serving.deploymentRef !== undefined)
    return `with the update strategy of Deployment ${run.spec.serving.deploymentRef}`;
  return `maxSurge ${maxSurge}, maxUnavailable ${maxUnavailable}`;
}

export async function inPlaceStage(run: ReleaseRun, snapshot: StableSnapshot): Promise<void> {
  const { spec } = run;
  const strategy = spec.strategy;
  if (strategy.type !== 'rolling' && strategy.type !== 'recreate') return;
  const recreate = strategy.type === 'recreate';
  const gates = strategy.gates ?? [];
  const from = snapshot.version ?? 'the unversioned stable';
  const name = spec.serving.deploymentRef ?? spec.model;
  await run.enterStage(
    'promote',
    recreate
      ? `recreate of ${name}: ${from} stops before ${spec.version} starts (one version at a time)`
      : `rolling update of ${name} from ${from} to ${spec.version} (${describeRollingUpdate(run)}); no canary split`,
  );
  await awaitPromotionGoAhead(run, []);
  await checkCapacityAgain(run);
  await noteHandScaledStable(run, snapshot);
  // The Services and route stay as they are: 100% to the stable track, which is what rolls.
  await kube.ensureServices({ spec });
  await kube.setTrafficWeights({ spec, weights: { stable: 100, canary: 0 } });

  const downtime = recreate ? expectedDowntime(spec) : undefined;
  run.compensations.stableMayChange(snapshot, recreate ? { oneVersionAtATime: true } : { pauseFirst: true });
  const started = workflowNow();
  if (downtime) {
    const message = `no version serves from now until ${spec.version} is ready: expected up to ${downtime.seconds}s (${downtime.because})`;
    run.status.downtime = { since: workflowIsoNow(), expectedSeconds: downtime.seconds, message };
    run.note(`recreate: ${from} scaled down and ${spec.version} started; ${message}`);
    await run.event('Warning', 'ExpectedDowntime', message);
  }
  run.status.step = { index: 1, total: 2, description: recreate ? 'recreate' : 'rolling update' };
  await kube.deployStable({
    releaseId: run.status.releaseId,
    spec,
    autoscaled: snapshot.autoscaled,
    qualityScores: run.status.qualityScores,
  });
  if (!downtime) run.note(`rolling update started; gates ${gates.join(', ') || '(none)'} run while it rolls`);
  run.trafficTookEffect();
  let rolled = '';
  try {
    await whileWatched(run, gates, async () => {
      rolled = await waitForTrack(run, 'stable');
    });
  } finally {
    delete run.status.downtime;
  }
  const seconds = ((workflowNow() - started) / 1000).toFixed(1);
  run.note(
    downtime
      ? `${spec.version} ready after ${seconds}s without a serving version (expected up to ${downtime.seconds}s): ${rolled}`
      : `rolled out in ${seconds}s: ${rolled}`,
  );

  const hold = strategy.hold;
  run.status.step = {
    index: 2,
    total: 2,
    description: hold ? `hold ${hold.text} with gates` : 'gates until each passes',
  };
  if (gates.length > 0 || hold) {
    // Gates are measured while it holds, then once more each (over the whole rollout and hold):
    // a rollout quicker than a gate's interval is still measured after it is complete.
    if (hold) await whileWatched(run, gates, () => run.hold(hold.ms));
    await untilGatesPass(run, gates, hold === undefined);
    run.note(
      `${spec.version} passed ${gates.join(', ') || 'its hold'} after the ${strategy.type === 'recreate' ? 'recreate' : 'rolling update'}`,
    );
  }
  delete run.status.step;
  const verifies = verifiesAfterPromotion(run);
  run.compensations.settled(...(verifies ? [] : (['stable'] as const)), 'traffic', 'created-objects');
  if (verifies) await verifyStage(run, snapshot.version);
  run.compensations.settled('stable');
}
