// Authentication (bearer token → principal, on every /v1 request) and authorization (role and
// namespace) for routes. Failures are problem details: 401 without a valid token, 403 otherwise.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError } from '../errors.ts';
import { permissionProblem, type Permission, type Principal, type TokenAuthenticator } from './tokens.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

export function registerAuthentication(app: FastifyInstance, authenticator: TokenAuthenticator): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/v1/')) return;
    const header = request.headers.authorization;
    const principal = authenticator.authenticate(header);
    if (!principal) {
      void reply.header('www-authenticate', 'Bearer realm="slipway"');
      throw new ProblemError(
        401,
        header ? 'the bearer token is not valid' : 'an Authorization: Bearer <token> header is required',
      );
    }
    request.principal = principal;
  });
}

/** The caller, allowed to do `permission` (in `namespace` when given); throws 403 otherwise. */
export function authorize(request: FastifyRequest, permission: Permission, namespace?: string): Principal {
  const principal = request.principal;
  if (!principal) throw new ProblemError(401, 'an Authorization: Bearer <token> header is required');
  const problem = permissionProblem(principal, permission, namespace);
  if (problem) throw new ProblemError(403, problem);
  return principal;
}
