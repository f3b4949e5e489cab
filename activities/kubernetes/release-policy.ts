// Release policy of an installation and a namespace: separation of duties (the submitter of a
// release may not approve it) is on when the worker's installation setting says so, or when the
// release's namespace carries the annotation `slipway.dev/separation-of-duties: "true"`.
import { apiStatus, type KubernetesClients } from './clients.ts';
import { clusterCall } from './cluster-errors.ts';

export const ANNOTATION_SEPARATION_OF_DUTIES = 'slipway.dev/separation-of-duties';

export interface ReleasePolicy {
  separationOfDuties: boolean;
}

export interface InstallationPolicy {
  /** The worker's SLIPWAY_SEPARATION_OF_DUTIES. */
  separationOfDuties: boolean;
}

/** The namespace's annotations, or undefined when the worker may not read it or it does not exist. */
async function namespaceAnnotations(
  clients: KubernetesClients,
  namespace: string,
): Promise<Record<string, string> | undefined> {
  return clusterCall({ verb: 'get', resource: 'namespaces', name: namespace }, async () => {
    try {
      const found = await clients.core.readNamespace({ name: namespace });
      return found.metadata?.annotations ?? {};
    } catch (error) {
      // 403: the installation setting alone decides; 404: the build's preflight names the missing namespace.
      if (apiStatus(error) === 403 || apiStatus(error) === 404) return undefined;
      throw error;
    }
  });
}

export async function releasePolicy(
  clients: KubernetesClients,
  installation: InstallationPolicy,
  namespace: string,
): Promise<ReleasePolicy> {
  if (installation.separationOfDuties) return { separationOfDuties: true };
  const annotations = await namespaceAnnotations(clients, namespace);
  return { separationOfDuties: annotations?.[ANNOTATION_SEPARATION_OF_DUTIES] === 'true' };
}
