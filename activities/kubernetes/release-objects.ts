// The Services and the route object (HTTPRoute, VirtualService) a release creates for a model: which
// of them exist now (asked before a release creates anything), and their removal when a first
// release rolls back (only those that did not exist before it). Idempotent: an absent object is fine.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../workflows/failures.ts';
import { routeName, type ReleaseSpec } from '../../workflows/spec/index.ts';
import { routeResource } from '../traffic/route-object.ts';
import { clusterCall } from './cluster-errors.ts';
import { ignoreNotFound, type KubernetesClients } from './clients.ts';
import { trackServiceName } from './labels.ts';

export interface ReleaseObjects {
  /** Names of the model's Services (`<m>`, `<m>-stable`, `<m>-canary`) that exist. */
  services: string[];
  /** Whether the model's route object exists (always false with the replica-ratio router, which has none). */
  route: boolean;
}

export function modelServiceNames(model: string): string[] {
  return [model, trackServiceName(model, 'stable'), trackServiceName(model, 'canary')];
}

export async function releaseObjectsPresent(
  clients: KubernetesClients,
  spec: ReleaseSpec,
): Promise<ReleaseObjects> {
  const { namespace } = spec;
  const names = modelServiceNames(spec.model);
  const found = await Promise.all(
    names.map((name) =>
      clusterCall({ verb: 'get', resource: 'services', namespace, name }, () =>
        ignoreNotFound(clients.core.readNamespacedService({ name, namespace })),
      ),
    ),
  );
  const services = names.filter((_, i) => found[i] !== undefined);
  const resource = routeResource(spec);
  const name = routeName(spec);
  if (!resource || name === undefined) return { services, route: false };
  const { group, version, plural } = resource;
  const route: unknown = await clusterCall({ verb: 'get', resource: plural, namespace, name }, () =>
    ignoreNotFound<unknown>(
      clients.custom.getNamespacedCustomObject({ group, version, plural, namespace, name }),
    ),
  );
  return { services, route: route !== undefined };
}

export async function removeReleaseObjects(
  clients: KubernetesClients,
  spec: ReleaseSpec,
  objects: ReleaseObjects,
): Promise<void> {
  const { namespace } = spec;
  const allowed = modelServiceNames(spec.model);
  const foreign = objects.services.filter((name) => !allowed.includes(name));
  if (foreign.length > 0) {
    // Never delete what is not the model's own: a wrong name is a bug in the caller, not a retry.
    throw ApplicationFailure.nonRetryable(
      `Slipway removes only the Services of model ${spec.model} (${allowed.join(', ')}), not ${foreign.join(', ')}`,
      FailureType.InvalidObject,
    );
  }
  await Promise.all(
    objects.services.map((name) =>
      clusterCall({ verb: 'delete', resource: 'services', namespace, name }, () =>
        ignoreNotFound(clients.core.deleteNamespacedService({ name, namespace })),
      ),
    ),
  );
  const resource = routeResource(spec);
  const name = routeName(spec);
  if (objects.route && resource && name !== undefined) {
    const { group, version, plural } = resource;
    await clusterCall({ verb: 'delete', resource: plural, namespace, name }, () =>
      ignoreNotFound(
        clients.custom.deleteNamespacedCustomObject({ group, version, plural, namespace, name }),
      ),
    );
  }
}
