// Traffic by replica ratio: no traffic router, the Service `<model>` spreads requests over the ready
// pods of both tracks, so the candidate's share is set by scaling it against the stable replicas.
// Mirroring is impossible without a router (the spec schema rejects shadow with this router).
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { servingReplicas, type ReleaseSpec } from '../../workflows/spec/index.ts';
import { clusterCall } from '../kubernetes/cluster-errors.ts';
import { ignoreNotFound, type KubernetesClients } from '../kubernetes/clients.ts';
import { deploymentName } from '../kubernetes/labels.ts';
import type { TrafficRouter, TrafficState, TrafficWeights } from './router.ts';

/** Candidate replicas that give it `canaryPercent` of the pods next to `stableReplicas` stable pods. */
export function candidateReplicasFor(canaryPercent: number, stableReplicas: number): number {
  if (canaryPercent <= 0) return 0;
  if (canaryPercent >= 100) return Math.max(1, stableReplicas);
  return Math.max(1, Math.round((stableReplicas * canaryPercent) / (100 - canaryPercent)));
}

export class ReplicaRatioRouter implements TrafficRouter {
  private readonly clients: KubernetesClients;
  private readonly spec: ReleaseSpec;

  constructor(clients: KubernetesClients, spec: ReleaseSpec) {
    this.clients = clients;
    this.spec = spec;
  }

  private async readReplicas(track: 'stable' | 'canary') {
    const name = deploymentName(this.spec.model, track);
    const { namespace } = this.spec;
    const d = await clusterCall({ verb: 'get', resource: 'deployments', namespace, name }, () =>
      ignoreNotFound(this.clients.apps.readNamespacedDeployment({ name, namespace })),
    );
    return d ? { desired: d.spec?.replicas ?? 0, ready: d.status?.readyReplicas ?? 0 } : undefined;
  }

  private async scaleCandidate(replicas: number): Promise<void> {
    const name = deploymentName(this.spec.model, 'canary');
    const { namespace } = this.spec;
    await clusterCall({ verb: 'patch', resource: 'deployments/scale', namespace, name }, () =>
      ignoreNotFound(
        this.clients.apps.patchNamespacedDeploymentScale(
          { name, namespace, fieldManager: 'slipway', body: { spec: { replicas } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
      ),
    );
  }

  async current(): Promise<TrafficState | undefined> {
    const stable = await this.readReplicas('stable');
    const canary = await this.readReplicas('canary');
    if (!stable) return undefined;
    const total = stable.ready + (canary?.ready ?? 0);
    const canaryPercent = total === 0 ? 0 : Math.round((100 * (canary?.ready ?? 0)) / total);
    return { weights: { stable: 100 - canaryPercent, canary: canaryPercent }, mirrorPercent: null };
  }

  async setWeights(weights: TrafficWeights): Promise<void> {
    const stable = await this.readReplicas('stable');
    await this.scaleCandidate(
      candidateReplicasFor(weights.canary, stable?.desired ?? servingReplicas(this.spec)),
    );
  }

  setMirror(percent: number | null): Promise<void> {
    if (percent !== null && percent > 0) {
      return Promise.reject(
        new Error('the replica-ratio router cannot mirror traffic; use the gateway-api router for shadow'),
      );
    }
    return Promise.resolve();
  }

  async verify(weights: TrafficWeights): Promise<boolean> {
    const stable = await this.readReplicas('stable');
    const canary = await this.readReplicas('canary');
    const want = candidateReplicasFor(weights.canary, stable?.desired ?? servingReplicas(this.spec));
    return (canary?.desired ?? 0) === want && (canary?.ready ?? 0) >= want;
  }

  async reset(): Promise<void> {
    await this.scaleCandidate(0);
  }
}
