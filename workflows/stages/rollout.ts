// Waiting for one of the model's Deployments to roll out, bounded by its progress deadline. A scale
// (replica-ratio's canary steps) starts no deadline in Kubernetes: the wait then has its own, of the
// same length.
import { waiting } from '../activities.ts';
import type { ReleaseRun } from '../release-run.ts';

/** Resolves with the rollout's message; fails with RolloutFailed (pod reasons included). */
export function waitForTrack(
  run: ReleaseRun,
  track: 'stable' | 'canary',
  options: { scaling?: boolean } = {},
): Promise<string> {
  const { spec } = run;
  const timeoutMs = (spec.serving.progressDeadlineSeconds + 120) * 1000;
  const adopted = track === 'stable' ? spec.serving.deploymentRef : undefined;
  return waiting(timeoutMs).waitForRollout({
    namespace: spec.namespace,
    model: spec.model,
    track,
    ...(adopted === undefined ? {} : { deployment: adopted }),
    ...(options.scaling ? { deadlineSeconds: spec.serving.progressDeadlineSeconds } : {}),
  });
}
