// Benchmark of the HTTP API on the local stack (real Temporal dev server and apiserver), with shared
// release status views (the default) and without them (SLIPWAY_STATUS_VIEW=off: every GET and
// every event stream asks Temporal itself), side by side in one run:
// - `POST /v1/releases?dryRun=true` (validate, render, server-side dry-run, capacity check) and
//   `GET /v1/releases/{ns}/{model}` with `concurrency` requests in flight;
// - GET at a fixed arrival rate (`rate` per second for `seconds`) of a finished release and of a
//   running one waiting for approval: p50/p99 and the Temporal calls each GET cost;
// - a release followed from its start to its end by 1 and by 100 event streams: the Temporal
//   calls made meanwhile (gRPC calls on the API's connection, by method).
// Prints a JSON document and tables. `npm run bench -- api [--requests 400] [--concurrency 16]
// [--rate 200] [--seconds 10] [--watchers 100]`
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import {
  Client,
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  type ConnectionOptions,
} from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { createKubernetesClients } from '../activities/kubernetes/clients.ts';
import { buildApp } from '../api/app.ts';
import { sha256Hex, TokenAuthenticator } from '../api/auth/tokens.ts';
import { parseServerSentEvents } from '../cli/sse.ts';
import { releaseSpec, type FixtureOptions } from '../test/helpers/release-fixtures.ts';
import { startLocalBench } from './local-worker.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '16' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '10' },
    watchers: { type: 'string', default: '100' },
  },
});
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const watchers = Number(values.watchers);
const MODES = ['shared', 'per-reader'] as const;
type Mode = (typeof MODES)[number];

const bench = await startLocalBench('api-bench', { withTemporalClient: true });
const { kc, namespace, taskQueue } = bench;
const token = 'bench-token';
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

interface ApiUnderBench {
  app: FastifyInstance;
  base: string;
  /** gRPC calls the API made to Temporal, by method. */
  rpcs: Map<string, number>;
  connection: Connection;
}

/** An API in `mode` on its own Temporal connection, whose every call is counted. */
async function startApi(mode: Mode): Promise<ApiUnderBench> {
  const rpcs = new Map<string, number>();
  type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];
  const counting: Interceptor = (options, next) => {
    const method = options.method_definition.path.split('/').pop() ?? '?';
    rpcs.set(method, (rpcs.get(method) ?? 0) + 1);
    // grpc-js only uses the call's interface: the next interceptor's call is returned as it is.
    return next(options) as ReturnType<Interceptor>;
  };
  const connection = await Connection.connect({
    address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:17233',
    interceptors: [counting, makeGrpcRetryInterceptor(defaultGrpcRetryOptions())],
  });
  const app = await buildApp({
    client: new Client({ connection }),
    kubernetes: createKubernetesClients(kc),
    authenticator: new TokenAuthenticator([
      { subject: 'bench', roles: ['admin'], tokenSha256: sha256Hex(token) },
    ]),
    taskQueue,
    logLevel: 'warn',
    statusView: mode,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, rpcs, connection };
}

const totalCalls = (rpcs: Map<string, number>) => [...rpcs.values()].reduce((a, b) => a + b, 0);
const snapshot = (rpcs: Map<string, number>) => new Map(rpcs);
function callsSince(rpcs: Map<string, number>, before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [method, n] of rpcs)
    if (n - (before.get(method) ?? 0) > 0) out[method] = n - (before.get(method) ?? 0);
  return out;
}

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

/** Sends a request every 1/perSecond s for `duration` s, whatever is in flight (an open loop). */
async function atRate(perSecond: number, duration: number, url: string) {
  const latencies: number[] = [];
  let failed = 0;
  const sent: Promise<void>[] = [];
  const t0 = performance.now();
  const total = Math.round(perSecond * duration);
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const started = performance.now();
    sent.push(
      fetch(url, { headers, signal: AbortSignal.timeout(10_000) })
        .then(async (response) => {
          await response.arrayBuffer();
          if (response.ok) latencies.push(performance.now() - started);
          else failed++;
        })
        .catch(() => void failed++),
    );
  }
  await Promise.all(sent);
  const elapsed = (performance.now() - t0) / 1000;
  return {
    ...summary(
      latencies.sort((a, b) => a - b),
      elapsed,
    ),
    failed,
  };
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
const summary = (sorted: number[], seconds: number) => ({
  requests: sorted.length,
  p50Ms: Number(quantile(sorted, 0.5).toFixed(1)),
  p99Ms: Number(quantile(sorted, 0.99).toFixed(1)),
  maxMs: Number((sorted.at(-1) ?? NaN).toFixed(1)),
  perSecond: Number((sorted.length / seconds).toFixed(0)),
});

async function startRelease(
  api: ApiUnderBench,
  model: string,
  steps: FixtureOptions['steps'],
  version = 'v2',
): Promise<void> {
  const body = JSON.stringify(releaseSpec({ namespace, model, version, ...(steps ? { steps } : {}) }));
  const started = await fetch(`${api.base}/v1/releases`, { method: 'POST', headers, body });
  if (started.status !== 202)
    throw new Error(`could not start ${model}: ${started.status} ${await started.text()}`);
}

async function waitFor(api: ApiUnderBench, model: string, phase: string): Promise<void> {
  for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
    const response = await fetch(`${api.base}/v1/releases/${namespace}/${model}`, { headers });
    if (response.ok && ((await response.json()) as { phase?: string }).phase === phase) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${model} never reached ${phase}`);
}

/** `n` streams follow a new release to its end: the calls to Temporal meanwhile, and how each ended. */
async function watchRelease(api: ApiUnderBench, model: string, n: number) {
  const before = snapshot(api.rpcs);
  const t0 = performance.now();
  await startRelease(api, model, [
    { weight: 20, hold: '2s' },
    { weight: 50, hold: '2s' },
  ]);
  const outcomes = await Promise.all(
    Array.from({ length: n }, async () => {
      const response = await fetch(`${api.base}/v1/releases/${namespace}/${model}/events`, { headers });
      let last: { outcome?: { result?: string } } = {};
      for await (const event of parseServerSentEvents(response.body!)) {
        if (event.event === 'status') last = JSON.parse(event.data) as typeof last;
        if (event.event !== 'status') break;
      }
      return last.outcome?.result ?? 'none';
    }),
  );
  const calls = callsSince(api.rpcs, before);
  return {
    watchers: n,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    promoted: outcomes.filter((o) => o === 'Promoted').length,
    temporalCalls: Object.values(calls).reduce((a, b) => a + b, 0),
    byMethod: calls,
  };
}

const apis = { shared: await startApi('shared'), 'per-reader': await startApi('per-reader') };
try {
  const spec = JSON.stringify(releaseSpec({ namespace, model: 'bench', version: 'v1' }));
  // Every model read below gets a promoted v1 first (a first release has no canary to follow):
  // `bench`'s is the finished release read; the others' v2 are read while they run.
  const streamModels = MODES.flatMap((mode) => [1, watchers].map((n) => `sse-${mode}-${n}`));
  const models = ['bench', 'waiting', ...streamModels];
  await Promise.all(models.map((model) => startRelease(apis.shared, model, undefined, 'v1')));
  await Promise.all(
    models.map((model) => bench.client.workflow.getHandle(`release/${namespace}/${model}`).result()),
  );
  // A release to read while it runs: waiting for an approval.
  await startRelease(apis.shared, 'waiting', [{ weight: 20, hold: '1s' }, { approval: { timeout: '1h' } }]);
  await waitFor(apis.shared, 'waiting', 'AwaitingApproval');

  const concurrent: Record<string, ReturnType<typeof summary>> = {};
  const warm = () =>
    fetch(`${apis.shared.base}/v1/releases?dryRun=true`, { method: 'POST', headers, body: spec });
  await load(20, 4, warm);
  let t = performance.now();
  concurrent['POST /v1/releases?dryRun=true'] = summary(
    await load(requests, concurrency, warm),
    (performance.now() - t) / 1000,
  );
  const paced: Record<string, Awaited<ReturnType<typeof atRate>> & { temporalCallsPerGet: number }> = {};
  for (const mode of MODES) {
    const api = apis[mode];
    const read = () => fetch(`${api.base}/v1/releases/${namespace}/bench`, { headers });
    await load(20, 4, read);
    t = performance.now();
    concurrent[`GET /v1/releases/{ns}/{model} (${mode})`] = summary(
      await load(requests, concurrency, read),
      (performance.now() - t) / 1000,
    );
    for (const model of ['bench', 'waiting']) {
      const before = totalCalls(api.rpcs);
      const result = await atRate(rate, seconds, `${api.base}/v1/releases/${namespace}/${model}`);
      paced[`GET ${model === 'bench' ? 'finished' : 'running'} release at ${rate}/s (${mode})`] = {
        ...result,
        temporalCallsPerGet: Number(((totalCalls(api.rpcs) - before) / (rate * seconds)).toFixed(2)),
      };
    }
  }
  const streams: Record<string, Awaited<ReturnType<typeof watchRelease>>> = {};
  for (const mode of MODES)
    for (const n of [1, watchers])
      streams[`${n} stream${n === 1 ? '' : 's'} (${mode})`] = await watchRelease(
        apis[mode],
        `sse-${mode}-${n}`,
        n,
      );

  const p99 = (mode: Mode) => paced[`GET running release at ${rate}/s (${mode})`]!.p99Ms;
  const sse = (mode: Mode) => streams[`${watchers} streams (${mode})`]!.temporalCalls;
  const ratios = {
    getRunningP99: Number((p99('per-reader') / p99('shared')).toFixed(1)),
    streamsTemporalCalls: Number((sse('per-reader') / sse('shared')).toFixed(1)),
  };
  console.log(
    JSON.stringify({
      concurrency,
      requestsPerCase: requests,
      rate,
      seconds,
      concurrent,
      paced,
      streams,
      ratios,
    }),
  );
  console.log(
    `\n| request (concurrency ${concurrency}) | n | p50 ms | p99 ms | max ms | req/s |\n|---|---|---|---|---|---|`,
  );
  for (const [name, r] of Object.entries(concurrent))
    console.log(`| ${name} | ${r.requests} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.perSecond} |`);
  console.log(
    `\n| GET at a fixed rate | answered | failed | p50 ms | p99 ms | max ms | req/s | Temporal calls per GET |\n|---|---|---|---|---|---|---|---|`,
  );
  for (const [name, r] of Object.entries(paced))
    console.log(
      `| ${name} | ${r.requests} | ${r.failed} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.perSecond} | ${r.temporalCallsPerGet} |`,
    );
  console.log(
    `\n| a release followed to its end by | s | promoted | Temporal calls | by method |\n|---|---|---|---|---|`,
  );
  for (const [name, r] of Object.entries(streams))
    console.log(
      `| ${name} | ${r.seconds} | ${r.promoted}/${r.watchers} | ${r.temporalCalls} | ${Object.entries(
        r.byMethod,
      )
        .map(([m, c]) => `${m} ${c}`)
        .join(', ')} |`,
    );
  console.log(
    `\nper-reader / shared: GET p99 of a running release ×${ratios.getRunningP99}; Temporal calls of ${watchers} streams ×${ratios.streamsTemporalCalls}`,
  );
} finally {
  await bench.client.workflow
    .getHandle(`release/${namespace}/waiting`)
    .terminate('bench finished')
    .catch(() => undefined);
  for (const api of Object.values(apis)) {
    await api.app.close();
    await api.connection.close();
  }
  await bench.close();
}
