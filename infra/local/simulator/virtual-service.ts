// Istio VirtualServices as the simulator reads them: each `http` route becomes a rule of the same
// view an HTTPRoute gives (objects.ts), so the split, the cohort and the mirror come out the same way.
// - a route with a `match` on headers is a cohort rule (only requests with those headers take it);
// - `route[].destination.host` names a Service (short, `name.namespace`, or the full
//   `name.namespace.svc.cluster.local`); a lone destination without a weight takes everything;
// - `mirror` (+ `mirrorPercentage.value`, else the deprecated `mirrorPercent`, else 100%), or the
//   first of `mirrors` (each with its own `percentage`).
import { z } from 'zod';
import type { RouteMirror, RouteView } from './objects.ts';

const Destination = z.object({ host: z.string() });
const Percentage = z.object({ value: z.number().optional() });

const VirtualService = z.object({
  metadata: z.object({
    namespace: z.string(),
    name: z.string(),
    resourceVersion: z.string().optional(),
    generation: z.number().optional(),
  }),
  spec: z
    .object({
      http: z
        .array(
          z.object({
            match: z.array(z.object({ headers: z.record(z.string(), z.unknown()).optional() })).optional(),
            route: z.array(z.object({ destination: Destination, weight: z.number().optional() })).optional(),
            mirror: Destination.optional(),
            mirrorPercentage: Percentage.optional(),
            mirrorPercent: z.number().optional(),
            mirrors: z
              .array(z.object({ destination: Destination, percentage: Percentage.optional() }))
              .optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});

/** The Service name a host means in `namespace`, or the host itself when it is another namespace's. */
export function serviceOfHost(host: string, namespace: string): string {
  for (const suffix of [`.${namespace}.svc.cluster.local`, `.${namespace}.svc`, `.${namespace}`]) {
    if (host.endsWith(suffix)) return host.slice(0, -suffix.length);
  }
  return host;
}

const fraction = (percent: number | undefined): number => Math.min(1, Math.max(0, (percent ?? 100) / 100));

/** The view of a VirtualService, or undefined when it is not a readable one. */
export function virtualServiceView(object: unknown): RouteView | undefined {
  const parsed = VirtualService.safeParse(object);
  if (!parsed.success) return undefined;
  const { metadata, spec } = parsed.data;
  const service = (host: string) => serviceOfHost(host, metadata.namespace);
  return {
    namespace: metadata.namespace,
    name: metadata.name,
    resourceVersion: metadata.resourceVersion ?? '',
    generation: metadata.generation ?? 0,
    rules: (spec?.http ?? []).map((http) => {
      const destinations = http.route ?? [];
      const first = http.mirrors?.[0];
      const mirror: RouteMirror | undefined = http.mirror
        ? {
            backend: service(http.mirror.host),
            fraction: fraction(http.mirrorPercentage?.value ?? http.mirrorPercent),
          }
        : first && { backend: service(first.destination.host), fraction: fraction(first.percentage?.value) };
      return {
        backends: destinations.map((d) => ({
          name: service(d.destination.host),
          weight: d.weight ?? (destinations.length === 1 ? 100 : 0),
        })),
        mirror,
        headerMatches: (http.match ?? []).some((m) => Object.keys(m.headers ?? {}).length > 0),
      };
    }),
  };
}
