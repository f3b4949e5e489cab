// The route object a release's router applies, by router: its API resource and its manifest (the
// HTTPRoute of gateway-api, the VirtualService of istio; replica-ratio has none). For the objects a
// release creates and removes (kubernetes/release-objects.ts) and the preflight's dry-run.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ReleaseSpec } from '../../workflows/spec/index.ts';
import { renderHttpRoute } from '../kubernetes/manifests.ts';
import { renderVirtualService, VIRTUAL_SERVICE } from './istio-manifests.ts';
import type { TrafficState } from './router.ts';

export interface RouteResource {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export const HTTP_ROUTE: RouteResource = {
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  plural: 'httproutes',
  kind: 'HTTPRoute',
};

/** The route object's resource, or undefined for a router without one. */
export function routeResource(spec: ReleaseSpec): RouteResource | undefined {
  switch (spec.traffic.router) {
    case 'gateway-api':
      return HTTP_ROUTE;
    case 'istio':
      return VIRTUAL_SERVICE;
    case 'replica-ratio':
      return undefined;
  }
}

/** The route object with `state`, or undefined for a router without one. */
export function renderRoute(spec: ReleaseSpec, state: TrafficState): KubernetesObject | undefined {
  switch (spec.traffic.router) {
    case 'gateway-api':
      return renderHttpRoute(spec, state.weights, state.mirrorPercent, state.cohort ?? false);
    case 'istio':
      return renderVirtualService(spec, state);
    case 'replica-ratio':
      return undefined;
  }
}
