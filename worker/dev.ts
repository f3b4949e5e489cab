// `npm run worker`: a release worker against the local stack (or whatever the env points at).
import { Runtime } from '@temporalio/worker';
import { loadWorkerConfig } from './config.ts';
import { createReleaseWorker } from './create-worker.ts';
import { createLogger, temporalLogger } from './logging.ts';

const config = loadWorkerConfig();
const logger = createLogger(config.SLIPWAY_LOG_LEVEL);
Runtime.install({ logger: temporalLogger(logger), shutdownSignals: ['SIGINT', 'SIGTERM'] });

try {
  const worker = await createReleaseWorker({ config });
  logger.info({ taskQueue: config.SLIPWAY_TASK_QUEUE, temporal: config.TEMPORAL_ADDRESS }, 'worker started');
  await worker.run();
  logger.info('worker stopped');
} catch (error) {
  logger.fatal({ err: error }, 'worker failed');
  process.exitCode = 1;
}
