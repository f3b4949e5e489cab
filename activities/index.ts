// createActivities(deps): every activity the worker registers, built over injected clients.
import { createGateActivities, type GateActivityDeps } from './gates/activities.ts';
import type { KubernetesClients } from './kubernetes/clients.ts';
import { createKubernetesActivities } from './kubernetes/activities.ts';
import { createTrafficActivities } from './traffic/activities.ts';

export interface ActivityDeps extends GateActivityDeps {
  kubernetes: KubernetesClients;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createKubernetesActivities(deps.kubernetes),
    ...createTrafficActivities(deps.kubernetes),
    ...createGateActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
