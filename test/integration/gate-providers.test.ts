// The gate measurement activities against real parts: an HTTP evaluator (a real server on
// loopback), Secrets and Jobs on the local cluster (KWOK runs the Jobs), Prometheus.
// Activities run in Temporal's MockActivityEnvironment (a real activity context, no server needed).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import {
  createGateActivities,
  type MeasureGateInput,
  type RawMeasurement,
} from '../../activities/gates/activities.ts';
import { createKubernetesClients } from '../../activities/kubernetes/clients.ts';
import { ReleaseSpec } from '../../workflows/spec/index.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { releaseSpec } from '../helpers/release-fixtures.ts';

const SECRET = 's3cr3t-token-value';
let ns: TestNamespace;
let server: Server;
let base: string;
const seen: IncomingHttpHeaders[] = [];

before(async () => {
  ns = await createTestNamespace('gate-providers');
  await ns.core.createNamespacedSecret({
    namespace: ns.name,
    body: { metadata: { name: 'evaluator' }, stringData: { token: `Bearer ${SECRET}` } },
  });
  server = createServer((req, res) => {
    seen.push(req.headers);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/score') return void res.end(JSON.stringify({ metrics: { accuracy: 0.91 } }));
    if (path === '/string') return void res.end(JSON.stringify({ accuracy: 'n/a' }));
    if (path === '/broken') return void res.writeHead(500).end('boom');
    if (path === '/html') return void res.end('<html>not json</html>');
    if (path === '/slow') return void setTimeout(() => res.end('{"accuracy":1}'), 3_000);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server?.closeAllConnections();
  server?.close();
  await ns?.delete();
});

function specWith(gate: Record<string, unknown>): ReleaseSpec {
  const fixture = releaseSpec({ namespace: ns.name, model: 'eval', version: 'v2' });
  return ReleaseSpec.parse({ ...fixture, gates: [...(fixture.gates ?? []), gate] });
}

function activities(prometheusUrl: string | undefined) {
  return createGateActivities({
    kubernetes: createKubernetesClients(ns.kc),
    prometheusUrl,
    env: { EVALUATOR_TEAM: 'risk' },
  });
}

interface MeasureOptions {
  windowSeconds?: number;
  prometheusUrl?: string | undefined;
}

function measure(
  gate: Record<string, unknown>,
  measurementId = `m-${Math.random()}`,
  options: MeasureOptions = {},
): Promise<RawMeasurement> {
  const input: MeasureGateInput = {
    spec: specWith(gate),
    gate: String(gate.name),
    stableVersion: 'v1',
    measurementId,
    ...(options.windowSeconds === undefined ? {} : { windowSeconds: options.windowSeconds }),
  };
  const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
  const gates = activities('prometheusUrl' in options ? options.prometheusUrl : process.env.PROMETHEUS_URL);
  return env.run(
    (i: MeasureGateInput) => ('job' in gate ? gates.runJobGate(i) : gates.measureGate(i)),
    input,
  );
}

const httpGate = (path: string, extra: Record<string, unknown> = {}) => ({
  name: 'accuracy',
  http: {
    url: `${base}${path}?model={{model}}&version={{version}}`,
    value: '$.metrics.accuracy',
    headers: {
      Authorization: { secretRef: { name: 'evaluator', key: 'token' } },
      'X-Team': { env: 'EVALUATOR_TEAM' },
    },
    timeout: '1s',
    ...extra,
  },
  pass: { min: 0.9 },
});

/** The activity failed with a message matching `pattern` that does not leak the secret. */
async function failsWith(promise: Promise<unknown>, pattern: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.match(error.message, pattern);
    assert.ok(
      !JSON.stringify({ m: error.message, s: error.stack, c: String(error.cause) }).includes(SECRET),
      'the secret leaked',
    );
    return true;
  });
}

/** A loopback port nothing listens on (a server opened and closed again). */
async function closedPort(): Promise<number> {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  return port;
}

/** A final GateMisconfigured failure naming what is wrong. */
async function misconfigured(promise: Promise<unknown>, pattern: RegExp) {
  await failsWith(promise, pattern);
  await promise.catch((error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, 'GateMisconfigured');
    assert.equal(error.nonRetryable, true);
  });
}

/** A transient error: retryable (an ordinary Error, or a retryable ApplicationFailure), one line. */
async function transient(promise: Promise<unknown>, pattern: RegExp) {
  await failsWith(promise, pattern);
  await promise.catch((error: unknown) => {
    assert.ok(!(error instanceof ApplicationFailure && error.nonRetryable), `final: ${String(error)}`);
    assert.ok(!String((error as Error).message).includes('\n'), 'one line');
  });
}

describe('http gate provider', { concurrency: true }, () => {
  it('reads the value at the path, with headers from a Secret and from the worker env', async () => {
    const before = seen.length;
    const raw = await measure(httpGate('/score'));
    assert.equal(raw.value, 0.91);
    assert.equal(raw.provider, 'http');
    assert.equal(raw.query, `GET ${base}/score?model=eval&version=v2`);
    assert.equal(raw.details?.httpStatus, 200);
    const headers = seen.slice(before).find((h) => h['x-team'] === 'risk');
    assert.equal(headers?.authorization, `Bearer ${SECRET}`);
    assert.ok(!JSON.stringify(raw).includes(SECRET));
  });

  it('a value that is not a number is no data, with the reason', async () => {
    const raw = await measure(httpGate('/string', { value: '$.accuracy' }));
    assert.equal(raw.value, null);
    assert.match(raw.reason ?? '', /not a number/);
  });

  it('5xx, a body that is not JSON, a timeout and a server that is down are errors, never values', async () => {
    await failsWith(measure(httpGate('/broken')), /answered HTTP 500/);
    await failsWith(measure(httpGate('/html')), /not JSON/);
    await failsWith(measure(httpGate('/slow')), /no answer .* within 1s/);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await failsWith(
      measure({
        ...httpGate('/score'),
        http: { ...httpGate('/score').http, url: `http://127.0.0.1:${port}/score` },
      }),
      /ECONNREFUSED/,
    );
  });

  it('a missing Secret, Secret key or env variable is a final GateMisconfigured naming it', async () => {
    const gate = httpGate('/score');
    await misconfigured(
      measure({
        ...gate,
        http: { ...gate.http, headers: { Authorization: { secretRef: { name: 'nope', key: 'token' } } } },
      }),
      /Secret .*\/nope does not exist/,
    );
    await misconfigured(
      measure({
        ...gate,
        http: {
          ...gate.http,
          headers: { Authorization: { secretRef: { name: 'evaluator', key: 'nokey' } } },
        },
      }),
      /Secret .*\/evaluator has no key nokey/,
    );
    await misconfigured(
      measure({ ...gate, http: { ...gate.http, headers: { 'X-Key': { env: 'NOT_SET_ANYWHERE' } } } }),
      /NOT_SET_ANYWHERE is not set/,
    );
    await misconfigured(
      measure({ ...gate, http: { ...gate.http, url: `${base}/score?m={{modle}}` } }),
      /unknown placeholder \{\{modle\}\}/,
    );
  });

  it('5xx, a timeout and a refused connection are transient, retryable errors with one clean line', async () => {
    await transient(
      measure(httpGate('/broken')),
      /^evaluator http:\/\/127\.0\.0\.1:\d+\/broken\S* answered HTTP 500$/,
    );
    await transient(measure(httpGate('/slow')), /^no answer from \S+ within 1s$/);
    await transient(
      measure({
        ...httpGate('/score'),
        http: { ...httpGate('/score').http, url: `http://127.0.0.1:${await closedPort()}/score` },
      }),
      /^request to \S+ failed: ECONNREFUSED$/,
    );
  });

  it('renders {{window}} as the step’s traffic time in whole seconds, else the gate’s interval', async () => {
    const gate = {
      ...httpGate('/score'),
      interval: '1m',
      http: { ...httpGate('/score').http, url: `${base}/score?w={{window}}` },
    };
    assert.equal((await measure(gate, undefined, { windowSeconds: 42.4 })).query, `GET ${base}/score?w=42s`);
    assert.equal((await measure(gate, undefined, { windowSeconds: 0.2 })).query, `GET ${base}/score?w=1s`);
    assert.equal((await measure(gate)).query, `GET ${base}/score?w=60s`);
  });

  it('measures a gate that an older worker scheduled, its durations still strings', async () => {
    const slow = httpGate('/slow');
    const gate = { ...slow, interval: '1m', http: { ...slow.http, url: `${base}/slow?w={{window}}` } };
    // What a workflow sent before durations were parsed: each { text, ms } was its text.
    const asText = (_key: string, value: unknown): unknown =>
      typeof value === 'object' && value !== null && 'text' in value && 'ms' in value ? value.text : value;
    const spec = JSON.parse(JSON.stringify(specWith(gate), asText)) as ReleaseSpec;
    assert.equal(JSON.stringify(spec.gates.at(-1)).includes('"ms"'), false);
    const input: MeasureGateInput = {
      spec,
      gate: 'accuracy',
      stableVersion: 'v1',
      measurementId: `m-${Math.random()}`,
    };
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
    const gates = activities(undefined);
    await transient(
      env.run((i: MeasureGateInput) => gates.measureGate(i), input),
      /^no answer from \S+\/slow\?w=60s within 1s$/,
    );
  });
});

describe('job gate provider', { concurrency: true }, () => {
  const jobGate = (name: string, annotations: Record<string, string>) => ({
    name,
    job: {
      image: 'registry.example.com/eval:1',
      timeout: '2m',
      annotations: { 'pod-ready.stage.kwok.x-k8s.io/delay': '300ms', ...annotations },
    },
    pass: { min: 0.9 },
  });

  it('passes the number of the termination message on, and adopts its Job on a retry', async () => {
    const gate = jobGate('offline', { 'sim.slipway.dev/termination-message': '{"value":0.95,"f1":0.9}' });
    const first = await measure(gate, 'run-a-offline-0');
    assert.equal(first.value, 0.95);
    assert.equal(first.verdict, undefined);
    assert.equal(first.details?.f1, 0.9);
    const again = await measure(gate, 'run-a-offline-0');
    assert.equal(again.details?.job, first.details?.job);
    const jobs = await ns.batch.listNamespacedJob({
      namespace: ns.name,
      labelSelector: 'slipway.dev/gate=offline',
    });
    assert.equal(jobs.items.length, 1, 'the retry adopted the Job instead of creating another');
    const env = jobs.items[0]?.spec?.template.spec?.containers[0]?.env ?? [];
    assert.deepEqual(
      env.filter((e) => e.name.startsWith('SLIPWAY_')).map((e) => [e.name, e.value]),
      [
        ['SLIPWAY_MODEL', 'eval'],
        ['SLIPWAY_NAMESPACE', ns.name],
        ['SLIPWAY_VERSION', 'v2'],
        ['SLIPWAY_STABLE_VERSION', 'v1'],
      ],
    );
  });

  it('a failed Job fails the gate with its termination message as the reason', async () => {
    const raw = await measure(
      jobGate('failing', {
        'sim.slipway.dev/job-result': 'fail',
        'sim.slipway.dev/termination-message': 'dataset missing',
      }),
    );
    assert.equal(raw.verdict, 'fail');
    assert.match(raw.reason ?? '', /failed .*dataset missing/);
  });
});

describe('prometheus gate provider', () => {
  it('answers instant and range queries with details of the range', async () => {
    const instant = await measure({ name: 'one', prometheus: { query: 'vector(0.25)' }, pass: { max: 1 } });
    assert.equal(instant.value, 0.25);
    const range = await measure({
      name: 'many',
      prometheus: { query: 'vector(2)', range: { duration: '10s', step: '2s', aggregate: 'max' } },
      pass: { max: 3 },
    });
    assert.equal(range.value, 2);
    assert.ok(Number(range.details?.samples) >= 5, JSON.stringify(range.details));
    const none = await measure({
      name: 'none',
      prometheus: { query: 'absent_metric_xyz{model="{{model}}"}' },
      pass: { max: 1 },
    });
    assert.equal(none.value, null);
    assert.equal(none.query, 'absent_metric_xyz{model="eval"}');
  });

  it('{{window}} goes into PromQL as a range', async () => {
    const raw = await measure(
      {
        name: 'windowed',
        prometheus: { query: 'sum(rate(absent_metric_xyz[{{window}}]))' },
        pass: { max: 1 },
      },
      undefined,
      { windowSeconds: 17 },
    );
    assert.equal(raw.query, 'sum(rate(absent_metric_xyz[17s]))');
    assert.equal(raw.value, null);
  });

  it('a query Prometheus refuses (400) and a worker without PROMETHEUS_URL are final GateMisconfigured', async () => {
    await misconfigured(
      measure({ name: 'typo', prometheus: { query: 'sum(rate(x[5m]' }, pass: { max: 1 } }),
      /^Prometheus refuses the query "sum\(rate\(x\[5m\]": .*parse error/,
    );
    await misconfigured(
      measure({ name: 'nowhere', prometheus: { query: 'vector(1)' }, pass: { max: 1 } }, undefined, {
        prometheusUrl: undefined,
      }),
      /PROMETHEUS_URL is not configured on the worker/,
    );
    await misconfigured(
      measure(
        {
          name: 'judged',
          judge: { test: 'mann-whitney', candidate: 'vector(1)', baseline: 'vector(1)', worseIf: 'higher' },
        },
        undefined,
        { prometheusUrl: undefined },
      ),
      /PROMETHEUS_URL is not configured/,
    );
  });

  it('a Prometheus that is down is transient', async () => {
    const port = await closedPort();
    await transient(
      measure({ name: 'down', prometheus: { query: 'vector(1)' }, pass: { max: 1 } }, undefined, {
        prometheusUrl: `http://127.0.0.1:${port}`,
      }),
      /^Prometheus at http:\/\/127\.0\.0\.1:\d+\/ could not be asked: ECONNREFUSED$/,
    );
  });
});
