// Worker configuration from the environment, validated with zod.
import { z } from 'zod';
import { TASK_QUEUE } from '../workflows/ids.ts';

const WorkerEnv = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  SLIPWAY_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE),
  PROMETHEUS_URL: z.url().optional(),
  SLIPWAY_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).default(200),
  SLIPWAY_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(1).default(100),
  SLIPWAY_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
});

export type WorkerConfig = z.infer<typeof WorkerEnv>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = WorkerEnv.safeParse(env);
  if (!parsed.success) throw new Error(`invalid worker configuration:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
