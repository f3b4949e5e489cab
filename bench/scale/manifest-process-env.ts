// The process settings the worker's manifest gives it (infra/k8s/base/worker.yaml): the scale bench
// runs its workers with them, so it measures what a deployed worker runs. Only the settings that
// are not Slipway's own (malloc, V8) are taken; Slipway's own come from the bench.
import { existsSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

export const MANIFEST = new URL('../../infra/k8s/base/worker.yaml', import.meta.url);

/** The environment variables that are process settings, not Slipway's configuration. */
export const PROCESS_SETTINGS = ['LD_PRELOAD', 'MALLOC_CONF', 'MALLOC_ARENA_MAX', 'NODE_OPTIONS'] as const;

const deployment = z.object({
  kind: z.literal('Deployment'),
  spec: z.object({
    template: z.object({
      spec: z.object({
        containers: z.array(
          z.object({
            name: z.string(),
            env: z.array(z.object({ name: z.string(), value: z.string().optional() })).default([]),
          }),
        ),
      }),
    }),
  }),
});

/** The worker container's process settings, as the manifest has them. */
export function manifestProcessEnv(text = readFileSync(MANIFEST, 'utf8')): Record<string, string> {
  const worker = parseAllDocuments(text)
    .map((doc) => deployment.safeParse(doc.toJS()))
    .flatMap((parsed) => (parsed.success ? parsed.data.spec.template.spec.containers : []))
    .find((container) => container.name === 'worker');
  if (!worker) throw new Error('the worker manifest has no Deployment with a container named worker');
  const wanted = new Set<string>(PROCESS_SETTINGS);
  return Object.fromEntries(
    worker.env.flatMap((e) => (wanted.has(e.name) && e.value !== undefined ? [[e.name, e.value]] : [])),
  );
}

/**
 * The manifest's settings for a worker on this machine: the image's jemalloc path becomes the one
 * setup installed (Debian's libjemalloc2, $SLIPWAY_JEMALLOC). Throws a sentence if it is missing.
 */
export function localProcessEnv(
  manifest = manifestProcessEnv(),
  jemalloc = process.env.SLIPWAY_JEMALLOC ?? '',
): Record<string, string> {
  if (manifest.LD_PRELOAD === undefined || !/libjemalloc/.test(manifest.LD_PRELOAD)) return manifest;
  if (!jemalloc || !existsSync(jemalloc)) {
    throw new Error(
      'the worker manifest preloads jemalloc, which is not installed here: run the bench through ' +
        '`npm run bench` as root once (setup installs Debian’s libjemalloc2), or pass --node-defaults',
    );
  }
  return { ...manifest, LD_PRELOAD: jemalloc };
}
