// How traffic is split between stable and candidate: the router and its settings. Pure.
import { z } from 'zod';
import { dnsLabel } from './names.ts';
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

/** How traffic is split between stable and candidate. Default: `{ router: gateway-api, route: <model> }`. */
export const TrafficSpec = z.discriminatedUnion('router', [GatewayApiTraffic, ReplicaRatioTraffic]);
