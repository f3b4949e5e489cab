// POST /v1/releases/{namespace}/{model}/retry: start the model's latest release again, with the
// same spec, as a new run (after a rollback or a failure). Authorized like a start; the caller is
// the new run's submitter; the same preflight runs first.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { authorize } from '../auth/guard.ts';
import { Problem } from '../errors.ts';
import type { ReleaseService } from '../release-service.ts';
import { ReleaseParams, StartedRelease } from '../schemas.ts';

const problems = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, Problem]));

export const retryRoutes: FastifyPluginCallbackZod<{ service: ReleaseService }> = (
  app,
  { service },
  done,
) => {
  app.post(
    '/v1/releases/:namespace/:model/retry',
    {
      schema: {
        summary: 'Retry the latest release (rolled back or failed) with the same spec, as a new run',
        description:
          'Needs the deploy permission in the namespace; the caller is the new run’s submitter and the new run records `retryOf` (the previous run id). The start’s preflight runs first (422 with the cluster’s reason). 404 when the model has no release, 409 when one is active or the latest was promoted.',
        params: ReleaseParams,
        response: { 202: StartedRelease, ...problems(400, 401, 403, 404, 409, 413, 415, 422, 503) },
      },
    },
    async (request, reply) => {
      const { namespace, model } = request.params;
      const principal = authorize(request, 'deploy', namespace);
      const started = await service.retry(namespace, model, principal.subject);
      request.log.info(
        {
          releaseId: started.releaseId,
          retryOf: started.retryOf,
          version: started.version,
          by: principal.subject,
        },
        'release retried',
      );
      return reply.status(202).header('location', started.links.self).send(started);
    },
  );
  done();
};
