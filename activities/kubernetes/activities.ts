// Kubernetes activities of the release workflow. Each is idempotent: run again after a crash, it
// converges to the same cluster state. Waiting activities heartbeat and honour cancellation.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../workflows/failures.ts';
import type { ReleaseSpec } from '../../workflows/spec/index.ts';
import { whileHeartbeating } from '../heartbeat.ts';
import { serverSideApply } from './apply.ts';
import { checkCapacity, toResourceList, type CapacityVerdict } from './capacity.ts';
import { apiMessage, apiStatus, type KubernetesClients } from './clients.ts';
import {
  captureStableState,
  deployCandidate,
  deployStable,
  ensureServices,
  removeCandidate,
  restoreStable,
  type StableSnapshot,
} from './deployments.ts';
import { recordEvent, type ReleaseEvent } from './events.ts';
import { runJob, type JobOutcome, type JobRequest } from './jobs.ts';
import { deploymentName, selectorLabels, type Track } from './labels.ts';
import { renderDeployment, renderHttpRoute, renderServices } from './manifests.ts';
import { rolloutState, unreadyPodReasons } from './rollout-status.ts';
import { watchUntil } from './watch-until.ts';
import { ALL_STABLE } from '../traffic/router.ts';

export interface PreflightInput {
  releaseId: string;
  spec: ReleaseSpec;
}

export interface PreflightResult {
  objects: string[];
  capacity: CapacityVerdict;
}

export interface RolloutInput {
  namespace: string;
  model: string;
  track: Track;
}

export function createKubernetesActivities(clients: KubernetesClients) {
  return {
    /**
     * build stage: render every object and server-side dry-run it (RBAC, quota, admission, schema),
     * then check that the candidate's pods fit the nodes and the namespace's quotas.
     */
    async preflight({ releaseId, spec }: PreflightInput): Promise<PreflightResult> {
      try {
        await clients.core.readNamespace({ name: spec.namespace });
      } catch (error) {
        if (apiStatus(error) === 404) {
          throw ApplicationFailure.nonRetryable(`namespace ${spec.namespace} does not exist`, FailureType.DryRunFailed);
        }
        throw error;
      }
      const objects = [
        ...renderServices(spec),
        renderDeployment(spec, { track: 'canary', replicas: spec.serving.replicas, releaseId }),
        ...(spec.traffic.router === 'gateway-api' ? [renderHttpRoute(spec, ALL_STABLE, null)] : []),
      ];
      // The dry-runs and the reads for the capacity check are independent: all at once.
      const [nodes, pods, quotas] = await Promise.all([
        Promise.all(objects.map((object) => serverSideApply(clients, object, { dryRun: true }))).then(() => forbiddenIsFinal('list nodes', clients.core.listNode())),
        forbiddenIsFinal('list pods in all namespaces', clients.core.listPodForAllNamespaces({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' })),
        forbiddenIsFinal(`list resourcequotas in ${spec.namespace}`, clients.core.listNamespacedResourceQuota({ namespace: spec.namespace })),
      ]);
      const capacity = checkCapacity({
        nodes: nodes.items,
        pods: pods.items,
        quotas: quotas.items,
        request: toResourceList(spec.serving.resources?.requests),
        replicas: spec.serving.replicas,
      });
      if (!capacity.fits) {
        throw ApplicationFailure.nonRetryable(
          `the candidate does not fit: ${capacity.reasons.join('; ')}`,
          FailureType.InsufficientCapacity,
          capacity,
        );
      }
      return { objects: objects.map((o) => `${o.kind}/${o.metadata?.name ?? ''}`), capacity };
    },

    async captureStableState({ spec }: { spec: ReleaseSpec }): Promise<StableSnapshot> {
      return captureStableState(clients, spec);
    },

    async ensureServices({ spec }: { spec: ReleaseSpec }): Promise<void> {
      await ensureServices(clients, spec);
    },

    async deployCandidate(input: { releaseId: string; spec: ReleaseSpec; replicas: number }): Promise<void> {
      await deployCandidate(clients, input.spec, { releaseId: input.releaseId, replicas: input.replicas });
    },

    async deployStable(input: {
      releaseId: string;
      spec: ReleaseSpec;
      autoscaled: boolean;
      qualityScores?: Record<string, number> | undefined;
    }): Promise<void> {
      await deployStable(clients, input.spec, {
        releaseId: input.releaseId,
        replicas: input.autoscaled ? undefined : input.spec.serving.replicas,
        qualityScores: input.qualityScores,
      });
    },

    async restoreStable(input: { spec: ReleaseSpec; snapshot: StableSnapshot }): Promise<void> {
      await restoreStable(clients, input.spec, input.snapshot);
    },

    async removeCandidate({ spec }: { spec: ReleaseSpec }): Promise<void> {
      await removeCandidate(clients, spec);
    },

    /**
     * Waits (watch, not polling) until the Deployment has rolled out; fails fast, without retry, on
     * ProgressDeadlineExceeded with the unready pods' reasons in the message.
     */
    async waitForRollout({ namespace, model, track }: RolloutInput): Promise<string> {
      const name = deploymentName(model, track);
      const state = await whileHeartbeating((heartbeat) =>
        watchUntil(clients, {
          path: `/apis/apps/v1/namespaces/${namespace}/deployments`,
          name,
          read: () => clients.apps.readNamespacedDeployment({ name, namespace }),
          signal: heartbeat.signal,
          onObject: (d) => heartbeat.update({ resourceVersion: d.metadata?.resourceVersion, status: rolloutState(d).message }),
          decide: (d) => {
            const s = rolloutState(d);
            return s.phase === 'progressing' ? undefined : s;
          },
        }),
      );
      if (state.phase === 'complete') return state.message;
      const selector = Object.entries(selectorLabels(model, track)).map(([k, v]) => `${k}=${v}`).join(',');
      const pods = await clients.core.listNamespacedPod({ namespace, labelSelector: selector });
      const reasons = unreadyPodReasons(pods.items).slice(0, 5);
      throw ApplicationFailure.nonRetryable(
        `${state.message}${reasons.length ? `; ${reasons.join('; ')}` : ''}`,
        FailureType.RolloutFailed,
        { deployment: `${namespace}/${name}`, pods: reasons },
      );
    },

    /** Runs a Job to completion; a failed Job is a JobFailed failure, not an activity retry. */
    async runJob(request: JobRequest): Promise<JobOutcome> {
      const outcome = await whileHeartbeating((heartbeat) =>
        runJob(clients, request, heartbeat.signal, (message) => heartbeat.update({ message })),
      );
      if (!outcome.succeeded) {
        throw ApplicationFailure.nonRetryable(`job ${request.namespace}/${request.name} failed: ${outcome.reason}`, FailureType.JobFailed, outcome);
      }
      return outcome;
    },

    async recordEvent(event: ReleaseEvent): Promise<void> {
      await recordEvent(clients, event);
    },
  };
}

export type KubernetesActivities = ReturnType<typeof createKubernetesActivities>;

/** A read the preflight needs that RBAC forbids will not succeed on a retry: fail the build, saying which. */
async function forbiddenIsFinal<T>(what: string, read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (apiStatus(error) !== 403) throw error;
    throw ApplicationFailure.nonRetryable(`the preflight may not ${what} (HTTP 403): ${apiMessage(error)}`, FailureType.DryRunFailed, { status: 403 });
  }
}
