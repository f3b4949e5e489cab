// Waiting for a Deployment's rollout (watch, not polling); a ProgressDeadlineExceeded fails fast,
// without retry, with the unready pods' reasons in the message.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../workflows/failures.ts';
import type { Heartbeat } from '../heartbeat.ts';
import { clusterCall } from './cluster-errors.ts';
import type { KubernetesClients } from './clients.ts';
import { deploymentName, selectorLabels, type Track } from './labels.ts';
import { rolloutState, unreadyPodReasons } from './rollout-status.ts';
import { watchUntil } from './watch-until.ts';

export interface RolloutInput {
  namespace: string;
  model: string;
  track: Track;
}

export async function waitForRollout(
  clients: KubernetesClients,
  { namespace, model, track }: RolloutInput,
  heartbeat: Heartbeat,
): Promise<string> {
  const name = deploymentName(model, track);
  const state = await watchUntil(clients, {
    path: `/apis/apps/v1/namespaces/${namespace}/deployments`,
    name,
    read: () => clients.apps.readNamespacedDeployment({ name, namespace }),
    signal: heartbeat.signal,
    target: { verb: 'watch', resource: 'deployments', namespace, name },
    onObject: (d) =>
      heartbeat.update({ resourceVersion: d.metadata?.resourceVersion, status: rolloutState(d).message }),
    decide: (d) => {
      const s = rolloutState(d);
      return s.phase === 'progressing' ? undefined : s;
    },
  });
  if (state.phase === 'complete') return state.message;
  const selector = Object.entries(selectorLabels(model, track))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = await clusterCall({ verb: 'list', resource: 'pods', namespace }, () =>
    clients.core.listNamespacedPod({ namespace, labelSelector: selector }),
  );
  const reasons = unreadyPodReasons(pods.items).slice(0, 5);
  throw ApplicationFailure.nonRetryable(
    `${state.message}${reasons.length ? `; ${reasons.join('; ')}` : ''}`,
    FailureType.RolloutFailed,
    {
      deployment: `${namespace}/${name}`,
      pods: reasons,
    },
  );
}
