// The worker process (`npm run worker`, `node worker/main.ts` in the image): config from the
// environment (a bad value exits 2 naming the variable), pino JSON logs for Slipway and the Temporal
// runtime, metrics and health on SLIPWAY_WORKER_HTTP, an optional prebuilt workflow bundle
// (SLIPWAY_WORKFLOW_BUNDLE), and a graceful shutdown on SIGTERM/SIGINT: polling stops, running
// activities get SLIPWAY_SHUTDOWN_GRACE to finish, then the process exits 0. Releases it was running
// continue on the next worker (their state lives in Temporal).
import { readFileSync } from 'node:fs';
import { Runtime } from '@temporalio/worker';
import { loadWorkerConfig, type WorkerConfig } from './config.ts';
import { connectionOptions, type TemporalConnectionOptions } from './temporal-connection.ts';
import { createReleaseWorker } from './create-worker.ts';
import { startWorkerHttpServer } from './http-server.ts';
import { createLogger, temporalLogger } from './logging.ts';
import { temporalTelemetry } from './metrics.ts';

/** A configuration problem: said in one line on stderr, exit 2 (no stack trace). */
function configurationError(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

let config: WorkerConfig;
let connection: TemporalConnectionOptions;
try {
  config = loadWorkerConfig();
  connection = connectionOptions(config);
} catch (error) {
  configurationError(error instanceof Error ? error.message : String(error));
}
const bundlePath = process.env.SLIPWAY_WORKFLOW_BUNDLE;
let bundleCode: string | undefined;
if (bundlePath) {
  try {
    bundleCode = readFileSync(bundlePath, 'utf8');
  } catch (error) {
    configurationError(
      `cannot read SLIPWAY_WORKFLOW_BUNDLE ${bundlePath}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
}

const logger = createLogger(config.SLIPWAY_LOG_LEVEL);
Runtime.install({
  logger: temporalLogger(logger),
  shutdownSignals: ['SIGINT', 'SIGTERM'],
  telemetryOptions: temporalTelemetry(config.SLIPWAY_TEMPORAL_METRICS),
});

try {
  const releaseWorker = await createReleaseWorker({
    config,
    connection,
    // The SDK inlines source maps into the code; the separate field is unused but still typed.
    ...(bundleCode ? { workflowBundle: { code: bundleCode, sourceMap: '' } } : {}),
  });
  const { worker } = releaseWorker;
  const http =
    config.SLIPWAY_WORKER_HTTP === 'off'
      ? undefined
      : await startWorkerHttpServer(config.SLIPWAY_WORKER_HTTP, config.SLIPWAY_TEMPORAL_METRICS, () =>
          worker.getState(),
        );
  logger.info(
    {
      taskQueue: config.SLIPWAY_TASK_QUEUE,
      temporal: config.TEMPORAL_ADDRESS,
      namespace: config.TEMPORAL_NAMESPACE,
      http: http?.address ?? 'off',
      bundle: bundlePath ?? null,
    },
    'worker started',
  );
  await worker.run();
  http?.server.close();
  await releaseWorker.close();
  logger.info('worker stopped');
} catch (error) {
  logger.fatal({ err: error }, 'worker failed');
  process.exitCode = 1;
}
