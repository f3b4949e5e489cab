// How traffic is split between stable and candidate: the router and its settings. Pure.
import { z } from 'zod';
import { dnsLabel, dnsSubdomain } from './names.ts';
import { port } from './serving.ts';

/** A Gateway API ParentReference (usually a Gateway). */
const ParentRef = z.strictObject({
  name: z.string().min(1).max(253),
  namespace: dnsLabel.optional(),
  group: z.string().max(253).optional(),
  kind: z.string().min(1).max(63).optional(),
  sectionName: z.string().min(1).max(253).optional(),
  port: port.optional(),
});

const GatewayApiTraffic = z.strictObject({
  router: z.literal('gateway-api'),
  /** HTTPRoute name; defaults to the model's name (filled in by `ReleaseSpec`). */
  route: dnsLabel.optional(),
  /** parentRefs Slipway sets; leave out to let users own them (server-side apply). */
  parentRefs: z.array(ParentRef).min(1).optional(),
});

const ReplicaRatioTraffic = z.strictObject({ router: z.literal('replica-ratio') });

/** One DNS label: lower-case alphanumerics and `-`, alphanumeric at both ends, ≤ 63. */
const HOST_LABEL = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';
/** `reviews`, `reviews.ml.svc.cluster.local`, `*.example.com`: what Istio accepts as a host. */
const HOST = new RegExp(`^(\\*\\.)?${HOST_LABEL}(\\.${HOST_LABEL})*$`);

/** A VirtualService host: a DNS name (a short one is a Service of the namespace), `*.` wildcards allowed. */
const istioHost = z
  .string()
  .max(253, 'must be at most 253 characters (a DNS name)')
  .refine(
    (host) => host === '*' || HOST.test(host),
    'must be a lower-case DNS name such as fraud, fraud.ml.svc.cluster.local or *.example.com',
  );

/** The reserved gateway name for every sidecar of the mesh. */
const MESH = 'mesh';

/** A gateway to bind to: `mesh`, `<gateway>` (the release's namespace) or `<namespace>/<gateway>`. */
const istioGateway = z.string().refine((gateway) => {
  const [first, second, ...rest] = gateway.split('/');
  if (rest.length > 0 || first === undefined) return false;
  if (second === undefined) return gateway === MESH || dnsSubdomain.safeParse(first).success;
  return dnsLabel.safeParse(first).success && dnsSubdomain.safeParse(second).success;
}, 'must be mesh, a Gateway name, or <namespace>/<gateway> (DNS-1123 names)');

/** Each entry once: a repeated host or gateway is a typo, and Istio refuses duplicate hosts. */
function unique(values: readonly string[], ctx: z.RefinementCtx, key: string): void {
  const seen = new Set<string>();
  values.forEach((value, index) => {
    if (seen.has(value))
      ctx.addIssue({ code: 'custom', path: [key, index], message: `${value} is listed twice` });
    seen.add(value);
  });
}

const IstioTraffic = z
  .strictObject({
    router: z.literal('istio'),
    /** VirtualService name; defaults to the model's name (filled in by `ReleaseSpec`). */
    virtualService: dnsLabel.optional(),
    /** The hosts clients call; defaults to `[<model>]`, the model's Service (filled in by `ReleaseSpec`). */
    hosts: z.array(istioHost).min(1, 'name at least one host').max(16, 'at most 16 hosts').optional(),
    /** Gateways (and `mesh`) the routes apply to; absent = Istio's default, the mesh's sidecars. */
    gateways: z
      .array(istioGateway)
      .min(1, 'name at least one gateway')
      .max(16, 'at most 16 gateways')
      .optional(),
  })
  .superRefine((traffic, ctx) => {
    unique(traffic.hosts ?? [], ctx, 'hosts');
    unique(traffic.gateways ?? [], ctx, 'gateways');
    // Istio refuses the catch-all host for the mesh (it would capture every call of every sidecar).
    const meshBound = traffic.gateways === undefined || traffic.gateways.includes(MESH);
    traffic.hosts?.forEach((host, index) => {
      if (host === '*' && meshBound)
        ctx.addIssue({
          code: 'custom',
          path: ['hosts', index],
          message: 'host * is only for a VirtualService bound to gateways (not to mesh)',
        });
    });
  });

/** How traffic is split between stable and candidate. Default: `{ router: gateway-api, route: <model> }`. */
export const TrafficSpec = z.discriminatedUnion('router', [
  GatewayApiTraffic,
  IstioTraffic,
  ReplicaRatioTraffic,
]);
type TrafficInput = z.output<typeof TrafficSpec>;

/** The traffic settings with their defaults filled in: the route object named after the model. */
export type Traffic =
  | (Extract<TrafficInput, { router: 'gateway-api' }> & { route: string })
  | Extract<TrafficInput, { router: 'replica-ratio' }>
  | (Extract<TrafficInput, { router: 'istio' }> & { virtualService: string; hosts: string[] });

/** Fills in what defaults to the model's name (a parsed spec re-parses to itself). */
export function trafficDefaults(traffic: TrafficInput, model: string): Traffic {
  switch (traffic.router) {
    case 'gateway-api':
      return { ...traffic, route: traffic.route ?? model };
    case 'replica-ratio':
      return traffic;
    case 'istio':
      return { ...traffic, virtualService: traffic.virtualService ?? model, hosts: traffic.hosts ?? [model] };
  }
}
