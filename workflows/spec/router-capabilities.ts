// What each traffic router can do, as one table, and the spec features that need a capability.
// ReleaseSpec's cross-field check applies it, so every entry point that validates a spec (the API,
// the CLI, the workflow) refuses the same specs with the same words. Pure.
import { formatIssuePath } from './issue-path.ts';

export type Router = 'gateway-api' | 'istio' | 'replica-ratio';

export interface RouterCapabilities {
  /** How a canary weight is carried out: exactly (per request) or by the share of ready replicas. */
  weights: 'per-request' | 'ready-replicas';
  /** Mirrors a share of live traffic to the candidate (shadow needs it). */
  mirror: boolean;
  /** Sends all traffic to the candidate while stable rolls (promote.mode handoff needs it). */
  handoff: boolean;
  /**
   * Routes through Slipway's per-track Services, so the stable pods need no Slipway label: an
   * existing Deployment can be adopted without restarting a pod (serving.deploymentRef needs it).
   */
  adopt: boolean;
  /** Can send a cohort by request header to the candidate (HTTPRoute `matches`, VirtualService `match`). */
  headerMatches: boolean;
  /** Routes through a route object Slipway applies (HTTPRoute, VirtualService), which a rollback restores. */
  routeObject: boolean;
  /** The candidate runs at full size from its deployment (weights move traffic, not replicas). */
  candidateFullSize: boolean;
  /** Reads back that the weights took effect (the route's status), beyond having applied them. */
  verifiesWeights: boolean;
}

/** The table. A new router is one row here (and its TrafficRouter in activities/traffic/). */
export const ROUTER_CAPABILITIES: Readonly<Record<Router, RouterCapabilities>> = {
  'gateway-api': {
    weights: 'per-request',
    mirror: true,
    handoff: true,
    adopt: true,
    headerMatches: true,
    routeObject: true,
    candidateFullSize: true,
    verifiesWeights: true,
  },
  // No status to read back: istiod reports none unless its config status is on, and none runs locally.
  istio: {
    weights: 'per-request',
    mirror: true,
    handoff: true,
    adopt: true,
    headerMatches: true,
    routeObject: true,
    candidateFullSize: true,
    verifiesWeights: false,
  },
  'replica-ratio': {
    weights: 'ready-replicas',
    mirror: false,
    handoff: false,
    adopt: false,
    headerMatches: false,
    routeObject: false,
    candidateFullSize: false,
    verifiesWeights: false,
  },
};

/** What the spec's router can do: the one place stages, activities and manifests ask. */
export function routerOf(spec: { traffic: { router: Router } }): RouterCapabilities {
  return ROUTER_CAPABILITIES[spec.traffic.router];
}

/** The parts of a spec (parsed, or inside the schema's own check) the table is asked about. */
export interface RoutedSpec {
  traffic: { router: Router };
  shadow?: unknown;
  promote?: { mode?: 'rolling' | 'handoff' } | undefined;
  canary?: { cohort?: unknown } | undefined;
  serving?: { deploymentRef?: string | undefined } | undefined;
  strategy?: { type: string } | undefined;
}

interface Feature {
  /** Where in the spec the feature is asked for. */
  path: readonly (string | number)[];
  uses(spec: RoutedSpec): boolean;
  /** The capability it needs, and what a router without it cannot do. */
  needs: 'mirror' | 'handoff' | 'adopt' | 'headerMatches';
  cannot: string;
  /** How users name the feature. */
  what: string;
}

const FEATURES: readonly Feature[] = [
  {
    path: ['shadow'],
    uses: (spec) => spec.shadow !== undefined,
    what: 'shadow',
    needs: 'mirror',
    cannot: 'cannot mirror traffic',
  },
  {
    path: ['promote', 'mode'],
    uses: (spec) => spec.promote?.mode === 'handoff',
    what: 'promote.mode handoff',
    needs: 'handoff',
    cannot: 'cannot send 100% of traffic to the candidate',
  },
  {
    path: ['canary', 'cohort'],
    uses: (spec) => spec.canary?.cohort !== undefined,
    what: 'canary.cohort',
    needs: 'headerMatches',
    cannot: 'cannot route by request header',
  },
  {
    path: ['strategy', 'type'],
    uses: (spec) => spec.strategy?.type === 'blueGreen',
    what: 'strategy blueGreen',
    needs: 'headerMatches',
    cannot: 'cannot route the preview by request header',
  },
  {
    path: ['strategy', 'type'],
    uses: (spec) => spec.strategy?.type === 'blueGreen',
    what: 'strategy blueGreen',
    needs: 'handoff',
    cannot: 'cannot switch all traffic to the candidate at once',
  },
  {
    path: ['serving', 'deploymentRef'],
    uses: (spec) => spec.serving?.deploymentRef !== undefined,
    what: 'serving.deploymentRef',
    needs: 'adopt',
    cannot:
      "splits traffic by one Service over both tracks, which needs Slipway's labels on the adopted pods",
  },
];

function routersWith(capability: Feature['needs']): Router[] {
  return (Object.keys(ROUTER_CAPABILITIES) as Router[]).filter(
    (router) => ROUTER_CAPABILITIES[router][capability],
  );
}

/** The features of `spec` its router cannot carry out, each at its zod path. */
export function routerIssues(spec: RoutedSpec): Array<{ path: (string | number)[]; message: string }> {
  const router = spec.traffic.router;
  return FEATURES.filter((feature) => feature.uses(spec) && !ROUTER_CAPABILITIES[router][feature.needs]).map(
    (feature) => ({
      path: [...feature.path],
      message: `${feature.what} needs traffic.router ${routersWith(feature.needs).join(' or ')} (${router} ${feature.cannot})`,
    }),
  );
}

/**
 * The features of `spec` its router cannot carry out, with paths as users write them
 * (`promote.mode`). Empty for every spec `ReleaseSpec` accepts; the workflow asks it again.
 */
export function unsupportedByRouter(spec: RoutedSpec): Array<{ path: string; message: string }> {
  return routerIssues(spec).map((issue) => ({ path: formatIssuePath(issue.path), message: issue.message }));
}
