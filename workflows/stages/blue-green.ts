// Strategy `blueGreen`: the candidate runs at full size behind a preview — requests with the preview
// headers reach it, all others the stable — while the preview gates run; then one route change
// switches all traffic to it. The old version keeps running, unchanged, for `scaleDownDelay`: until
// then a failure (an afterSwitch gate, a lost candidate, an abort) is a route flip back to it
// (compensations.ts, rank 10), then the stable is restored as recorded (a no-op unless someone
// deleted or scaled it meanwhile). After the delay the stable Deployment rolls to the new template while
// the candidate serves, the route goes back to the stable track and the candidate is removed.
import { kube } from '../activities.ts';
import { workflowNow } from '../clock.ts';
import type { ReleaseRun } from '../release-run.ts';
import type { StableSnapshot } from '../../activities/kubernetes/deployments.ts';
import { deployCandidate } from './candidate.ts';
import { assertCandidateServes } from './candidate-watch.ts';
import { untilGatesPass, whileWatched } from './gates.ts';
import {
  awaitPromotionGoAhead,
  checkCapacityAgain,
  noteHandScaledStable,
  rollStableToCandidate,
} from './promote.ts';
import { shadowStage } from './shadow.ts';

function blueGreenOf(run: ReleaseRun) {
  const strategy = run.spec.strategy;
  if (strategy.type !== 'blueGreen') throw new Error('not a blue-green release');
  return strategy;
}

/** The candidate at full size, behind its preview, measured by the preview gates. */
async function previewStage(run: ReleaseRun, snapshot: StableSnapshot): Promise<void> {
  const { spec } = run;
  const { preview } = blueGreenOf(run);
  const headers = preview.headers.map((h) => `${h.name}: ${h.value}`).join(', ');
  await run.enterStage(
    'preview',
    `stable is ${snapshot.version ?? 'unversioned'}; deploying ${spec.version} at full size behind its preview`,
  );
  await deployCandidate(run, snapshot);
  if (spec.shadow) {
    await shadowStage(run);
    await run.enterStage('preview', `shadow passed; previewing ${spec.version}`);
  }
  await assertCandidateServes(run, 'before its preview opened', { unlessVouched: true });
  await kube.setTrafficWeights({ spec, weights: { stable: 100, canary: 0 }, cohort: true });
  run.trafficTookEffect();
  const gates = preview.gates ?? [];
  run.note(
    `preview open: requests with ${headers} reach ${spec.version}, all others ${snapshot.version ?? 'the stable'}${gates.length ? `; gates ${gates.join(', ')}` : ''}`,
  );
  const hold = preview.hold;
  if (hold) await whileWatched(run, gates, () => run.hold(hold.ms));
  await untilGatesPass(run, gates, hold === undefined);
  if (gates.length > 0) run.note(`preview passed ${gates.join(', ')}`);
}

/** The switch, the warm standby, then the stable rolled to the new version. */
async function switchStage(run: ReleaseRun, snapshot: StableSnapshot): Promise<void> {
  const { spec } = run;
  const strategy = blueGreenOf(run);
  const old = snapshot.version ?? 'the previous version';
  await run.enterStage('promote', `switching all traffic to ${spec.version} in one route change`);
  await awaitPromotionGoAhead(run, strategy.preview.gates ?? []);
  await assertCandidateServes(run, 'before the switch');
  await checkCapacityAgain(run);
  await noteHandScaledStable(run, snapshot);
  // The old version must still be there to flip back to: a rollback from here on also puts the
  // stable Deployment back as recorded (a no-op when nobody touched it; a deleted or hand-scaled
  // one is re-created or scaled back right after the route flips).
  run.compensations.stableMayChange(snapshot);
  // One apply of the route: every request moves at once (and the preview rule goes with it).
  await kube.setTrafficWeights({ spec, weights: { stable: 0, canary: 100 } });
  run.status.weights = { stable: 0, canary: 100 };
  run.trafficTookEffect();
  const until = new Date(workflowNow() + strategy.scaleDownDelay.ms).toISOString();
  run.status.warmStandby = { version: old, until };
  const gates = strategy.afterSwitch?.gates ?? [];
  const message = `switched: 100% of traffic to ${spec.version}; ${old} kept warm until ${until} (scaleDownDelay ${strategy.scaleDownDelay.text}): a failure until then flips the route back${gates.length ? `; gates ${gates.join(', ')}` : ''}`;
  run.note(message);
  void run.event('Normal', 'BlueGreenSwitched', message);
  try {
    // Not shortened by promote-now: it is what makes a rollback a route flip.
    await whileWatched(run, gates, () => run.hold(strategy.scaleDownDelay.ms, () => false, false), {
      holdMs: strategy.scaleDownDelay.ms,
    });
  } finally {
    delete run.status.warmStandby;
  }
  run.note(
    `${spec.version} served alone for ${strategy.scaleDownDelay.text}; the stable Deployment rolls to it while the candidate serves`,
  );
  await rollStableToCandidate(run, snapshot);
}

export async function blueGreenStages(run: ReleaseRun, snapshot: StableSnapshot): Promise<void> {
  await previewStage(run, snapshot);
  await switchStage(run, snapshot);
}
