// PUT/GET/DELETE /v1/releases/{namespace}/{model}/promotion-schedule: a Temporal Schedule that asks
// the release to promote at a time (api/promotion-schedules.ts).
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize } from '../auth/guard.ts';
import { Problem } from '../errors.ts';
import { PromotionSchedule, PromotionScheduleBody, type PromotionSchedules } from '../promotion-schedules.ts';
import { ReleaseParams } from '../schemas.ts';

const problems = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, Problem]));
const path = '/v1/releases/:namespace/:model/promotion-schedule';

export const scheduleRoutes: FastifyPluginCallbackZod<{ schedules: PromotionSchedules }> = (app, { schedules }, done) => {
  app.put(
    path,
    { schema: { summary: 'Promote the release at a time (replaces an existing schedule)', params: ReleaseParams, body: PromotionScheduleBody, response: { 200: PromotionSchedule, ...problems(400, 401, 403, 413, 415) } } },
    async (request) => {
      // A scheduled promotion is a promote-now deferred: it needs the approve permission.
      const principal = authorize(request, 'approve', request.params.namespace);
      return schedules.put(request.params.namespace, request.params.model, request.body, principal.subject);
    },
  );
  app.get(path, { schema: { summary: 'The promotion schedule', params: ReleaseParams, response: { 200: PromotionSchedule, ...problems(400, 401, 403, 404) } } }, async (request) => {
    authorize(request, 'read', request.params.namespace);
    return schedules.get(request.params.namespace, request.params.model);
  });
  app.delete(path, { schema: { summary: 'Remove the promotion schedule', params: ReleaseParams, response: { 204: z.null().meta({ description: 'deleted' }), ...problems(400, 401, 403, 404) } } }, async (request, reply) => {
    authorize(request, 'approve', request.params.namespace);
    await schedules.delete(request.params.namespace, request.params.model);
    return reply.status(204).send(null);
  });
  done();
};
