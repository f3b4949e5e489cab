// The Istio side of the peer scenario (--routing istio): the stable and canary Services and the
// VirtualService an Argo Rollout's trafficRouting.istio moves (Slipway and Flagger make their own),
// and how much of a VirtualService's weighted route goes to a canary Service, for the reaction.
// Host-based, as Slipway's istio router does it: `<model>-stable` and `<model>-canary` (Flagger:
// `<model>-primary`), which the simulator routes to the pods behind each (pod-groups.ts).
import type * as k8s from '@kubernetes/client-node';
import { hostIs, VIRTUAL_SERVICE, type IstioHttpRoute } from '../../activities/traffic/istio-manifests.ts';
import { trackServiceName } from '../../activities/kubernetes/labels.ts';

export const VS_API = {
  group: VIRTUAL_SERVICE.group,
  version: VIRTUAL_SERVICE.version,
  plural: VIRTUAL_SERVICE.plural,
} as const;
/** The http route of the VirtualService Argo sets the weights of (trafficRouting.istio routes). */
export const ARGO_ROUTE = 'primary';
/** The labels that make the simulator serve a Service's pods as model `model` (pod-groups.ts). */
export const simulatedModel = (model: string) => ({
  'app.kubernetes.io/name': model,
  'sim.slipway.dev/traffic': 'pods',
});

/** Argo's stableService and canaryService: both select every pod; Argo adds the pod-template hash. */
export function argoTrackServices(namespace: string, model: string): k8s.V1Service[] {
  return (['stable', 'canary'] as const).map((track) => ({
    metadata: { name: trackServiceName(model, track), namespace, labels: simulatedModel(model) },
    spec: { selector: { app: model }, ports: [{ name: 'http', port: 8000 }] },
  }));
}

/** The VirtualService Argo starts from: everything to stable. */
export function argoVirtualService(namespace: string, model: string): object {
  return {
    apiVersion: `${VS_API.group}/${VS_API.version}`,
    kind: VIRTUAL_SERVICE.kind,
    metadata: { name: model, namespace },
    spec: {
      hosts: [model],
      http: [
        {
          name: ARGO_ROUTE,
          route: [
            { destination: { host: trackServiceName(model, 'stable') }, weight: 100 },
            { destination: { host: trackServiceName(model, 'canary') }, weight: 0 },
          ],
        },
      ],
    },
  };
}

/**
 * The weight (percent) of the VirtualService's weighted route (its first route matching no header)
 * that goes to the Service `canary`; undefined when it has no such route.
 */
export function canaryWeightOf(
  vs: { spec?: { http?: IstioHttpRoute[] } } | undefined,
  canary: string,
  namespace: string,
): number | undefined {
  const weighted = (vs?.spec?.http ?? []).find(
    (r) => !(r.match ?? []).some((m) => Object.keys(m.headers ?? {}).length > 0),
  );
  if (!weighted) return undefined;
  const destinations = weighted.route ?? [];
  return destinations
    .filter((d) => hostIs(d.destination.host, canary, namespace))
    .reduce((sum, d) => sum + (d.weight ?? (destinations.length === 1 ? 100 : 0)), 0);
}
