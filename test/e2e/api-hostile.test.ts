// Hostile and careless input to the API: each gets the right status and a message that names the
// problem (problem details, zod issue paths), never a 500 — and no release is started or harmed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { KubeConfig } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createKubernetesClients } from '../../activities/kubernetes/clients.ts';
import { buildApp } from '../../api/app.ts';
import { sha256Hex, TokenAuthenticator } from '../../api/auth/tokens.ts';
import { FaultPlan } from '../../infra/local/faults/plan.ts';
import { startFaultProxy } from '../../infra/local/faults/proxy.ts';
import { loadStackConfig } from '../../infra/local/stack/config.ts';
import { freePort } from '../../infra/local/stack/free-port.ts';
import { pkiPaths } from '../../infra/local/stack/pki.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { call, startApi, type ApiUnderTest } from '../helpers/api.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { releaseSpec } from '../helpers/release-fixtures.ts';
import { devServerEnv } from '../helpers/temporal.ts';

let env: TestWorkflowEnvironment;
let ns: TestNamespace;
let api: ApiUnderTest;
let running: ReleaseStatus;
let good: ReleaseSpecInput;

async function status(model: string) {
  return (await call(api, 'GET', `/v1/releases/${ns.name}/${model}`, { token: api.tokens.admin }))
    .body as unknown as ReleaseStatus;
}

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('api-hostile');
  api = await startApi(env, ns);
  good = releaseSpec({
    namespace: ns.name,
    model: 'target',
    version: 'v1',
    steps: [{ weight: 10, hold: '1s' }],
  });
  // A first release whose gates wait for a human approval step would need a stable; instead the
  // first release waits at a pause step of a second release below.
  const first = await call(api, 'POST', '/v1/releases', { token: api.tokens.admin, body: good });
  assert.equal(first.status, 202);
  for (let s = await status('target'); !s.outcome; s = await status('target'))
    await new Promise((r) => setTimeout(r, 250));
  const second = await call(api, 'POST', '/v1/releases', {
    token: api.tokens.admin,
    body: {
      ...good,
      version: 'v2',
      canary: { steps: [{ weight: 10, hold: '1s' }, { pause: {} }], gates: ['error-rate'] },
    },
  });
  assert.equal(second.status, 202);
  for (running = await status('target'); running.phase !== 'Paused'; running = await status('target'))
    await new Promise((r) => setTimeout(r, 250));
});
after(async () => {
  await api?.terminateLeftovers();
  await api?.stop();
  await ns?.delete();
  await env?.teardown();
});

/** Asserts a problem-details answer with `status` whose detail (or an issue path) matches. */
function isProblem(
  response: Awaited<ReturnType<typeof call>>,
  status: number,
  names?: RegExp,
  path?: string,
) {
  assert.equal(response.status, status, JSON.stringify(response.body).slice(0, 400));
  assert.match(response.contentType, /application\/problem\+json/);
  assert.equal(response.body.status, status);
  if (names) assert.match(String(response.body.detail), names);
  if (path !== undefined)
    assert.ok(
      response.body.issues?.some((i) => i.path === path),
      `issue at ${path}: ${JSON.stringify(response.body.issues)}`,
    );
}

const post = (body: unknown, token = api.tokens.admin) =>
  call(api, 'POST', '/v1/releases?dryRun=true', { token, body });

describe('API: hostile input', () => {
  it('malformed JSON and YAML, wrong content types, oversized bodies', async () => {
    isProblem(
      await call(api, 'POST', '/v1/releases', {
        token: api.tokens.admin,
        raw: '{"model": "x",',
        contentType: 'application/json',
      }),
      400,
      /the body is not valid JSON: /,
    );
    isProblem(
      await call(api, 'POST', '/v1/releases', {
        token: api.tokens.admin,
        raw: '{"model": "x", "serving": {"labels": {"__proto__": {"polluted": "yes"}}}}',
        contentType: 'application/json',
      }),
      400,
      /a key named "__proto__", which is not allowed/,
    );
    isProblem(
      await call(api, 'POST', '/v1/releases', {
        token: api.tokens.admin,
        raw: 'model: [unclosed',
        contentType: 'application/yaml',
      }),
      400,
      /not valid YAML/,
    );
    isProblem(
      await call(api, 'POST', '/v1/releases', {
        token: api.tokens.admin,
        raw: 'model=x',
        contentType: 'text/plain',
      }),
      415,
    );
    isProblem(
      await call(api, 'POST', '/v1/releases', {
        token: api.tokens.admin,
        raw: JSON.stringify({ blob: 'x'.repeat(1_100_000) }),
      }),
      413,
    );
    isProblem(
      await call(api, 'POST', '/v1/releases', {
        token: api.tokens.admin,
        raw: '',
        contentType: 'application/json',
      }),
      400,
    );
  });

  it('wrong types, unknown fields, bad names and weights name their path', async () => {
    isProblem(
      await post({ ...good, serving: { ...good.serving, replicas: 'two' } }),
      400,
      /serving\.replicas/,
      'serving.replicas',
    );
    isProblem(await post({ ...good, replicas: 3 }), 400, /replicas/, '');
    isProblem(await post({ ...good, model: 'Fraud_Detector' }), 400, /model/, 'model');
    isProblem(await post({ ...good, namespace: 'a'.repeat(64) }), 400, undefined, 'namespace');
    isProblem(
      await post({ ...good, canary: { steps: [{ weight: 50 }, { weight: 20 }] } }),
      400,
      /weights must increase/,
      'canary.steps[1].weight',
    );
    isProblem(
      await post({ ...good, canary: { steps: [{ weight: -5 }] } }),
      400,
      undefined,
      'canary.steps[0].weight',
    );
    isProblem(await post([1, 2, 3]), 400);
    isProblem(await post('a string'), 400);
    isProblem(
      await call(api, 'GET', `/v1/releases/${ns.name}/Bad_Model`, { token: api.tokens.admin }),
      400,
      undefined,
      'model',
    );
    isProblem(
      await call(api, 'GET', '/v1/releases?pageSize=1000', { token: api.tokens.admin }),
      400,
      undefined,
      'pageSize',
    );
    isProblem(
      await call(api, 'GET', '/v1/releases?stage=nowhere', { token: api.tokens.admin }),
      400,
      undefined,
      'stage',
    );
  });

  it('a well-formed spec its strategy or router cannot carry out is a 422 at the path, on dry-run and start', async () => {
    const { canary: _canary, ...noCanary } = good;
    const blueGreenByRatio = {
      ...noCanary,
      traffic: { router: 'replica-ratio' },
      strategy: { type: 'blueGreen' },
    };
    for (const start of [false, true]) {
      const send = (body: unknown) =>
        start ? call(api, 'POST', '/v1/releases', { token: api.tokens.admin, body }) : post(body);
      isProblem(
        await send(blueGreenByRatio),
        422,
        /cannot be carried out: strategy\.type: strategy blueGreen needs traffic\.router/,
        'strategy.type',
      );
      isProblem(
        await send({ ...good, strategy: { type: 'rolling' } }),
        422,
        /canary steps need strategy\.type canary/,
        'canary',
      );
      isProblem(
        await send({ ...noCanary, strategy: { type: 'recreate' }, shadow: { duration: '5m' } }),
        422,
        /shadow mirrors traffic to a candidate/,
        'shadow',
      );
      isProblem(
        await send({ ...good, traffic: { router: 'replica-ratio' }, promote: { mode: 'handoff' } }),
        422,
        undefined,
        'promote.mode',
      );
      // A malformed part beside an unsupported one: the spec is invalid (400), with both paths.
      isProblem(await send({ ...blueGreenByRatio, version: 'Not A Label!' }), 400, /is invalid/, 'version');
    }
  });

  it('missing or wrong tokens are 401; roles and namespaces are enforced (403)', async () => {
    isProblem(await call(api, 'GET', '/v1/releases'), 401, /Authorization/);
    isProblem(await call(api, 'GET', '/v1/releases', { token: 'not-a-token' }), 401, /not valid/);
    isProblem(await post(good, api.tokens.viewer), 403, /may not deploy/);
    isProblem(
      await call(api, 'POST', `/v1/releases/${ns.name}/target/approve`, { token: api.tokens.viewer }),
      403,
      /may not approve/,
    );
    isProblem(
      await call(api, 'POST', `/v1/releases/${ns.name}/target/resume`, { token: api.tokens.outsider }),
      403,
      /namespace/,
    );
    isProblem(
      await call(api, 'POST', `/v1/releases/${ns.name}/target/approve`, { token: api.tokens.outsider }),
      403,
      /namespace/,
    );
    isProblem(
      await call(api, 'POST', `/v1/releases/${ns.name}/target/abort`, { token: api.tokens.approver }),
      403,
      /may not deploy/,
    );
    isProblem(
      await post({ ...good, namespace: 'some-other-namespace' }, api.tokens.deployer),
      403,
      /namespace some-other-namespace/,
    );
  });

  it('approving a release that waits for nothing is 422; unknown routes and releases are 404', async () => {
    isProblem(
      await call(api, 'POST', `/v1/releases/${ns.name}/target/approve`, { token: api.tokens.approver }),
      422,
      /not waiting for (an approval|a decision)/,
    );
    isProblem(
      await call(api, 'POST', `/v1/releases/${ns.name}/nobody/approve`, { token: api.tokens.approver }),
      404,
    );
    isProblem(await call(api, 'GET', `/v1/releases/${ns.name}/nobody`, { token: api.tokens.viewer }), 404);
    isProblem(await call(api, 'GET', '/v2/everything', { token: api.tokens.viewer }), 404);
    isProblem(
      await call(api, 'POST', `/v1/releases/${ns.name}/target/explode`, { token: api.tokens.admin }),
      400,
      undefined,
      'action',
    );
  });

  it('random JSON bodies never get a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (body) => {
        const response = await post(body);
        assert.ok(response.status < 500, `${response.status} for ${JSON.stringify(body).slice(0, 200)}`);
      }),
      { numRuns: 60 },
    );
  });

  it('nothing above started a release or touched the running one; no token reached the logs', async () => {
    const now = await status('target');
    assert.equal(now.phase, 'Paused');
    assert.equal(now.version, 'v2');
    assert.equal(now.startedAt, running.startedAt);
    assert.deepEqual(now.approvals, []);
    const list = await call(api, 'GET', `/v1/releases?namespace=${ns.name}`, { token: api.tokens.viewer });
    assert.deepEqual(
      (list.body.items as Array<{ version: string }>).map((i) => i.version),
      ['v2', 'v1'],
    );
    const logs = api.logs();
    assert.ok(logs.length > 1000, 'requests were logged');
    for (const token of Object.values(api.tokens))
      assert.ok(!logs.includes(token), 'a token appears in the logs');
    assert.ok(!logs.includes('not-a-token'));
  });
});

describe('API: OpenAPI document', () => {
  it('lists every route with every status it answers', async () => {
    const doc = (await call(api, 'GET', '/openapi.json')).body as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    assert.equal(doc.openapi, '3.1.0');
    const routes: Array<[string, string]> = [
      ['post', '/v1/releases'],
      ['get', '/v1/releases'],
      ['get', '/v1/releases/{namespace}/{model}'],
      ['get', '/v1/releases/{namespace}/{model}/history'],
      ['get', '/v1/releases/{namespace}/{model}/events'],
      ['post', '/v1/releases/{namespace}/{model}/{action}'],
      ['post', '/v1/releases/{namespace}/{model}/retry'],
      ['put', '/v1/releases/{namespace}/{model}/promotion-schedule'],
      ['get', '/v1/releases/{namespace}/{model}/promotion-schedule'],
      ['delete', '/v1/releases/{namespace}/{model}/promotion-schedule'],
      ['get', '/healthz'],
      ['get', '/readyz'],
      ['get', '/metrics'],
    ];
    const documented = Object.entries(doc.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`))
      .sort();
    assert.deepEqual(documented, routes.map(([m, p]) => `${m} ${p}`).sort());
    // Every route the app serves (but the docs pages themselves) is documented.
    const served = api.app.printRoutes({ commonPrefix: false });
    for (const segment of [
      '/v1/releases',
      'promotion-schedule',
      ':action',
      'retry',
      'history',
      'events',
      'healthz',
      'readyz',
      'metrics',
    ])
      assert.ok(served.includes(segment), segment);
    const post = doc.paths['/v1/releases']!.post!;
    assert.deepEqual(Object.keys(post.responses).sort(), [
      '200',
      '202',
      '400',
      '401',
      '403',
      '409',
      '413',
      '415',
      '422',
      '503',
    ]);
    const body = JSON.stringify(post);
    for (const field of ['serving', 'canary', 'gates', 'regression', 'judge'])
      assert.ok(body.includes(`"${field}"`), `the spec schema documents ${field}`);
    const retry = doc.paths['/v1/releases/{namespace}/{model}/retry']!.post!;
    assert.deepEqual(Object.keys(retry.responses).sort(), [
      '202',
      '400',
      '401',
      '403',
      '404',
      '409',
      '413',
      '415',
      '422',
      '503',
    ]);
    assert.equal((await call(api, 'GET', '/docs')).status, 200);
  });

  it('serves health, readiness and metrics', async () => {
    assert.equal((await call(api, 'GET', '/healthz')).status, 200);
    assert.deepEqual((await call(api, 'GET', '/readyz')).body, { status: 'ready' });
    const metrics = await fetch(`${api.url}/metrics`).then((r) => r.text());
    assert.match(
      metrics,
      /slipway_api_requests_total\{route="\/v1\/releases",method="POST",status="400"\} \d+/,
    );
  });
});

describe('API: Temporal and the cluster unreachable', () => {
  it('is a 503 with one clean sentence, never a client dump (the only 5xx the API answers)', async () => {
    // Nothing listens on these ports: a Temporal and an apiserver that are down.
    const [temporalPort, kubePort] = await Promise.all([freePort(), freePort()]);
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'down', server: `https://127.0.0.1:${kubePort}`, skipTLSVerify: true }],
      users: [{ name: 'down', token: 'unused' }],
      contexts: [{ name: 'down', cluster: 'down', user: 'down' }],
      currentContext: 'down',
    });
    const connection = Connection.lazy({ address: `127.0.0.1:${temporalPort}` });
    const token = 'unreachable-test-token';
    const app = await buildApp({
      client: new Client({ connection }),
      kubernetes: createKubernetesClients(kc),
      authenticator: new TokenAuthenticator([
        { subject: 'ada', roles: ['admin'], tokenSha256: sha256Hex(token) },
      ]),
      taskQueue: 'unreachable',
      logLevel: 'silent',
    });
    try {
      const inject = async (method: 'GET' | 'POST', url: string, payload?: object) => {
        const response = await app.inject({
          method,
          url,
          headers: { authorization: `Bearer ${token}` },
          ...(payload ? { payload } : {}),
        });
        return { status: response.statusCode, body: response.json<{ detail?: string; status?: string }>() };
      };
      const spec = releaseSpec({ namespace: 'anywhere', model: 'down', version: 'v1' });
      // The Temporal client retries an unavailable server for ~20 s before it gives up: all at once.
      const [status, dryRun, start, retry, list, ready] = await Promise.all([
        inject('GET', '/v1/releases/anywhere/down'),
        inject('POST', '/v1/releases?dryRun=true', spec),
        inject('POST', '/v1/releases', spec),
        inject('POST', '/v1/releases/anywhere/down/retry'),
        inject('GET', '/v1/releases?namespace=anywhere'),
        app
          .inject({ method: 'GET', url: '/readyz' })
          .then((r) => ({ status: r.statusCode, body: r.json<{ detail?: string }>() })),
      ]);
      for (const [what, response] of Object.entries({ status, start, retry, list, ready })) {
        assert.equal(response.status, 503, `${what}: ${JSON.stringify(response.body)}`);
        assert.equal(response.body.detail, 'Temporal cannot be reached right now; try again shortly', what);
      }
      assert.equal(dryRun.status, 503, JSON.stringify(dryRun.body));
      assert.match(
        dryRun.body.detail ?? '',
        /^the cluster could not check this release right now: .*unreachable \(ECONNREFUSED\)$/,
      );
    } finally {
      await app.close();
      await connection.close().catch(() => undefined);
    }
  });
});

describe('API: a saturated cluster', () => {
  it('answers a start whose preflight runs past its deadline with a 503 and Retry-After, and starts nothing', async () => {
    // Every request to the real apiserver is held 3 s at the fault proxy; the preflight may take 0.5 s.
    const config = loadStackConfig();
    const proxy = await startFaultProxy({
      upstreamPort: config.ports.apiserver,
      pki: pkiPaths(config),
      plan: FaultPlan.parse({ seed: 1, slow: 1, slowMs: 3_000 }),
    });
    const kc = new KubeConfig();
    kc.loadFromFile(proxy.kubeconfigFor(join(mkdtempSync(join(tmpdir(), 'slipway-slow-')), 'kubeconfig')));
    const token = 'saturated-test-token';
    const app = await buildApp({
      client: env.client,
      kubernetes: createKubernetesClients(kc),
      authenticator: new TokenAuthenticator([
        { subject: 'ada', roles: ['admin'], tokenSha256: sha256Hex(token) },
      ]),
      taskQueue: 'saturated',
      logLevel: 'silent',
      preflightDeadlineMs: 500,
    });
    try {
      const spec = releaseSpec({ namespace: ns.name, model: 'saturated', version: 'v1' });
      const post = (url: string) =>
        app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload: spec });
      const began = Date.now();
      const [start, dryRun] = await Promise.all([post('/v1/releases'), post('/v1/releases?dryRun=true')]);
      const tookMs = Date.now() - began;
      for (const [what, response] of Object.entries({ start, dryRun })) {
        assert.equal(response.statusCode, 503, `${what}: ${response.body}`);
        assert.equal(response.headers['retry-after'], '5', what);
        assert.equal(
          response.json<{ detail: string }>().detail,
          'the cluster did not finish checking this release within 500 ms (it is saturated or slow); nothing was started, try again shortly',
        );
      }
      // Answered at the deadline, not after the held requests (3 s each, several in a row).
      assert.ok(tookMs < 2_500, `answered after ${tookMs} ms`);
      const status = await app.inject({
        method: 'GET',
        url: `/v1/releases/${ns.name}/saturated`,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(status.statusCode, 404, 'no release was started');
    } finally {
      await app.close();
      await proxy.close();
    }
  });
});
