// Bringing up the candidate next to stable with no live traffic: Services, route at 100/0, and the
// `<model>-canary` Deployment, each recorded for rollback as it is created.
import { kube } from '../activities.ts';
import type { ReleaseRun } from '../release-run.ts';
import { routerOf, servingReplicas } from '../spec/reading.ts';
import type { StableSnapshot } from '../../activities/kubernetes/deployments.ts';
import { waitForTrack } from './rollout.ts';

export async function deployCandidate(run: ReleaseRun, snapshot: StableSnapshot): Promise<void> {
  const { spec } = run;
  await kube.ensureServices({ spec });
  run.compensations.trafficMayMove();
  await kube.setTrafficWeights({ spec, weights: { stable: 100, canary: 0 } });
  run.compensations.candidateMayExist();
  // With a router the candidate runs at full size from the start; by replica ratio it starts at 0
  // and each canary step scales it. An adopted Deployment's size is its own unless the spec says one.
  const replicas = routerOf(spec).candidateFullSize ? servingReplicas(spec, snapshot.replicas) : 0;
  // Older runs' activity returned nothing; the uid is what the candidate watch holds on to.
  const deployed = (await kube.deployCandidate({ releaseId: run.status.releaseId, spec, replicas })) as
    { uid?: string } | undefined | null;
  if (deployed?.uid) run.candidateUid = deployed.uid;
  const message = await waitForTrack(run, 'canary');
  run.candidateVouched = true;
  run.note(`candidate deployed: ${message}`);
}
