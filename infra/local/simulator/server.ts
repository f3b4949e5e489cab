// The simulator's HTTP endpoints: /healthz, /metrics (Prometheus) and /state (each model's split).
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { WatchHealth } from './cluster-watch.ts';
import type { SimulatorMetrics } from './metrics.ts';
import type { ModelReport } from './traffic.ts';

export interface ServerDeps {
  metrics: SimulatorMetrics;
  health: () => WatchHealth[];
  report: () => ModelReport[];
  logger: Logger;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body, null, 2)}\n`);
}

export function createSimulatorServer(deps: ServerDeps): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'only GET' });
    switch (path) {
      case '/healthz': {
        const watches = deps.health();
        const ok = watches.every((w) => w.synced);
        return json(res, ok ? 200 : 503, { ok, watches });
      }
      case '/metrics':
        deps.metrics.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': deps.metrics.registry.contentType });
            res.end(text);
          },
          (error: unknown) => {
            deps.logger.error({ err: error }, 'metrics failed');
            json(res, 500, { error: 'metrics failed' });
          },
        );
        return;
      case '/state':
        return json(res, 200, {
          at: new Date().toISOString(),
          watches: deps.health(),
          models: deps.report(),
        });
      default:
        return json(res, 404, { error: `no ${path}; try /healthz, /metrics or /state` });
    }
  });
}
