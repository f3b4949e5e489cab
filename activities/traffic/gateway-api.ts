// Traffic through a Gateway API HTTPRoute: weighted backendRefs `<model>-stable` / `<model>-canary`
// and a RequestMirror filter to `<model>-canary`. Slipway owns only these fields (server-side apply,
// field manager `slipway`); parentRefs and hostnames may belong to the user.
import type { ReleaseSpec } from '../../workflows/spec/index.ts';
import { serverSideApply } from '../kubernetes/apply.ts';
import { clusterCall } from '../kubernetes/cluster-errors.ts';
import { ignoreNotFound, type KubernetesClients } from '../kubernetes/clients.ts';
import { trackServiceName } from '../kubernetes/labels.ts';
import { renderHttpRoute, routeName, type HttpRoute } from '../kubernetes/manifests.ts';
import { RouteObjectRouter } from './route-object-router.ts';
import type { TrafficState, TrafficWeights } from './router.ts';

const GROUP = 'gateway.networking.k8s.io';
const VERSION = 'v1';
const PLURAL = 'httproutes';

interface LiveRoute extends HttpRoute {
  status?: {
    parents?: Array<{ conditions?: Array<{ type: string; status: string; observedGeneration?: number }> }>;
  };
  metadata: HttpRoute['metadata'] & { generation?: number };
}

/** A router lives for one activity call (see traffic/activities.ts). */
export class GatewayApiRouter extends RouteObjectRouter {
  private readonly clients: KubernetesClients;
  private readonly spec: ReleaseSpec;
  /** The route as the API server stored it on this router's last apply (the apply's response). */
  private applied: LiveRoute | undefined;

  constructor(clients: KubernetesClients, spec: ReleaseSpec) {
    super();
    this.clients = clients;
    this.spec = spec;
  }

  private async read(): Promise<LiveRoute | undefined> {
    const name = routeName(this.spec);
    const { namespace } = this.spec;
    return clusterCall({ verb: 'get', resource: PLURAL, namespace, name }, () =>
      ignoreNotFound(
        // The custom objects API returns untyped JSON; LiveRoute is the part of it Slipway reads.
        this.clients.custom.getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: PLURAL,
          name,
        }) as Promise<LiveRoute>,
      ),
    );
  }

  async current(): Promise<TrafficState | undefined> {
    const route = await this.read();
    if (!route) return undefined;
    return stateOf(route, this.spec.model);
  }

  protected async apply(state: TrafficState): Promise<void> {
    this.applied = await serverSideApply(
      this.clients,
      renderHttpRoute(this.spec, state.weights, state.mirrorPercent, state.cohort ?? false),
    );
  }

  async verify(weights: TrafficWeights): Promise<boolean> {
    // Right after an apply its response is the stored object: no second read needed.
    const route = this.applied ?? (await this.read());
    if (!route) return false;
    const state = stateOf(route, this.spec.model);
    if (state.weights.stable !== weights.stable || state.weights.canary !== weights.canary) return false;
    // Where a gateway controller reports back, it must have accepted this generation.
    for (const parent of route.status?.parents ?? []) {
      const accepted = parent.conditions?.find((c) => c.type === 'Accepted');
      if (accepted?.status === 'False') return false;
      if (
        accepted?.observedGeneration !== undefined &&
        accepted.observedGeneration < (route.metadata.generation ?? 0)
      ) {
        return false;
      }
    }
    return true;
  }
}

function stateOf(route: HttpRoute, model: string): TrafficState {
  // The weighted rule is the one that matches no header (the apiserver defaults every rule's matches
  // to a `/` path prefix); a rule matching headers is the cohort's.
  const byHeader = (r: HttpRoute['spec']['rules'][number]) =>
    (r.matches ?? []).some((m) => m.headers?.length);
  const rule = route.spec.rules.find((r) => !byHeader(r)) ?? route.spec.rules[0];
  const weightOf = (name: string) => rule?.backendRefs.find((b) => b.name === name)?.weight ?? 0;
  const stable = weightOf(trackServiceName(model, 'stable'));
  const canary = weightOf(trackServiceName(model, 'canary'));
  const mirror = rule?.filters?.find((f) => f.type === 'RequestMirror');
  return {
    weights: { stable, canary },
    mirrorPercent: mirror ? (mirror.requestMirror.percent ?? 100) : null,
    cohort: route.spec.rules.some(byHeader),
  };
}
