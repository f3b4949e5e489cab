// Human actions on a release, through the workflow's updates: approve, reject, pause, resume, abort,
// promote (now). The caller's subject is the actor recorded by the release; the role each needs is
// workflows/vocabulary.ts's ACTION_ROLE. A validator's refusal (e.g. separation of duties) is a 422
// with its reason.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { ACTION_ROLE } from '../../workflows/vocabulary.ts';
import { authorize } from '../auth/guard.ts';
import { Problem, ProblemError } from '../errors.ts';
import type { ReleaseService } from '../release-service.ts';
import { ActionBody, ActionParams, ReleaseStatusDoc } from '../schemas.ts';
import { asStatusDoc } from './releases.ts';

export const actionRoutes: FastifyPluginCallbackZod<{ service: ReleaseService }> = (
  app,
  { service },
  done,
) => {
  app.post(
    '/v1/releases/:namespace/:model/:action',
    {
      schema: {
        summary: 'approve | reject (comment required) | pause | resume | abort | promote (now)',
        params: ActionParams,
        body: ActionBody,
        response: {
          200: ReleaseStatusDoc,
          400: Problem,
          401: Problem,
          403: Problem,
          404: Problem,
          409: Problem,
          413: Problem,
          415: Problem,
          422: Problem,
          503: Problem,
        },
      },
    },
    async (request) => {
      const { namespace, model, action } = request.params;
      const principal = authorize(request, ACTION_ROLE[action], namespace);
      const comment = request.body?.comment;
      if (action === 'reject' && !comment)
        throw new ProblemError(400, 'a rejection needs a comment', {
          issues: [{ path: 'comment', message: 'a rejection needs a comment' }],
        });
      const status = await service.act(namespace, model, action, { actor: principal.subject, comment });
      request.log.info({ releaseId: status.releaseId, action, by: principal.subject }, 'release action');
      return asStatusDoc(status);
    },
  );
  done();
};
