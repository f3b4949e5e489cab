// /healthz (the process is up), /readyz (Temporal answers), /metrics (Prometheus).
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { temporalUnreachable } from '../unavailable.ts';

export interface HealthOptions {
  /** Resolves when Temporal answers. */
  temporalReachable: () => Promise<void>;
  registry: Registry;
}

export const healthRoutes: FastifyPluginCallbackZod<HealthOptions> = (
  app,
  { temporalReachable, registry },
  done,
) => {
  app.get(
    '/healthz',
    { schema: { summary: 'Liveness', response: { 200: z.object({ status: z.literal('ok') }) } } },
    () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: Temporal reachable',
        response: {
          200: z.object({ status: z.literal('ready') }),
          503: z.object({ status: z.literal('unavailable'), detail: z.string() }),
        },
      },
    },
    async (request, reply) => {
      try {
        await temporalReachable();
        return { status: 'ready' as const };
      } catch (error) {
        request.log.warn({ err: error }, 'not ready: Temporal does not answer');
        return reply.status(503).send({
          status: 'unavailable' as const,
          detail: temporalUnreachable(error) ?? 'Temporal does not answer as expected; see the API logs',
        });
      }
    },
  );
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics', produces: ['text/plain'], response: { 200: z.string() } } },
    async (_request, reply) => {
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
  done();
};
