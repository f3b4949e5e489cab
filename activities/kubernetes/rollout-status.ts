// Whether a Deployment's rollout is complete, still progressing, or failed — the same rules as
// `kubectl rollout status`. Pure.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';

export type RolloutState =
  | { phase: 'complete'; message: string }
  | { phase: 'progressing'; message: string }
  | { phase: 'failed'; message: string };

export function rolloutState(deployment: V1Deployment): RolloutState {
  const name = deployment.metadata?.name ?? '?';
  const generation = deployment.metadata?.generation ?? 0;
  const status = deployment.status ?? {};
  if ((status.observedGeneration ?? 0) < generation) {
    return { phase: 'progressing', message: `waiting for ${name} spec update to be observed` };
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return {
      phase: 'failed',
      message: `${name} exceeded its progress deadline: ${progressing.message ?? ''}`.trim(),
    };
  }
  const desired = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < desired) {
    return { phase: 'progressing', message: `${name}: ${updated} of ${desired} new replicas updated` };
  }
  if (total > updated) {
    return { phase: 'progressing', message: `${name}: ${total - updated} old replicas pending termination` };
  }
  if (available < updated) {
    return {
      phase: 'progressing',
      message: `${name}: ${available} of ${updated} updated replicas available`,
    };
  }
  return { phase: 'complete', message: `${name} successfully rolled out (${available} available)` };
}

/** One line per pod that is not ready, with the reasons Kubernetes gives (for failure messages). */
export function unreadyPodReasons(pods: readonly V1Pod[]): string[] {
  const lines: string[] = [];
  for (const pod of pods) {
    const conditions = pod.status?.conditions ?? [];
    if (conditions.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const reasons = new Set<string>();
    const scheduled = conditions.find((c) => c.type === 'PodScheduled');
    if (scheduled?.status === 'False')
      reasons.add(`${scheduled.reason ?? 'Unschedulable'}: ${scheduled.message ?? ''}`.trim());
    for (const cs of pod.status?.containerStatuses ?? []) {
      if (cs.state?.waiting)
        reasons.add(
          `${cs.name} waiting: ${cs.state.waiting.reason ?? ''} ${cs.state.waiting.message ?? ''}`.trim(),
        );
      if (cs.state?.terminated)
        reasons.add(
          `${cs.name} terminated: ${cs.state.terminated.reason ?? ''} (exit ${cs.state.terminated.exitCode})`,
        );
    }
    const ready = conditions.find((c) => c.type === 'Ready');
    if (ready?.status === 'False' && ready.message)
      reasons.add(`${ready.reason ?? 'NotReady'}: ${ready.message}`);
    lines.push(
      `pod ${pod.metadata?.name ?? '?'} (${pod.status?.phase ?? 'Unknown'}): ${[...reasons].join('; ') || 'not ready'}`,
    );
  }
  return lines;
}
