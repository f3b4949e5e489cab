// The traffic simulator (local stack only, never imported by production code): plays the data plane
// for the models Slipway manages (and Services in front of other tools' pods, pod-groups.ts). Watches
// Deployments, HTTPRoutes, VirtualServices, opted-in Services and pods, generates each
// model's request stream every tick and serves /metrics, /healthz and /state. Configured by
// SIMULATOR_* variables and KUBECONFIG.
import { performance } from 'node:perf_hooks';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { createClusterWatch } from './cluster-watch.ts';
import { loadSimulatorConfig } from './config.ts';
import { createMetrics } from './metrics.ts';
import { createSimulatorServer } from './server.ts';
import { createTrafficGenerator } from './traffic.ts';

async function main(): Promise<void> {
  const config = loadSimulatorConfig();
  const logger = pino({ name: 'traffic-simulator', level: config.logLevel });
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();

  const metrics = createMetrics();
  const watch = createClusterWatch(kc, logger);
  const traffic = createTrafficGenerator({
    requestsPerSecond: config.requestsPerSecond,
    cohortFraction: config.cohortFraction,
    seed: config.seed,
    metrics,
    logger,
  });
  const server = createSimulatorServer({
    metrics,
    health: () => watch.health(),
    report: () => traffic.report(),
    logger,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  logger.info(
    { listen: `http://${config.host}:${config.port}`, server: kc.getCurrentCluster()?.server, ...config },
    'listening',
  );

  await watch.start();
  logger.info({ watches: watch.health() }, 'watching');

  let last = performance.now();
  traffic.tick(watch.models(), last);
  const timer = setInterval(() => {
    const now = performance.now();
    metrics.tick(Math.max(0, now - last - config.tickMs) / 1000);
    last = now;
    traffic.tick(watch.models(), now);
  }, config.tickMs);

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'stopping');
    clearInterval(timer);
    server.close();
    server.closeAllConnections();
    watch.stop().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('traffic simulator failed:', error);
  process.exit(1);
});
