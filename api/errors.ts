// Problem details (RFC 9457) for every error the API returns, and the error handler that turns
// Fastify, zod and Temporal errors into them. Nothing a client sends yields a 500; an unreachable
// Temporal or cluster is a 503 with one sentence (api/unavailable.ts). A problem stays small
// whatever the input: its detail is cut at MAX_DETAIL characters, its issues at the first 100.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { formatIssuePath } from '../workflows/spec/index.ts';
import { unavailableSentence } from './unavailable.ts';

export const ProblemIssue = z.object({ path: z.string(), message: z.string() });
export const Problem = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    issues: z.array(ProblemIssue).optional(),
    /** A refused release: the failure type of the cluster's refusal (DryRunFailed, InsufficientCapacity, …). */
    failureType: z.string().optional(),
    /** A 409 for an active release: which one. */
    activeRelease: z.record(z.string(), z.unknown()).optional(),
    /** Issues beyond the first 100, left out of `issues`. */
    issuesOmitted: z.number().int().optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (extension members as documented)' });
export type Problem = z.infer<typeof Problem>;

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** An error that is a problem to report as is. */
export class ProblemError extends Error {
  readonly status: number;
  readonly issues: Array<{ path: string; message: string }> | undefined;
  readonly extra: Record<string, unknown>;
  /** Sent as the Retry-After header: when asking again may be answered (a 503 of a saturated cluster). */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    status: number,
    detail: string,
    options: {
      issues?: Array<{ path: string; message: string }>;
      extra?: Record<string, unknown>;
      retryAfterSeconds?: number;
    } = {},
  ) {
    super(detail);
    this.status = status;
    this.issues = options.issues;
    this.extra = options.extra ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** The longest detail (and instance) a problem carries: one that would echo a huge input is cut. */
export const MAX_DETAIL = 1_000;
const MAX_ISSUES = 100;
const MAX_ISSUE_TEXT = 300;

/** `text` cut to about `max` characters (at a `; ` between issues when there is one), saying how much is left out. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const room = max - 40;
  const atIssue = text.lastIndexOf('; ', room);
  const kept = text.slice(0, atIssue > room / 2 ? atIssue : room);
  return `${kept} … (${text.length - kept.length} more characters)`;
}

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  status: number,
  detail: string,
  issues?: Array<{ path: string; message: string }>,
  extra: Record<string, unknown> = {},
): FastifyReply {
  const kept = issues?.slice(0, MAX_ISSUES).map((issue) => ({
    path: clip(issue.path, MAX_ISSUE_TEXT),
    message: clip(issue.message, MAX_ISSUE_TEXT),
  }));
  const omitted = (issues?.length ?? 0) - (kept?.length ?? 0);
  const body: Problem & Record<string, unknown> = {
    type: `https://slipway.dev/problems/${status}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail: clip(detail, MAX_DETAIL),
    instance: clip(request.url.split('?')[0] ?? '', MAX_DETAIL),
    ...(kept && kept.length > 0 ? { issues: kept } : {}),
    ...(omitted > 0 ? { issuesOmitted: omitted } : {}),
    ...extra,
  };
  return reply.status(status).type('application/problem+json').send(body);
}

const FASTIFY_CODES: Record<string, number> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 413,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 415,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 400,
  FST_ERR_CTP_EMPTY_JSON_BODY: 400,
  FST_ERR_CTP_INVALID_JSON_BODY: 400,
};

/**
 * The problem of a request the router refused before any route ran (Fastify's frameworkErrors):
 * a path parameter over the router's 100 characters (414), or a malformed percent-encoding (400).
 * Without it Fastify answers these itself, as JSON that is no problem and echoes the whole URL.
 */
export function routerErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH')
    void sendProblem(reply, request, 414, 'a path parameter is longer than 100 characters');
  else if (error.code === 'FST_ERR_BAD_URL')
    void sendProblem(reply, request, 400, 'the URL has a malformed percent-encoding');
  else void sendProblem(reply, request, 400, 'the request cannot be routed');
}

export function errorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof ProblemError) {
    if (error.retryAfterSeconds !== undefined)
      void reply.header('retry-after', String(error.retryAfterSeconds));
    return sendProblem(reply, request, error.status, error.message, error.issues, error.extra);
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'request';
    const issues = error.validation.map((v) => ({
      path: formatIssuePath(
        v.instancePath
          .split('/')
          .slice(1)
          .filter(Boolean)
          .map((key) => (/^\d+$/.test(key) ? Number(key) : key)),
      ),
      message: v.message ?? 'invalid',
    }));
    return sendProblem(
      reply,
      request,
      400,
      `the ${where} is invalid: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) return sendProblem(reply, request, mapped, error.message);
  if (
    error instanceof SyntaxError ||
    (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
  ) {
    return sendProblem(
      reply,
      request,
      error.statusCode && error.statusCode < 500 ? error.statusCode : 400,
      error.message,
    );
  }
  const unavailable = unavailableSentence(error);
  if (unavailable) {
    request.log.warn({ err: error }, unavailable);
    return sendProblem(reply, request, 503, unavailable);
  }
  request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, request, 500, 'the server could not handle this request; see its logs');
}
