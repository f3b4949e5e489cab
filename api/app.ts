// The Slipway HTTP API as a Fastify app over injected dependencies (no listening here: api/server.ts
// listens; tests use the app directly). Routes: routes/*.ts; errors: errors.ts; auth: auth/.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { KubernetesClients } from '../activities/kubernetes/clients.ts';
import { registerAuthentication } from './auth/guard.ts';
import type { TokenAuthenticator } from './auth/tokens.ts';
import { errorHandler, ProblemError, routerErrorHandler, sendProblem } from './errors.ts';
import { parseJsonBody } from './json-body.ts';
import { createApiMetrics } from './metrics.ts';
import { PromotionSchedules } from './promotion-schedules.ts';
import { ReleaseService } from './release-service.ts';
import { actionRoutes } from './routes/actions.ts';
import { healthRoutes } from './routes/health.ts';
import { releaseRoutes } from './routes/releases.ts';
import { retryRoutes } from './routes/retry.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { StatusCalls } from './status-calls.ts';
import { StatusViews, type StatusViewsOptions } from './status-views.ts';
import { temporalStatusSource } from './temporal-status-source.ts';
import { parseYamlBody } from './yaml-body.ts';

export interface AppDeps {
  client: Client;
  kubernetes: KubernetesClients;
  authenticator: TokenAuthenticator;
  taskQueue: string;
  bodyLimit?: number;
  logLevel?: string;
  /** Where logs go (default stdout); tests capture them. */
  logStream?: NodeJS.WritableStream;
  /**
   * `shared` (default): release statuses served from one view per release, kept current by one
   * follower of its history; `per-reader`: every GET and every event stream asks Temporal itself
   * (the API before shared views; SLIPWAY_STATUS_VIEW=off).
   */
  statusView?: 'shared' | 'per-reader';
  statusViewOptions?: Omit<StatusViewsOptions, 'log'>;
  /** How long a preflight may take before the API answers 503 (default PREFLIGHT_DEADLINE_MS). */
  preflightDeadlineMs?: number;
}

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    frameworkErrors: routerErrorHandler,
    logger: {
      level: deps.logLevel ?? 'info',
      base: { service: 'slipway-api' },
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', '*.token'],
        censor: '[redacted]',
      },
      ...(deps.logStream ? { stream: deps.logStream } : {}),
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, 404, `no route ${request.method} ${request.url.split('?')[0]}`),
  );

  // Bodies are JSON or YAML; anything else (text/plain included) is 415.
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(
        error instanceof ProblemError ? error : new ProblemError(400, 'the body is not valid JSON'),
        undefined,
      );
    }
  });
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseYamlBody(body as string));
    } catch (error) {
      done(error as ProblemError, undefined);
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Slipway API',
        version: '0.1.0',
        description:
          'Durable, gated releases for ML models on Kubernetes. Errors are RFC 9457 problem details.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    // The schemas with a meta id (Problem, ReleaseStatus, …) are $refs in the routes; this puts them
    // in components.schemas, where those $refs point (without it they point at nothing).
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const registry = createApiMetrics(app);
  registerAuthentication(app, deps.authenticator);
  const calls = new StatusCalls(registry);
  const views =
    deps.statusView === 'per-reader'
      ? undefined
      : new StatusViews(temporalStatusSource(deps.client, calls), {
          ...deps.statusViewOptions,
          log: app.log,
        });
  // After the event streams ended (preClose): no follower outlives the app, nor its connection.
  app.addHook('onClose', async () => views?.close());
  const service = new ReleaseService({
    client: deps.client,
    taskQueue: deps.taskQueue,
    kubernetes: deps.kubernetes,
    views,
    calls,
    ...(deps.preflightDeadlineMs === undefined ? {} : { preflightDeadlineMs: deps.preflightDeadlineMs }),
  });
  await app.register(healthRoutes, {
    registry,
    temporalReachable: async () => {
      await deps.client.workflowService.getSystemInfo({});
    },
  });
  const closing = new AbortController();
  app.addHook('preClose', (done) => {
    closing.abort();
    done();
  });
  await app.register(releaseRoutes, { service, closing: closing.signal });
  await app.register(retryRoutes, { service });
  await app.register(actionRoutes, { service });
  await app.register(scheduleRoutes, {
    schedules: new PromotionSchedules(deps.client, deps.taskQueue),
    service,
  });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  return app;
}
