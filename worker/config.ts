// Worker configuration from the environment, validated with zod.
import { z } from 'zod';
import { TASK_QUEUE } from '../workflows/ids.ts';
import { TemporalConnectionEnv } from './temporal-connection.ts';

/** `host:port` (port 0 = any free port), or `off`. */
const bindAddress = z.union([
  z.literal('off'),
  z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port (e.g. 127.0.0.1:9464) or off'),
]);

const WorkerEnv = TemporalConnectionEnv.extend({
  SLIPWAY_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE),
  PROMETHEUS_URL: z.url().optional(),
  /**
   * Activity slots. Every release that holds or waits keeps one long activity (the candidate watch,
   * a rollout or Job wait) and takes short ones beside it, so a worker needs about two per release it
   * carries: with 200, 200 holding releases would take every slot and leave none for measurements.
   */
  SLIPWAY_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).default(2500),
  SLIPWAY_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(1).default(100),
  /**
   * Releases kept in the worker's workflow cache. Unset: the SDK's default, which scales with the
   * V8 heap limit (about 2,400 at Node's 4 GiB default, 480 with --max-old-space-size=1024). A release
   * that falls out of the cache is replayed from its history at its next task, so a worker should
   * cache every release it carries: each one wakes at every gate interval.
   */
  SLIPWAY_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(1).optional(),
  /**
   * How long a workflow task may wait for this worker on its sticky queue before the server hands
   * it to the task queue, where a worker must replay the release's whole history. The SDK's 10 s
   * turned a busy worker into a replaying one at 1,000 releases (each timeout a full replay, which
   * made it busier). A worker that died is detected by the server on its own (no poller for 10 s).
   */
  SLIPWAY_STICKY_QUEUE_TIMEOUT: z
    .string()
    .regex(/^\d+(ms|s|m)$/, 'expected a duration such as 30s')
    .default('30s'),
  /** /healthz, /readyz and /metrics (Slipway's and Temporal's metrics in one scrape). */
  SLIPWAY_WORKER_HTTP: bindAddress.default('127.0.0.1:9464'),
  /** Where the Temporal runtime's own Prometheus exporter listens (scraped through /metrics above). */
  SLIPWAY_TEMPORAL_METRICS: bindAddress.default('127.0.0.1:9465'),
  /** How long in-flight activities may run on after SIGTERM before they are cancelled. */
  SLIPWAY_SHUTDOWN_GRACE: z
    .string()
    .regex(/^\d+(ms|s|m)$/, 'expected a duration such as 20s')
    .default('20s'),
  SLIPWAY_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  /**
   * Separation of duties for every release of this installation: the submitter may not approve
   * their own release. Namespaces can ask for it alone with `slipway.dev/separation-of-duties: "true"`.
   */
  SLIPWAY_SEPARATION_OF_DUTIES: z
    .enum(['true', 'false'], { message: 'expected true or false' })
    .default('false')
    .transform((value) => value === 'true'),
});

export type WorkerConfig = z.infer<typeof WorkerEnv>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = WorkerEnv.safeParse(env);
  if (!parsed.success) throw new Error(`invalid worker configuration:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
