// canary: live traffic in steps; each weight step holds while gates are measured and the candidate
// is watched, approval steps wait for a human (gates keep running meanwhile), pause steps pause,
// promote-now skips what is left of the plan.
import { kube } from '../activities.ts';
import type { ReleaseRun } from '../release-run.ts';
import type { CanaryStep } from '../spec/index.ts';
import { routerOf } from '../spec/reading.ts';
import { assertCandidateServes } from './candidate-watch.ts';
import { whileWatched } from './gates.ts';
import { waitForTrack } from './rollout.ts';

function describeStep(step: CanaryStep): string {
  if ('weight' in step) return `weight ${step.weight}%${step.hold ? ` for ${step.hold.text}` : ''}`;
  if ('approval' in step) return 'approval';
  return `pause${step.pause.duration ? ` for ${step.pause.duration.text}` : ''}`;
}

/** Sends `canary`% of traffic to the candidate; a track gets live traffic only while it has ready pods. */
export async function setCanaryWeight(run: ReleaseRun, canary: number): Promise<void> {
  const { spec } = run;
  const weights = { stable: 100 - canary, canary };
  // An A/B cohort reaches the candidate from the first canary step on, whatever the weight.
  const cohort = spec.canary?.cohort !== undefined;
  if (canary > 0 || cohort)
    await assertCandidateServes(run, `before ${canary}% of traffic moved to it`, { unlessVouched: true });
  await kube.setTrafficWeights({ spec, weights, ...(cohort ? { cohort } : {}) });
  if (routerOf(spec).weights === 'ready-replicas') {
    await waitForTrack(run, 'canary', { scaling: true });
  }
  run.status.weights = weights;
  run.trafficTookEffect();
}

export async function canaryStage(run: ReleaseRun): Promise<void> {
  const canary = run.spec.canary;
  if (!canary) return;
  const gates = canary.gates ?? [];
  await run.enterStage('canary', `canary of ${run.spec.version} in ${canary.steps.length} steps`);
  for (const [index, step] of canary.steps.entries()) {
    await run.waitWhileStopped();
    if (run.promoteNowEffective) {
      run.note(`promote-now by ${run.promoteNowBy?.actor ?? 'unknown'}: skipping the remaining canary steps`);
      break;
    }
    const description = describeStep(step);
    run.status.step = { index: index + 1, total: canary.steps.length, description };
    const label = `canary step ${index + 1}/${canary.steps.length}`;
    if ('weight' in step) {
      await setCanaryWeight(run, step.weight);
      const cohort = run.spec.canary?.cohort ? ' and the cohort' : '';
      run.note(`${label}: ${step.weight}% of traffic${cohort} to ${run.spec.version}`);
      // Recorded beside the hold, not before it: an Event must not add to every step's overhead.
      void run.event('Normal', 'CanaryStep', `${label}: ${description}`);
      const holdMs = step.hold?.ms ?? 0;
      await whileWatched(run, gates, () => run.hold(holdMs), { holdMs });
    } else if ('approval' in step) {
      const timeoutMs = step.approval.timeout?.ms;
      await whileWatched(run, gates, async () => {
        await run.awaitApproval(label, timeoutMs, step.approval.onTimeout);
      });
    } else {
      const ms = step.pause.duration?.ms;
      await whileWatched(run, gates, () => run.pauseStep(label, ms));
    }
  }
  delete run.status.step;
}
