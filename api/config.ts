// API configuration from the environment, validated with zod.
import { z } from 'zod';
import { TemporalConnectionEnv } from '../worker/temporal-connection.ts';
import { TASK_QUEUE } from '../workflows/ids.ts';

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const ApiEnv = TemporalConnectionEnv.extend({
  SLIPWAY_API_HOST: z.string().min(1).default('127.0.0.1'),
  SLIPWAY_API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  SLIPWAY_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE),
  /** A YAML or JSON file: a list of { subject, roles, namespaces?, tokenSha256 }. */
  SLIPWAY_API_TOKENS_FILE: z.string().min(1).optional(),
  /** The same list as JSON, when no file is given. */
  SLIPWAY_API_TOKENS: z.string().min(1).optional(),
  SLIPWAY_SEPARATION_OF_DUTIES: flag.default(false),
  SLIPWAY_API_BODY_LIMIT: z.coerce.number().int().min(1024).default(1024 * 1024),
  SLIPWAY_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export type ApiConfig = z.infer<typeof ApiEnv>;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const parsed = ApiEnv.safeParse(env);
  if (!parsed.success) throw new Error(`invalid API configuration:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
