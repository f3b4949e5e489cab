// A release whose spec changes nothing in the Deployment it adopts (`serving.deploymentRef`): the
// Deployment is taken as the stable version as it runs. Only its own annotations are written (the
// version, the release, its template's fingerprint), so no pod restarts; Slipway's Services and
// route are made for the releases that follow. Its rollback puts the annotations back and removes
// what it created.
import { kube } from '../activities.ts';
import type { ReleaseRun } from '../release-run.ts';
import type { StableSnapshot } from '../../activities/kubernetes/deployments.ts';

export async function adoptStage(run: ReleaseRun, snapshot: StableSnapshot): Promise<void> {
  const { spec } = run;
  const name = spec.serving.deploymentRef ?? spec.model;
  await run.enterStage(
    'promote',
    `adopting Deployment ${name} as ${spec.version}: the spec changes nothing in it`,
  );
  await run.waitWhileStopped();
  await kube.ensureServices({ spec });
  await kube.setTrafficWeights({ spec, weights: { stable: 100, canary: 0 } });
  run.status.weights = { stable: 100, canary: 0 };
  run.compensations.stableMayChange(snapshot);
  await kube.adoptStable({ releaseId: run.status.releaseId, spec });
  run.compensations.settled('stable', 'created-objects');
  run.note(`Deployment ${name} adopted as ${spec.version} without restarting a pod`);
}
