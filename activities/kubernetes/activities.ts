// Kubernetes activities of the release workflow. Each is idempotent: run again after a crash, it
// converges to the same cluster state. Waiting activities heartbeat and honour cancellation. Every
// cluster error leaves an activity classified (cluster-errors.ts): one sentence, final or retryable.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../workflows/failures.ts';
import { replicasToApply, type ReleaseSpec } from '../../workflows/spec/index.ts';
import { whileHeartbeating } from '../heartbeat.ts';
import {
  observeCandidate,
  watchCandidate,
  type CandidateObservation,
  type CandidateRef,
  type WatchCandidateInput,
} from './candidate.ts';
import { withClusterErrors } from './cluster-errors.ts';
import { stableDeploymentName } from './labels.ts';
import type { KubernetesClients } from './clients.ts';
import {
  adoptStable,
  captureStableState,
  hasAutoscaler,
  deployCandidate,
  deployStable,
  ensureServices,
  removeCandidate,
  restoreStable,
  type RestoreOptions,
  type StableSnapshot,
} from './deployments.ts';
import { recordEvent, type ReleaseEvent } from './events.ts';
import { deleteJob, runJob, type JobOutcome, type JobRequest } from './jobs.ts';
import type { CapacityVerdict } from './capacity.ts';
import {
  checkReleaseCapacity,
  preflight,
  type CapacityInput,
  type PreflightInput,
  type PreflightResult,
} from './preflight.ts';
import { releaseObjectsPresent, removeReleaseObjects, type ReleaseObjects } from './release-objects.ts';
import { releasePolicy, type InstallationPolicy, type ReleasePolicy } from './release-policy.ts';
import { waitForRollout, type RolloutInput } from './rollout.ts';

export type { CandidateObservation } from './candidate.ts';
export type { CapacityVerdict } from './capacity.ts';
export type { CapacityInput, PreflightInput, PreflightResult } from './preflight.ts';
export type { ReleaseObjects } from './release-objects.ts';
export type { ReleasePolicy } from './release-policy.ts';
export type { RolloutInput } from './rollout.ts';

export interface KubernetesActivityOptions {
  /** The installation's release policy (worker setting SLIPWAY_SEPARATION_OF_DUTIES). */
  policy?: InstallationPolicy;
}

export function createKubernetesActivities(
  clients: KubernetesClients,
  options: KubernetesActivityOptions = {},
) {
  const installation: InstallationPolicy = options.policy ?? { separationOfDuties: false };
  return withClusterErrors({
    /**
     * build stage: render every object and server-side dry-run it (RBAC, quota, admission, schema),
     * then check that the candidate's pods fit the nodes and the namespace's quotas.
     */
    async preflight(input: PreflightInput): Promise<PreflightResult> {
      return preflight(clients, input);
    },

    /**
     * The capacity check alone, as the scheduler would place the pods (requests, nodeSelector,
     * affinity, taints) against free allocatable and ResourceQuotas. `phase: 'promotion'` (before
     * the stable rolls) counts only what the promotion adds to what runs: the surge, and for
     * handoff the candidate grown to full size; `'release'` the whole release at its peak. Fails
     * `InsufficientCapacity` (final) naming the short resources, the nodes and the numbers.
     */
    async checkCapacity(input: CapacityInput): Promise<CapacityVerdict> {
      return checkReleaseCapacity(clients, input);
    },

    /** Called before the build: a 403 is final and says which namespace the worker may not read. */
    async captureStableState({ spec }: { spec: ReleaseSpec }): Promise<StableSnapshot> {
      return captureStableState(clients, spec);
    },

    async ensureServices({ spec }: { spec: ReleaseSpec }): Promise<void> {
      await ensureServices(clients, spec);
    },

    /** Applies `<model>-canary`; returns its uid, which watchCandidate compares against. */
    async deployCandidate(input: {
      releaseId: string;
      spec: ReleaseSpec;
      replicas: number;
    }): Promise<{ uid: string }> {
      const applied = await deployCandidate(clients, input.spec, {
        releaseId: input.releaseId,
        replicas: input.replicas,
      });
      return { uid: applied.metadata?.uid ?? '' };
    },

    /** A quick read of the candidate Deployment. */
    async observeCandidate(input: CandidateRef): Promise<CandidateObservation> {
      return observeCandidate(clients, { namespace: input.namespace, model: input.model });
    },

    /**
     * Runs beside a hold and resolves only when the candidate is lost (deleted or being deleted,
     * replaced, fewer than `minAvailable` available replicas), with a sentence saying how. The
     * workflow cancels it when the hold ends; cancellation rejects with the cancellation.
     */
    async watchCandidate(input: WatchCandidateInput): Promise<{ reason: string }> {
      return whileHeartbeating((heartbeat) =>
        watchCandidate(clients, input, heartbeat.signal, (observed) => heartbeat.update(observed)),
      );
    },

    async deployStable(input: {
      releaseId: string;
      spec: ReleaseSpec;
      autoscaled: boolean;
      qualityScores?: Record<string, number> | undefined;
    }): Promise<void> {
      // An HPA made during the release counts too: the promotion must not set what it scales.
      const autoscaled =
        input.autoscaled ||
        (await hasAutoscaler(clients, input.spec.namespace, stableDeploymentName(input.spec)));
      await deployStable(clients, input.spec, {
        releaseId: input.releaseId,
        replicas: autoscaled ? undefined : replicasToApply(input.spec),
        qualityScores: input.qualityScores,
      });
    },

    /**
     * A release whose spec changes nothing in the Deployment it adopts: writes only that
     * Deployment's own annotations (version, release, template fingerprint), so no pod restarts.
     */
    async adoptStable(input: { releaseId: string; spec: ReleaseSpec }): Promise<void> {
      await adoptStable(clients, input.spec, {
        releaseId: input.releaseId,
        replicas: input.spec.serving.replicas,
      });
    },

    /** Puts the stable Deployment back as recorded, with the release annotation of the release that made it. */
    async restoreStable(input: {
      spec: ReleaseSpec;
      snapshot: StableSnapshot;
      options?: RestoreOptions;
    }): Promise<void> {
      await restoreStable(clients, input.spec, input.snapshot, input.options);
    },

    async removeCandidate({ spec }: { spec: ReleaseSpec }): Promise<void> {
      await removeCandidate(clients, spec);
    },

    /** Which of the model's Services and HTTPRoute exist now (asked before a release creates any). */
    async releaseObjectsPresent({ spec }: { spec: ReleaseSpec }): Promise<ReleaseObjects> {
      return releaseObjectsPresent(clients, spec);
    },

    /** Deletes exactly the named Services (and the HTTPRoute when `route`); absent is fine. */
    async removeReleaseObjects(input: {
      spec: ReleaseSpec;
      services: string[];
      route: boolean;
    }): Promise<void> {
      await removeReleaseObjects(clients, input.spec, { services: input.services, route: input.route });
    },

    /**
     * Waits (watch, not polling) until the Deployment has rolled out; fails fast, without retry, on
     * ProgressDeadlineExceeded with the unready pods' reasons in the message.
     */
    async waitForRollout(input: RolloutInput): Promise<string> {
      return whileHeartbeating((heartbeat) => waitForRollout(clients, input, heartbeat));
    },

    /** Runs a Job to completion; a failed Job is a JobFailed failure, not an activity retry. Cancelled, it deletes the Job. */
    async runJob(request: JobRequest): Promise<JobOutcome> {
      const outcome = await whileHeartbeating((heartbeat) =>
        runJob(clients, request, heartbeat.signal, (message) => heartbeat.update({ message })),
      );
      if (!outcome.succeeded) {
        throw ApplicationFailure.nonRetryable(
          `job ${request.namespace}/${request.name} failed: ${outcome.reason}`,
          FailureType.JobFailed,
          outcome,
        );
      }
      return outcome;
    },

    /** Deletes a Job and its pods; absent is fine (the compensation of runJob). */
    async deleteJob({ namespace, name }: { namespace: string; name: string }): Promise<void> {
      await deleteJob(clients, namespace, name);
    },

    async recordEvent(event: ReleaseEvent): Promise<void> {
      await recordEvent(clients, event);
    },

    /** Separation of duties: the installation's setting, or the namespace's `slipway.dev/separation-of-duties: "true"`. */
    async releasePolicy({ namespace }: { namespace: string }): Promise<ReleasePolicy> {
      return releasePolicy(clients, installation, namespace);
    },
  });
}

export type KubernetesActivities = ReturnType<typeof createKubernetesActivities>;
