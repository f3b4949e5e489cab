// Waiting for a Deployment's rollout (watch, not polling); a ProgressDeadlineExceeded fails fast,
// without retry, with the unready pods' reasons in the message. A scale-up (replica-ratio's canary
// steps) starts no progress deadline in Kubernetes, so the caller gives its own: `deadlineSeconds`
// from the first attempt, across retries.
import { Context } from '@temporalio/activity';
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
  /** The Deployment's name when it is not the track's own (an adopted stable Deployment). */
  deployment?: string | undefined;
  /** Fail when not available this long after the activity was first scheduled (a scale-up's deadline). */
  deadlineSeconds?: number | undefined;
}

/** Milliseconds left before the deadline, measured from the activity's first scheduling (retries included). */
function deadlineLeftMs(deadlineSeconds: number | undefined): number | undefined {
  if (deadlineSeconds === undefined) return undefined;
  return Context.current().info.scheduledTimestampMs + deadlineSeconds * 1000 - Date.now();
}

export async function waitForRollout(
  clients: KubernetesClients,
  { namespace, model, track, deployment, deadlineSeconds }: RolloutInput,
  heartbeat: Heartbeat,
): Promise<string> {
  const name = deployment ?? deploymentName(model, track);
  let selector = selectorLabels(model, track);
  const leftMs = deadlineLeftMs(deadlineSeconds);
  const deadline = new AbortController();
  const timer = leftMs === undefined ? undefined : setTimeout(() => deadline.abort(), Math.max(0, leftMs));
  const watched = watchUntil(clients, {
    path: `/apis/apps/v1/namespaces/${namespace}/deployments`,
    name,
    list: (fieldSelector) => clients.apps.listNamespacedDeployment({ namespace, fieldSelector }),
    signal: AbortSignal.any([heartbeat.signal, deadline.signal]),
    target: { verb: 'watch', resource: 'deployments', namespace, name },
    onObject: (d) => {
      selector = d.spec?.selector.matchLabels ?? selector;
      heartbeat.update({ resourceVersion: d.metadata?.resourceVersion, status: rolloutState(d).message });
    },
    decide: (d) => {
      const s = rolloutState(d);
      return s.phase === 'progressing' ? undefined : s;
    },
  });
  const state = await watched
    .catch((error: unknown) => {
      if (!deadline.signal.aborted || heartbeat.signal.aborted) throw error;
      return {
        phase: 'failed' as const,
        message: `${name} did not become available within its progress deadline (${deadlineSeconds}s after it was scaled)`,
      };
    })
    .finally(() => clearTimeout(timer));
  if (state.phase === 'complete') return state.message;
  const labelSelector = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = await clusterCall({ verb: 'list', resource: 'pods', namespace }, () =>
    clients.core.listNamespacedPod({ namespace, labelSelector }),
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
