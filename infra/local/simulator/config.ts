// The traffic simulator's settings, from the environment (validated; a bad value fails at start).
import { z } from 'zod';

const SimulatorEnv = z.object({
  SIMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  SIMULATOR_PORT: z.coerce.number().int().min(1).max(65535).default(19091),
  /** Requests per second generated for each model (a Deployment annotation may override it). */
  SIMULATOR_REQUESTS_PER_SECOND: z.coerce.number().min(0).max(100_000).default(50),
  /** Share of requests carrying an A/B cohort's headers while a route matches by header. */
  SIMULATOR_COHORT_FRACTION: z.coerce.number().min(0).max(1).default(0.2),
  /** How often requests are generated; a weight change shows in the next tick. */
  SIMULATOR_TICK_MS: z.coerce.number().int().min(10).max(1_000).default(100),
  /** Seed of the pseudo-random streams (one per model, derived from the seed and the model). */
  SIMULATOR_SEED: z.coerce.number().int().default(1),
  SIMULATOR_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface SimulatorConfig {
  host: string;
  port: number;
  requestsPerSecond: number;
  cohortFraction: number;
  tickMs: number;
  seed: number;
  logLevel: z.infer<typeof SimulatorEnv>['SIMULATOR_LOG_LEVEL'];
}

export function loadSimulatorConfig(env: NodeJS.ProcessEnv = process.env): SimulatorConfig {
  const parsed = SimulatorEnv.safeParse(env);
  if (!parsed.success) throw new Error(`invalid simulator configuration:\n${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  return {
    host: e.SIMULATOR_HOST,
    port: e.SIMULATOR_PORT,
    requestsPerSecond: e.SIMULATOR_REQUESTS_PER_SECOND,
    cohortFraction: e.SIMULATOR_COHORT_FRACTION,
    tickMs: e.SIMULATOR_TICK_MS,
    seed: e.SIMULATOR_SEED,
    logLevel: e.SIMULATOR_LOG_LEVEL,
  };
}
