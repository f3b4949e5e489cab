// `npm run api`: the Slipway API on SLIPWAY_API_HOST:SLIPWAY_API_PORT (default 127.0.0.1:8080). A bad
// configuration (env, token table, TLS files) exits 2 with a message naming it, no stack trace.
import { Client, Connection } from '@temporalio/client';
import { createKubernetesClients } from '../activities/kubernetes/clients.ts';
import { connectionOptions } from '../worker/temporal-connection.ts';
import { buildApp } from './app.ts';
import { loadTokenTable, TokenAuthenticator } from './auth/tokens.ts';
import { deprecationWarnings, loadApiConfig } from './config.ts';

let config;
let tokens;
let temporal;
try {
  config = loadApiConfig();
  temporal = connectionOptions(config);
  tokens = loadTokenTable({ file: config.SLIPWAY_API_TOKENS_FILE, json: config.SLIPWAY_API_TOKENS });
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}
if (tokens.length === 0)
  console.error(
    'warning: no API tokens configured (SLIPWAY_API_TOKENS_FILE / SLIPWAY_API_TOKENS): every /v1 request will get 401',
  );

const connection = await Connection.connect(temporal);
const app = await buildApp({
  client: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }),
  kubernetes: createKubernetesClients(),
  authenticator: new TokenAuthenticator(tokens),
  taskQueue: config.SLIPWAY_TASK_QUEUE,
  bodyLimit: config.SLIPWAY_API_BODY_LIMIT,
  logLevel: config.SLIPWAY_LOG_LEVEL,
  statusView: config.SLIPWAY_STATUS_VIEW === 'off' ? 'per-reader' : 'shared',
  preflightDeadlineMs: config.SLIPWAY_API_PREFLIGHT_DEADLINE_SECONDS * 1000,
});

for (const warning of deprecationWarnings(config)) app.log.warn(warning);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.log.info({ signal }, 'shutting down');
    void app
      .close()
      .then(() => connection.close())
      .then(() => process.exit(0));
  });
}
await app.listen({ host: config.SLIPWAY_API_HOST, port: config.SLIPWAY_API_PORT });
app.log.info(
  { temporal: config.TEMPORAL_ADDRESS, taskQueue: config.SLIPWAY_TASK_QUEUE, tokens: tokens.length },
  'api started',
);
