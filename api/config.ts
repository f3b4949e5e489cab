// API configuration from the environment, validated with zod.
import { z } from 'zod';
import { TemporalConnectionEnv } from '../worker/temporal-connection.ts';
import { TASK_QUEUE } from '../workflows/ids.ts';

const ApiEnv = TemporalConnectionEnv.extend({
  SLIPWAY_API_HOST: z.string().min(1).default('127.0.0.1'),
  SLIPWAY_API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  SLIPWAY_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE),
  /** A YAML or JSON file: a list of { subject, roles, namespaces?, tokenSha256 }. */
  SLIPWAY_API_TOKENS_FILE: z.string().min(1).optional(),
  /** The same list as JSON, when no file is given. */
  SLIPWAY_API_TOKENS: z.string().min(1).optional(),
  /**
   * Deprecated, ignored: separation of duties is the worker's policy (its SLIPWAY_SEPARATION_OF_DUTIES)
   * or the namespace's (annotation slipway.dev/separation-of-duties), enforced by the release itself.
   * Still accepted so that an API configured with it starts; server.ts warns.
   */
  SLIPWAY_SEPARATION_OF_DUTIES: z.string().optional(),
  SLIPWAY_API_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** `off`: every status read and event stream asks Temporal itself, as before shared status views. */
  SLIPWAY_STATUS_VIEW: z.enum(['on', 'off']).default('on'),
  /** Seconds a start's or dry-run's preflight may take before the API answers 503 (a saturated cluster). */
  SLIPWAY_API_PREFLIGHT_DEADLINE_SECONDS: z.coerce.number().int().min(1).max(600).default(20),
  SLIPWAY_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export type ApiConfig = z.infer<typeof ApiEnv>;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const parsed = ApiEnv.safeParse(env);
  if (!parsed.success) throw new Error(`invalid API configuration:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Warnings about settings the API accepts but no longer acts on. */
export function deprecationWarnings(config: ApiConfig): string[] {
  if (config.SLIPWAY_SEPARATION_OF_DUTIES === undefined) return [];
  return [
    'SLIPWAY_SEPARATION_OF_DUTIES has no effect on the API any more: set it on the worker, or annotate a namespace with slipway.dev/separation-of-duties: "true"',
  ];
}
