// Bringing up the candidate next to stable with no live traffic: Services, route at 100/0, and the
// `<model>-canary` Deployment, each registered for rollback as it is created.
import { compensation, kube } from '../activities.ts';
import type { ReleaseRun } from '../release-run.ts';
import { CompensationRank } from '../saga.ts';
import { waitForTrack } from './rollout.ts';

export async function deployCandidate(run: ReleaseRun): Promise<void> {
  const { spec } = run;
  await kube.ensureServices({ spec });
  run.saga.register('traffic', CompensationRank.traffic, () => compensation.resetTraffic({ spec }));
  await kube.setTrafficWeights({ spec, weights: { stable: 100, canary: 0 } });
  run.saga.register('candidate', CompensationRank.candidate, () => compensation.removeCandidate({ spec }));
  // With a router the candidate runs at full size from the start; by replica ratio it starts at 0
  // and each canary step scales it.
  const replicas = spec.traffic.router === 'gateway-api' ? spec.serving.replicas : 0;
  await kube.deployCandidate({ releaseId: run.status.releaseId, spec, replicas });
  const message = await waitForTrack(run, 'canary');
  run.note(`candidate deployed: ${message}`);
}
