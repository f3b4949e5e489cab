// The Istio VirtualService of a release, rendered and read back. Pure functions.
//
// Slipway owns, through server-side apply with field manager `slipway`: two labels, `spec.hosts`,
// `spec.http` and — only when the spec names them — `spec.gateways` (the CRD's lists are atomic: the
// whole list is its owner's). Other fields (`exportTo`, `tcp`, `tls`…) may belong to users.
//
// `spec.http`, in order (Istio takes the first route whose match holds):
// 1. with `cohort`, when the spec has an A/B cohort or a blue-green preview: a route matching those
//    headers (exact values) to `<model>-canary`;
// 2. the weighted route: `<model>-stable` and `<model>-canary` with their weights (percent), and
//    during shadow a mirror to `<model>-canary` of `mirrorPercentage` of its requests.
import { candidateHeaders, type ReleaseSpec } from '../../workflows/spec/index.ts';
import { LABEL_MANAGED_BY, LABEL_NAME, trackServiceName } from '../kubernetes/labels.ts';
import type { TrafficState, TrafficWeights } from './router.ts';

export const VIRTUAL_SERVICE = {
  group: 'networking.istio.io',
  version: 'v1',
  plural: 'virtualservices',
  kind: 'VirtualService',
} as const;

/** A destination: a Service of the mesh and its port. */
interface Destination {
  host: string;
  port?: { number: number };
}

/** Istio's HTTPRoute (a VirtualService's `http` entry), limited to what Slipway sets and reads. */
export interface IstioHttpRoute {
  name?: string;
  /** Header names are lower case (Istio's rule); each match's conditions all hold (AND). */
  match?: Array<{ headers?: Record<string, { exact?: string; prefix?: string; regex?: string }> }>;
  route?: Array<{ destination: Destination; weight?: number }>;
  mirror?: Destination;
  mirrorPercentage?: { value?: number };
}

/** A VirtualService (networking.istio.io/v1) limited to the fields Slipway owns. */
export interface VirtualService {
  apiVersion: `${typeof VIRTUAL_SERVICE.group}/${typeof VIRTUAL_SERVICE.version}`;
  kind: typeof VIRTUAL_SERVICE.kind;
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: { hosts: string[]; gateways?: string[]; http: IstioHttpRoute[] };
}

/** The route names Slipway gives its two routes (what `istioctl` and the Envoy stats show). */
export const ROUTE_NAMES = { cohort: 'slipway-candidate-headers', weights: 'slipway-weights' } as const;

function istioTraffic(spec: ReleaseSpec) {
  if (spec.traffic.router !== 'istio') throw new Error(`traffic.router is ${spec.traffic.router}, not istio`);
  return spec.traffic;
}

/**
 * Exact matches on the headers, names lower-cased as Istio requires (HTTP header names are
 * case-insensitive, so the match is the same); of two names equal but for case, the first counts.
 */
function headerMatch(headers: Array<{ name: string; value: string }>): Record<string, { exact: string }> {
  const match: Record<string, { exact: string }> = {};
  for (const h of headers) {
    const name = h.name.toLowerCase();
    if (!(name in match)) match[name] = { exact: h.value };
  }
  return match;
}

export function renderVirtualService(spec: ReleaseSpec, state: TrafficState): VirtualService {
  const traffic = istioTraffic(spec);
  const { model, namespace } = spec;
  const to = (track: 'stable' | 'canary'): Destination => ({
    host: trackServiceName(model, track),
    port: { number: spec.serving.port },
  });
  const headers = state.cohort ? candidateHeaders(spec) : undefined;
  const mirror = state.mirrorPercent;
  return {
    apiVersion: `${VIRTUAL_SERVICE.group}/${VIRTUAL_SERVICE.version}`,
    kind: VIRTUAL_SERVICE.kind,
    metadata: {
      name: traffic.virtualService,
      namespace,
      labels: { [LABEL_NAME]: model, [LABEL_MANAGED_BY]: 'slipway' },
    },
    spec: {
      hosts: traffic.hosts,
      ...(traffic.gateways ? { gateways: traffic.gateways } : {}),
      http: [
        ...(headers
          ? [
              {
                name: ROUTE_NAMES.cohort,
                match: [{ headers: headerMatch(headers) }],
                route: [{ destination: to('canary'), weight: 100 }],
              },
            ]
          : []),
        {
          name: ROUTE_NAMES.weights,
          route: [
            { destination: to('stable'), weight: state.weights.stable },
            { destination: to('canary'), weight: state.weights.canary },
          ],
          ...(mirror === null || mirror <= 0
            ? {}
            : { mirror: to('canary'), mirrorPercentage: { value: mirror } }),
        },
      ],
    },
  };
}

const byHeader = (route: IstioHttpRoute) =>
  (route.match ?? []).some((m) => Object.keys(m.headers ?? {}).length > 0);

/** A destination host names the Service `name` of `namespace`: short, `name.namespace`, or in full. */
export function hostIs(host: string, name: string, namespace: string): boolean {
  return [
    name,
    `${name}.${namespace}`,
    `${name}.${namespace}.svc`,
    `${name}.${namespace}.svc.cluster.local`,
  ].includes(host);
}

/**
 * What a stored VirtualService routes: the weights of its weighted route (the first that matches
 * no header), its mirror, and whether a route sends requests by header to the candidate.
 */
export function virtualServiceState(
  vs: { spec?: { http?: IstioHttpRoute[] } },
  spec: ReleaseSpec,
): TrafficState {
  const { model, namespace } = spec;
  const routes = vs.spec?.http ?? [];
  const weighted = routes.find((r) => !byHeader(r));
  const destinations = weighted?.route ?? [];
  const weightOf = (track: 'stable' | 'canary'): number =>
    destinations
      .filter((d) => hostIs(d.destination.host, trackServiceName(model, track), namespace))
      // A lone destination without a weight takes all the route's traffic (Istio's rule).
      .reduce((sum, d) => sum + (d.weight ?? (destinations.length === 1 ? 100 : 0)), 0);
  const weights: TrafficWeights = { stable: weightOf('stable'), canary: weightOf('canary') };
  const mirror = weighted?.mirror;
  return {
    weights,
    // No mirrorPercentage: Istio mirrors every request.
    mirrorPercent: mirror ? (weighted.mirrorPercentage?.value ?? 100) : null,
    cohort: routes.some(byHeader),
  };
}
