// Benchmark of the HTTP API on the local stack (real Temporal dev server and apiserver): latency of
// `POST /v1/releases?dryRun=true` (validate, render, server-side dry-run, capacity check) and of
// `GET /v1/releases/{ns}/{model}` (a workflow query), each under concurrent load.
// Prints a JSON document and a table. `npm run bench -- api [--requests 400] [--concurrency 16]`
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import { createKubernetesClients } from '../activities/kubernetes/clients.ts';
import { buildApp } from '../api/app.ts';
import { sha256Hex, TokenAuthenticator } from '../api/auth/tokens.ts';
import { releaseSpec } from '../test/helpers/release-fixtures.ts';
import { startLocalBench } from './local-worker.ts';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '400' }, concurrency: { type: 'string', default: '16' } },
});
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);

const bench = await startLocalBench('api-bench', { withTemporalClient: true });
const { kc, client, namespace, taskQueue } = bench;
const token = 'bench-token';
const app = await buildApp({
  client,
  kubernetes: createKubernetesClients(kc),
  authenticator: new TokenAuthenticator([
    { subject: 'bench', roles: ['admin'], tokenSha256: sha256Hex(token) },
  ]),
  taskQueue,
  logLevel: 'warn',
});
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

/** Runs `total` requests with `parallel` in flight; returns each latency in ms (non-2xx throws). */
async function load(total: number, parallel: number, send: () => Promise<Response>): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < total) {
        next++;
        const started = performance.now();
        const response = await send();
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        latencies.push(performance.now() - started);
      }
    }),
  );
  return latencies.sort((a, b) => a - b);
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
const summary = (sorted: number[], seconds: number) => ({
  requests: sorted.length,
  p50Ms: Number(quantile(sorted, 0.5).toFixed(1)),
  p99Ms: Number(quantile(sorted, 0.99).toFixed(1)),
  maxMs: Number(sorted.at(-1)!.toFixed(1)),
  perSecond: Number((sorted.length / seconds).toFixed(0)),
});

try {
  const spec = JSON.stringify(releaseSpec({ namespace, model: 'bench', version: 'v1' }));
  // A release to read: the first release of `bench`, finished.
  const started = await fetch(`${base}/v1/releases`, { method: 'POST', headers, body: spec });
  if (started.status !== 202)
    throw new Error(`could not start the release to read: ${started.status} ${await started.text()}`);
  await client.workflow.getHandle(`release/${namespace}/bench`).result();

  const results: Record<string, ReturnType<typeof summary>> = {};
  const warm = () => fetch(`${base}/v1/releases?dryRun=true`, { method: 'POST', headers, body: spec });
  await load(20, 4, warm);
  let t = performance.now();
  results['POST /v1/releases?dryRun=true'] = summary(
    await load(requests, concurrency, warm),
    (performance.now() - t) / 1000,
  );
  const read = () => fetch(`${base}/v1/releases/${namespace}/bench`, { headers });
  await load(20, 4, read);
  t = performance.now();
  results['GET /v1/releases/{ns}/{model}'] = summary(
    await load(requests, concurrency, read),
    (performance.now() - t) / 1000,
  );

  console.log(JSON.stringify({ concurrency, requestsPerCase: requests, results }));
  console.log(
    `\n| request (concurrency ${concurrency}) | n | p50 ms | p99 ms | max ms | req/s |\n|---|---|---|---|---|---|`,
  );
  for (const [name, r] of Object.entries(results))
    console.log(`| ${name} | ${r.requests} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.perSecond} |`);
} finally {
  await app.close();
  await bench.close();
}
