// /v1/releases: start (or dry-run) a release, list releases, read a release's status and history,
// follow it as Server-Sent Events.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ReleaseSpec, validateReleaseSpec } from '../../workflows/spec/index.ts';
import { authorize } from '../auth/guard.ts';
import { Problem, ProblemError } from '../errors.ts';
import type { ReleaseService } from '../release-service.ts';
import {
  DryRunResult,
  HistoryQuery,
  ListQuery,
  ReleaseList,
  ReleaseParams,
  ReleaseStatusDoc,
  StartedRelease,
  StartQuery,
} from '../schemas.ts';
import { followRelease } from './events.ts';

export interface ReleaseRoutesOptions {
  service: ReleaseService;
  /** Aborted when the server starts closing: event streams end then. */
  closing: AbortSignal;
}

/** ReleaseStatus is a TypeScript interface; ReleaseStatusDoc documents (and passes through) it. */
export function asStatusDoc(status: object): z.infer<typeof ReleaseStatusDoc> {
  return status as z.infer<typeof ReleaseStatusDoc>;
}

const problems = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, Problem]));

export const releaseRoutes: FastifyPluginCallbackZod<ReleaseRoutesOptions> = (
  app,
  { service, closing },
  done,
) => {
  app.post(
    '/v1/releases',
    {
      schema: {
        summary: 'Start a release (or dry-run it with ?dryRun=true)',
        description:
          'Body: a release spec as JSON or YAML (application/yaml). 400 with the issues’ paths for a malformed spec; 422 with the paths for a well-formed one its strategy or router cannot carry out (e.g. blueGreen with replica-ratio). Every start first runs the dry-run’s preflight (render, server-side dry-run, RBAC, capacity): 422 with the cluster’s reason when it fails, and then no release starts. One active release per model: 409 unless ?supersede=true aborts the active one first. 503 only when Temporal or the cluster cannot be reached, or the preflight runs past its deadline (SLIPWAY_API_PREFLIGHT_DEADLINE_SECONDS, a saturated cluster: with Retry-After, and nothing started).',
        consumes: ['application/json', 'application/yaml'],
        querystring: StartQuery,
        body: ReleaseSpec,
        response: {
          200: DryRunResult,
          202: StartedRelease,
          ...problems(400, 401, 403, 409, 413, 415, 422, 503),
        },
      },
      // The spec is validated in the handler, so that its issue paths stay exact (keys such as
      // nvidia.com/gpu contain a slash); the schema above documents it.
      validatorCompiler: (route) =>
        // At run time route.schema is the schema of this part only.
        route.httpPart === 'body'
          ? (data: unknown) => ({ value: data })
          : validatorCompiler(route as unknown as Parameters<typeof validatorCompiler>[0]),
    },
    async (request, reply) => {
      authorize(request, 'deploy');
      const validated = validateReleaseSpec(request.body);
      if (!validated.ok) {
        // A well-formed spec asking for what its strategy or router cannot do is a 422, a malformed one a 400.
        const status = validated.unsupported ? 422 : 400;
        const what = validated.unsupported ? 'cannot be carried out' : 'is invalid';
        throw new ProblemError(status, `the release spec ${what}: ${validated.summary}`, {
          issues: validated.issues,
        });
      }
      const { spec } = validated;
      const principal = authorize(request, 'deploy', spec.namespace);
      if (request.query.dryRun) return reply.status(200).send(await service.dryRun(spec));
      const started = await service.start(spec, principal.subject, {
        supersede: request.query.supersede ?? false,
      });
      request.log.info(
        { releaseId: started.releaseId, model: spec.model, version: spec.version, by: principal.subject },
        'release started',
      );
      return reply.status(202).header('location', started.links.self).send(started);
    },
  );

  app.get(
    '/v1/releases',
    {
      schema: {
        summary: 'List releases (newest first)',
        querystring: ListQuery,
        response: { 200: ReleaseList, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const principal = authorize(request, 'read', request.query.namespace);
      if (principal.namespaces && !request.query.namespace)
        throw new ProblemError(
          403,
          `${principal.subject} may only list releases of a namespace: give ?namespace=`,
        );
      const { pageSize, pageToken, ...filters } = request.query;
      return service.list(filters, { pageSize, pageToken });
    },
  );

  app.get(
    '/v1/releases/:namespace/:model',
    {
      schema: {
        summary: 'The status of the model’s current or latest release',
        description:
          'A release whose run ended before it could run (an invalid spec) or was terminated, timed out or cancelled has stage done, phase Failed and an outcome naming the failure. Served from one view per release shared by all readers: never older than the release’s history when the request came, and never older than a status answered before.',
        params: ReleaseParams,
        response: { 200: ReleaseStatusDoc, ...problems(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      authorize(request, 'read', request.params.namespace);
      return asStatusDoc(await service.status(request.params.namespace, request.params.model));
    },
  );

  app.get(
    '/v1/releases/:namespace/:model/history',
    {
      schema: {
        summary: 'Past releases of the model (newest first)',
        params: ReleaseParams,
        querystring: HistoryQuery,
        response: { 200: ReleaseList, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      authorize(request, 'read', request.params.namespace);
      return service.history(request.params.namespace, request.params.model, request.query);
    },
  );

  app.get(
    '/v1/releases/:namespace/:model/events',
    {
      schema: {
        summary:
          'Server-Sent Events: `status` with the release status on every change, `end` when it has ended',
        params: ReleaseParams,
        produces: ['text/event-stream'],
        response: {
          200: z.string().meta({ description: 'text/event-stream' }),
          ...problems(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      authorize(request, 'read', request.params.namespace);
      const { namespace, model } = request.params;
      await service.status(namespace, model); // 404 before the stream starts
      await followRelease(request, reply, service.feed(namespace, model), closing);
    },
  );
  done();
};
