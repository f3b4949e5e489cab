// Server-side apply with field manager `slipway`, for real or as a dry-run, with strict field
// validation: an unknown or mistyped field is refused by the apiserver instead of silently dropped.
//
// Why not `KubernetesObjectApi.patch`: in client-node 2.0.1 its signature is
// `patch(spec, pretty, dryRun, fieldManager, force, patchStrategy, options)` — no fieldValidation —
// and, worse, it serializes built-in kinds through their typed models (`V1Deployment`…), which drops
// every field the model does not know before the request is sent, so the apiserver never sees a
// typo to refuse. The typed `patchNamespaced…` calls take the body as is (`any`) and have
// `fieldValidation`; the Content-Type header selects server-side apply.
import { PatchStrategy, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import { FailureType } from '../../workflows/failures.ts';
import { clusterCall, resourceOfKind, type ClusterTarget } from './cluster-errors.ts';
import type { KubernetesClients } from './clients.ts';
import { FIELD_MANAGER } from './labels.ts';

export interface ApplyOptions {
  dryRun?: boolean;
}

export function applyTarget(object: KubernetesObject, dryRun: boolean): ClusterTarget {
  return {
    verb: dryRun ? 'dry-run apply' : 'apply',
    resource: resourceOfKind(object.kind),
    namespace: object.metadata?.namespace,
    name: object.metadata?.name,
  };
}

/** The query parameters of every apply: field manager, forced ownership, strict validation, dry-run. */
function applyParameters(dryRun: boolean) {
  return {
    fieldManager: FIELD_MANAGER,
    force: true,
    fieldValidation: 'Strict',
    ...(dryRun ? { dryRun: 'All' } : {}),
  };
}

const APPLY = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

async function send(clients: KubernetesClients, object: KubernetesObject, dryRun: boolean): Promise<unknown> {
  const name = object.metadata?.name ?? '';
  const namespace = object.metadata?.namespace ?? '';
  const request = { name, namespace, body: object, ...applyParameters(dryRun) };
  if (object.kind === 'Deployment' && object.apiVersion === 'apps/v1')
    return clients.apps.patchNamespacedDeployment(request, APPLY);
  if (object.kind === 'Service' && object.apiVersion === 'v1')
    return clients.core.patchNamespacedService(request, APPLY);
  const [group, version] = (object.apiVersion ?? '').split('/');
  if (group && version && group.includes('.')) {
    // Custom resources (the HTTPRoute): the plural is the lower-case kind plus `s` for the kinds Slipway applies.
    return clients.custom.patchNamespacedCustomObject(
      { ...request, group, version, plural: resourceOfKind(object.kind) },
      APPLY,
    );
  }
  throw new Error(
    `server-side apply of ${object.kind ?? '?'} (${object.apiVersion ?? '?'}) is not implemented`,
  );
}

/**
 * Applies one object (a Deployment, a Service or a custom resource such as an HTTPRoute).
 * Idempotent: applying the same object again changes nothing. Conflicts with other field managers
 * are forced (Slipway owns the fields it sets). Errors come out classified (cluster-errors.ts); a
 * dry-run's final ones are `DryRunFailed`, as the docs promise. Returns the object as stored.
 */
export async function serverSideApply<T extends KubernetesObject, Stored = T>(
  clients: KubernetesClients,
  object: T,
  options: ApplyOptions = {},
): Promise<Stored> {
  const dryRun = options.dryRun ?? false;
  const stored = await clusterCall(
    applyTarget(object, dryRun),
    () => send(clients, object, dryRun),
    dryRun ? { finalAs: FailureType.DryRunFailed } : {},
  );
  // The apiserver answers with the object as stored: the same kind as the one sent (the whole
  // object, also when only some of its fields were applied).
  return stored as Stored;
}
