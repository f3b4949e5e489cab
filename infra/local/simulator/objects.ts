// The parts of the cluster objects the simulator reads, as plain views: Deployments managed by
// Slipway (one per track of a model) and routes: Gateway API HTTPRoutes (weights and request mirror),
// and Istio VirtualServices read into the same view (virtual-service.ts).
import type { V1Deployment } from '@kubernetes/client-node';
import { z } from 'zod';
import { parseBehaviour, parseRequestRate, type Behaviour } from './behaviour.ts';

export type Track = 'stable' | 'canary';
export const TRACKS: readonly Track[] = ['stable', 'canary'];

export const LABELS = {
  name: 'app.kubernetes.io/name',
  version: 'app.kubernetes.io/version',
  managedBy: 'app.kubernetes.io/managed-by',
  track: 'slipway.dev/track',
} as const;

export const MANAGED_SELECTOR = `${LABELS.managedBy}=slipway`;

export interface DeploymentView {
  namespace: string;
  name: string;
  model: string;
  track: Track;
  version: string;
  readyReplicas: number;
  behaviour: Behaviour;
  /** Annotations that could not be read. */
  problems: string[];
  /** Per-model request rate from the Deployment's own annotations or its pod template's, when set. */
  requestsPerSecond: number | undefined;
}

export function deploymentView(d: V1Deployment): DeploymentView | undefined {
  const namespace = d.metadata?.namespace;
  const name = d.metadata?.name;
  if (!namespace || !name) return undefined;
  const labels = d.metadata?.labels ?? {};
  const templateLabels = d.spec?.template.metadata?.labels ?? {};
  const trackLabel = labels[LABELS.track] ?? templateLabels[LABELS.track];
  const track: Track =
    trackLabel === 'stable' || trackLabel === 'canary'
      ? trackLabel
      : name.endsWith('-canary')
        ? 'canary'
        : 'stable';
  const model = labels[LABELS.name] ?? templateLabels[LABELS.name] ?? name.replace(/-canary$/, '');
  // The pods report the version of their template; the Deployment's label says the same once rolled.
  const version = templateLabels[LABELS.version] ?? labels[LABELS.version] ?? 'unknown';
  const { behaviour, problems } = parseBehaviour(d.spec?.template.metadata?.annotations);
  return {
    namespace,
    name,
    model,
    track,
    version,
    readyReplicas: d.status?.readyReplicas ?? 0,
    behaviour,
    problems,
    requestsPerSecond:
      parseRequestRate(d.metadata?.annotations) ?? parseRequestRate(d.spec?.template.metadata?.annotations),
  };
}

const BackendRef = z.object({
  group: z.string().optional(),
  kind: z.string().optional(),
  name: z.string(),
  port: z.number().optional(),
});

const Filter = z.object({
  type: z.string(),
  requestMirror: z
    .object({
      backendRef: BackendRef,
      percent: z.number().optional(),
      fraction: z.object({ numerator: z.number(), denominator: z.number().optional() }).optional(),
    })
    .optional(),
});

const HttpRoute = z.object({
  metadata: z.object({
    namespace: z.string(),
    name: z.string(),
    resourceVersion: z.string().optional(),
    generation: z.number().optional(),
  }),
  spec: z
    .object({
      rules: z
        .array(
          z.object({
            matches: z.array(z.object({ headers: z.array(z.unknown()).optional() })).optional(),
            backendRefs: z
              .array(
                BackendRef.extend({ weight: z.number().optional(), filters: z.array(Filter).optional() }),
              )
              .optional(),
            filters: z.array(Filter).optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});

export interface RouteBackend {
  name: string;
  /** Gateway API default: 1 when unset. */
  weight: number;
}

export interface RouteMirror {
  backend: string;
  /** Fraction of requests mirrored, 0..1 (Gateway API: neither percent nor fraction = 100%). */
  fraction: number;
}

export interface RouteRuleView {
  backends: RouteBackend[];
  mirror: RouteMirror | undefined;
  /** The rule matches requests by header (an A/B cohort): only requests carrying them take it. */
  headerMatches: boolean;
}

export interface RouteView {
  namespace: string;
  name: string;
  resourceVersion: string;
  generation: number;
  rules: RouteRuleView[];
}

function isServiceRef(ref: z.infer<typeof BackendRef>): boolean {
  return (ref.group ?? '') === '' && (ref.kind ?? 'Service') === 'Service';
}

function mirrorOf(filters: z.infer<typeof Filter>[] | undefined): RouteMirror | undefined {
  for (const filter of filters ?? []) {
    const m = filter.requestMirror;
    if (filter.type !== 'RequestMirror' || !m || !isServiceRef(m.backendRef)) continue;
    let fraction = 1;
    if (m.percent !== undefined) fraction = m.percent / 100;
    else if (m.fraction) fraction = m.fraction.numerator / (m.fraction.denominator ?? 100);
    return { backend: m.backendRef.name, fraction: Math.min(1, Math.max(0, fraction)) };
  }
  return undefined;
}

/** The route's view, or undefined when it is not a readable HTTPRoute. */
export function routeView(object: unknown): RouteView | undefined {
  const parsed = HttpRoute.safeParse(object);
  if (!parsed.success) return undefined;
  const { metadata, spec } = parsed.data;
  return {
    namespace: metadata.namespace,
    name: metadata.name,
    resourceVersion: metadata.resourceVersion ?? '',
    generation: metadata.generation ?? 0,
    rules: (spec?.rules ?? []).map((rule) => {
      const refs = (rule.backendRefs ?? []).filter(isServiceRef);
      return {
        backends: refs.map((ref) => ({ name: ref.name, weight: ref.weight ?? 1 })),
        headerMatches: (rule.matches ?? []).some((m) => (m.headers?.length ?? 0) > 0),
        // A rule-level mirror applies to every request of the rule; a backend-level one to that
        // backend's requests. The simulator mirrors stable's requests either way.
        mirror:
          mirrorOf(rule.filters) ?? refs.map((ref) => mirrorOf(ref.filters)).find((m) => m !== undefined),
      };
    }),
  };
}

/** Everything the simulator knows about one model. */
export interface ModelObjects {
  key: string;
  namespace: string;
  model: string;
  deployments: Partial<Record<Track, DeploymentView>>;
  route: RouteView | undefined;
}

export const serviceName = (model: string, track: Track): string => `${model}-${track}`;

/** True when the route sends traffic to this model's Services. */
function routeServes(route: RouteView, model: string): boolean {
  const names = new Set([model, serviceName(model, 'stable'), serviceName(model, 'canary')]);
  return route.rules.some((rule) => rule.backends.some((b) => names.has(b.name)));
}

/**
 * Groups Deployments into models and attaches each model's route (an HTTPRoute or a VirtualService):
 * the one named after the model, else any route of the namespace whose backends are the model's Services.
 */
export function groupModels(
  deployments: Iterable<DeploymentView>,
  routes: Iterable<RouteView>,
): ModelObjects[] {
  const models = new Map<string, ModelObjects>();
  for (const d of deployments) {
    const key = `${d.namespace}/${d.model}`;
    let entry = models.get(key);
    if (!entry) {
      entry = { key, namespace: d.namespace, model: d.model, deployments: {}, route: undefined };
      models.set(key, entry);
    }
    // Two Deployments claiming one track: keep the one named as DESIGN §6 says.
    const expected = d.track === 'stable' ? d.model : serviceName(d.model, 'canary');
    const existing = entry.deployments[d.track];
    if (!existing || d.name === expected) entry.deployments[d.track] = d;
  }
  const routesByNamespace = new Map<string, RouteView[]>();
  for (const r of routes) {
    const list = routesByNamespace.get(r.namespace) ?? [];
    list.push(r);
    routesByNamespace.set(r.namespace, list);
  }
  for (const entry of models.values()) {
    const candidates = routesByNamespace.get(entry.namespace) ?? [];
    entry.route =
      candidates.find((r) => r.name === entry.model && routeServes(r, entry.model)) ??
      candidates.find((r) => routeServes(r, entry.model));
  }
  return [...models.values()].sort((a, b) => a.key.localeCompare(b.key));
}
