// Kubernetes Events on a model's Deployment for every stage change, so `kubectl describe` tells the story.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { V1MicroTime } from '@kubernetes/client-node';
import { clusterCall } from './cluster-errors.ts';
import { apiStatus, type KubernetesClients } from './clients.ts';

export interface ReleaseEvent {
  namespace: string;
  /** The Deployment the event is about. */
  deployment: string;
  /** A key unique per event of a release (e.g. `<releaseId>/<sequence>`): retries do not duplicate it. */
  key: string;
  type: 'Normal' | 'Warning';
  reason: string;
  note: string;
}

export async function recordEvent(clients: KubernetesClients, event: ReleaseEvent): Promise<void> {
  const suffix = createHash('sha256').update(event.key).digest('hex').slice(0, 16);
  // Best effort (the event names its Deployment without the uid too), but asked again when throttled.
  const deployment = await clusterCall(
    { verb: 'get', resource: 'deployments', namespace: event.namespace, name: event.deployment },
    () => clients.apps.readNamespacedDeployment({ name: event.deployment, namespace: event.namespace }),
  ).catch(() => undefined);
  const now = new V1MicroTime();
  const target = { verb: 'create', resource: 'events', namespace: event.namespace };
  await clusterCall(target, async () => {
    try {
      await clients.events.createNamespacedEvent({
        namespace: event.namespace,
        body: {
          metadata: { name: `${event.deployment}.${suffix}`, namespace: event.namespace },
          eventTime: now,
          type: event.type,
          reason: event.reason,
          note: event.note.slice(0, 1024),
          action: event.reason,
          reportingController: 'slipway.dev/release-controller',
          reportingInstance: hostname().slice(0, 128),
          regarding: {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: event.deployment,
            namespace: event.namespace,
            ...(deployment?.metadata?.uid ? { uid: deployment.metadata.uid } : {}),
          },
        },
      });
    } catch (error) {
      // 409: already recorded by an earlier attempt.
      if (apiStatus(error) !== 409) throw error;
    }
  });
}
