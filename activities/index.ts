// createActivities(deps): every activity the worker registers, built over injected clients.
import { createGateActivities, type GateActivityDeps } from './gates/activities.ts';
import type { Client } from '@temporalio/client';
import type { KubernetesClients } from './kubernetes/clients.ts';
import { createKubernetesActivities } from './kubernetes/activities.ts';
import { createSpecActivities } from './release-spec.ts';
import { createScheduleActivities } from './temporal/schedules.ts';
import { createTrafficActivities } from './traffic/activities.ts';

export interface ActivityDeps extends GateActivityDeps {
  kubernetes: KubernetesClients;
  /** For promotion schedules (deleted when a release ends); the production worker always has one. */
  temporalClient?: Client | undefined;
  /** The installation's SLIPWAY_SEPARATION_OF_DUTIES (namespaces may still ask for it by annotation). */
  separationOfDuties?: boolean | undefined;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createKubernetesActivities(deps.kubernetes, {
      policy: { separationOfDuties: deps.separationOfDuties ?? false },
    }),
    ...createTrafficActivities(deps.kubernetes),
    ...createGateActivities(deps),
    ...createScheduleActivities(deps.temporalClient),
    ...createSpecActivities(),
  };
}

export type Activities = ReturnType<typeof createActivities>;
