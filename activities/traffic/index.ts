// The traffic router factory: one router per release spec.
import type { ReleaseSpec } from '../../workflows/spec/index.ts';
import type { KubernetesClients } from '../kubernetes/clients.ts';
import { GatewayApiRouter } from './gateway-api.ts';
import { IstioRouter } from './istio.ts';
import { ReplicaRatioRouter } from './replica-ratio.ts';
import type { TrafficRouter } from './router.ts';

export function createTrafficRouter(clients: KubernetesClients, spec: ReleaseSpec): TrafficRouter {
  switch (spec.traffic.router) {
    case 'gateway-api':
      return new GatewayApiRouter(clients, spec);
    case 'istio':
      return new IstioRouter(clients, spec);
    case 'replica-ratio':
      return new ReplicaRatioRouter(clients, spec);
  }
}
