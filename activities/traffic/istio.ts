// Traffic through an Istio VirtualService (istio-manifests.ts): weighted destinations
// `<model>-stable` / `<model>-canary`, a mirror with its percentage, and a header route for the
// candidate's cohort or preview. Slipway owns only its fields (server-side apply, manager `slipway`).
//
// Nothing reads back that Istio took the weights: istiod writes no status unless its config status
// is on (and no istiod runs locally), so `verify` says only that the stored object has them; the
// capability table says `verifiesWeights: false`.
import type { ReleaseSpec } from '../../workflows/spec/index.ts';
import { serverSideApply } from '../kubernetes/apply.ts';
import { clusterCall } from '../kubernetes/cluster-errors.ts';
import { ignoreNotFound, type KubernetesClients } from '../kubernetes/clients.ts';
import {
  renderVirtualService,
  VIRTUAL_SERVICE,
  virtualServiceState,
  type VirtualService,
} from './istio-manifests.ts';
import { RouteObjectRouter } from './route-object-router.ts';
import type { TrafficState, TrafficWeights } from './router.ts';

/** A router lives for one activity call (see traffic/activities.ts). */
export class IstioRouter extends RouteObjectRouter {
  private readonly clients: KubernetesClients;
  private readonly spec: ReleaseSpec;
  /** The VirtualService as the API server stored it on this router's last apply (the apply's response). */
  private applied: VirtualService | undefined;

  constructor(clients: KubernetesClients, spec: ReleaseSpec) {
    super();
    if (spec.traffic.router !== 'istio')
      throw new Error(`IstioRouter for traffic.router ${spec.traffic.router}`);
    this.clients = clients;
    this.spec = spec;
  }

  private get name(): string {
    return this.spec.traffic.router === 'istio' ? this.spec.traffic.virtualService : this.spec.model;
  }

  private async read(): Promise<VirtualService | undefined> {
    const { name } = this;
    const { namespace } = this.spec;
    const { group, version, plural } = VIRTUAL_SERVICE;
    return clusterCall({ verb: 'get', resource: plural, namespace, name }, () =>
      ignoreNotFound(
        // The custom objects API returns untyped JSON; VirtualService is the part of it Slipway reads.
        this.clients.custom.getNamespacedCustomObject({
          group,
          version,
          namespace,
          plural,
          name,
        }) as Promise<VirtualService>,
      ),
    );
  }

  async current(): Promise<TrafficState | undefined> {
    const vs = await this.read();
    return vs && virtualServiceState(vs, this.spec);
  }

  protected async apply(state: TrafficState): Promise<void> {
    this.applied = await serverSideApply(this.clients, renderVirtualService(this.spec, state));
  }

  async verify(weights: TrafficWeights): Promise<boolean> {
    // Right after an apply its response is the stored object: no second read needed.
    const vs = this.applied ?? (await this.read());
    if (!vs) return false;
    const stored = virtualServiceState(vs, this.spec).weights;
    return stored.stable === weights.stable && stored.canary === weights.canary;
  }
}
