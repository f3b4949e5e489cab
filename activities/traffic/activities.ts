// Traffic activities: weights, mirror, verification and reset through the spec's router.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../workflows/failures.ts';
import { routerOf, type ReleaseSpec } from '../../workflows/spec/index.ts';
import { withClusterErrors } from '../kubernetes/cluster-errors.ts';
import type { KubernetesClients } from '../kubernetes/clients.ts';
import { createTrafficRouter } from './index.ts';
import type { TrafficState, TrafficWeights } from './router.ts';

export function createTrafficActivities(clients: KubernetesClients) {
  return withClusterErrors({
    /** Sets the weights and checks the router took them; a router that does not is an error. */
    async setTrafficWeights({
      spec,
      weights,
      cohort,
    }: {
      spec: ReleaseSpec;
      weights: TrafficWeights;
      /** The canary's cohort goes to the candidate (canary steps of a spec with canary.cohort). */
      cohort?: boolean;
    }): Promise<void> {
      const router = createTrafficRouter(clients, spec);
      await router.setWeights(weights, { cohort: cohort ?? false });
      if (routerOf(spec).verifiesWeights && !(await router.verify(weights))) {
        throw ApplicationFailure.retryable(
          `route did not take weights ${weights.stable}/${weights.canary}`,
          FailureType.TrafficNotApplied,
        );
      }
    },

    async verifyTrafficWeights({
      spec,
      weights,
    }: {
      spec: ReleaseSpec;
      weights: TrafficWeights;
    }): Promise<boolean> {
      return createTrafficRouter(clients, spec).verify(weights);
    },

    async setMirror({ spec, percent }: { spec: ReleaseSpec; percent: number | null }): Promise<void> {
      await createTrafficRouter(clients, spec).setMirror(percent);
    },

    /** 100% stable, no mirror: the first thing rollback does. */
    async resetTraffic({ spec }: { spec: ReleaseSpec }): Promise<void> {
      await createTrafficRouter(clients, spec).reset();
    },

    async currentTraffic({ spec }: { spec: ReleaseSpec }): Promise<TrafficState | null> {
      return (await createTrafficRouter(clients, spec).current()) ?? null;
    },
  });
}

export type TrafficActivities = ReturnType<typeof createTrafficActivities>;
