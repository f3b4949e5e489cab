// shadow: mirrored traffic to the candidate, no user impact; shadow gates for `duration` while the
// candidate is watched.
import { kube } from '../activities.ts';
import type { ReleaseRun } from '../release-run.ts';
import { whileWatched } from './gates.ts';

export async function shadowStage(run: ReleaseRun): Promise<void> {
  const shadow = run.spec.shadow;
  if (!shadow) return;
  await run.enterStage(
    'shadow',
    `mirroring ${shadow.mirrorPercent}% of traffic to ${run.spec.version} for ${shadow.duration.text}`,
  );
  await kube.setMirror({ spec: run.spec, percent: shadow.mirrorPercent });
  run.status.mirrorPercent = shadow.mirrorPercent;
  run.trafficTookEffect();
  await whileWatched(run, shadow.gates ?? [], () => run.hold(shadow.duration.ms), {
    holdMs: shadow.duration.ms,
  });
  await kube.setMirror({ spec: run.spec, percent: null });
  run.status.mirrorPercent = null;
  run.note('shadow passed; mirror removed');
}
