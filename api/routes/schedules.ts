// PUT/GET/DELETE /v1/releases/{namespace}/{model}/promotion-schedule: a Temporal Schedule that asks
// the release to promote at a time (api/promotion-schedules.ts).
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize } from '../auth/guard.ts';
import { Problem } from '../errors.ts';
import { assertMaySchedulePromotion } from '../promotion-policy.ts';
import { PromotionSchedule, PromotionScheduleBody, type PromotionSchedules } from '../promotion-schedules.ts';
import type { ReleaseService } from '../release-service.ts';
import { ReleaseParams } from '../schemas.ts';

const problems = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, Problem]));
const path = '/v1/releases/:namespace/:model/promotion-schedule';

export interface ScheduleRoutesOptions {
  schedules: PromotionSchedules;
  service: ReleaseService;
}

export const scheduleRoutes: FastifyPluginCallbackZod<ScheduleRoutesOptions> = (
  app,
  { schedules, service },
  done,
) => {
  app.put(
    path,
    {
      schema: {
        summary: 'Promote the running release at a time (replaces an existing schedule)',
        description:
          'Needs the approve permission (a scheduled promotion is a deferred promote-now). 403 for the release’s submitter when the release runs under separation of duties (status.policy); 404 without a release, 409 when it has ended.',
        params: ReleaseParams,
        body: PromotionScheduleBody,
        response: { 200: PromotionSchedule, ...problems(400, 401, 403, 404, 409, 413, 415, 503) },
      },
    },
    async (request) => {
      // A scheduled promotion is a promote-now deferred: it needs the approve permission, and under
      // separation of duties it is not the submitter's to set.
      const { namespace, model } = request.params;
      const principal = authorize(request, 'approve', namespace);
      schedules.validate(request.body);
      assertMaySchedulePromotion(await service.status(namespace, model), principal.subject);
      return schedules.put(namespace, model, request.body, principal.subject);
    },
  );
  app.get(
    path,
    {
      schema: {
        summary: 'The promotion schedule',
        params: ReleaseParams,
        response: { 200: PromotionSchedule, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      authorize(request, 'read', request.params.namespace);
      return schedules.get(request.params.namespace, request.params.model);
    },
  );
  app.delete(
    path,
    {
      schema: {
        summary: 'Remove the promotion schedule',
        params: ReleaseParams,
        response: { 204: z.null().meta({ description: 'deleted' }), ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      authorize(request, 'approve', request.params.namespace);
      await schedules.delete(request.params.namespace, request.params.model);
      return reply.status(204).send(null);
    },
  );
  done();
};
