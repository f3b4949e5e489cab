// The worker's HTTP endpoint (SLIPWAY_WORKER_HTTP): /healthz = the worker has not stopped or failed,
// /readyz = the worker is RUNNING (polling its task queue), /metrics = worker/metrics.ts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { State } from '@temporalio/worker';
import { METRICS_CONTENT_TYPE, metricsText } from './metrics.ts';

export interface WorkerHttpServer {
  server: Server;
  /** The address it listens on (the real port when the configured one was 0). */
  address: string;
}

export async function startWorkerHttpServer(
  bind: string,
  temporalMetricsBind: string,
  state: () => State,
): Promise<WorkerHttpServer> {
  const sep = bind.lastIndexOf(':');
  const server = createServer((request, response) => {
    const current = state();
    if (request.url === '/healthz') {
      const ok = current !== 'FAILED' && current !== 'STOPPED';
      response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(current);
    } else if (request.url === '/readyz') {
      response.writeHead(current === 'RUNNING' ? 200 : 503, { 'content-type': 'text/plain' }).end(current);
    } else if (request.url === '/metrics') {
      void metricsText(temporalMetricsBind).then(
        (body) => response.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(body),
        () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable'),
      );
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(bind.slice(sep + 1)), bind.slice(0, sep), resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return { server, address: `${address}:${port}` };
}
