// The API's problems stay problems, and stay small, whatever the request: a path parameter over the
// router's limit or a malformed percent-encoding (refused by the router before any route runs), a
// spec with thousands of issues or nested thousands of levels deep, a huge unknown URL. The app is built over a Temporal and a cluster
// that are not there: none of these requests gets that far.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { createKubernetesClients } from '../../activities/kubernetes/clients.ts';
import { buildApp } from '../../api/app.ts';
import { sha256Hex, TokenAuthenticator } from '../../api/auth/tokens.ts';
import { MAX_DETAIL } from '../../api/errors.ts';

const TOKEN = 'api-problems-test-token';
let app: FastifyInstance;
let connection: Connection;

before(async () => {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'none', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'none', token: 'unused' }],
    contexts: [{ name: 'none', cluster: 'none', user: 'none' }],
    currentContext: 'none',
  });
  connection = Connection.lazy({ address: '127.0.0.1:1' });
  app = await buildApp({
    client: new Client({ connection }),
    kubernetes: createKubernetesClients(kc),
    authenticator: new TokenAuthenticator([
      { subject: 'ada', roles: ['admin'], tokenSha256: sha256Hex(TOKEN) },
    ]),
    taskQueue: 'api-problems',
    logLevel: 'silent',
  });
});
after(async () => {
  await app?.close();
  await connection?.close().catch(() => undefined);
});

async function problem(method: 'GET' | 'POST', url: string, payload?: unknown) {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const response = await app.inject({
    method,
    url,
    headers,
    ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
  });
  assert.match(
    String(response.headers['content-type']),
    /^application\/problem\+json/,
    response.body.slice(0, 300),
  );
  const body = response.json<{
    status: number;
    detail: string;
    instance: string;
    issues?: unknown[];
    issuesOmitted?: number;
  }>();
  assert.equal(body.status, response.statusCode);
  assert.ok(body.detail.length <= MAX_DETAIL + 40, `a detail of ${body.detail.length} characters`);
  assert.ok(body.instance.length <= MAX_DETAIL + 40, `an instance of ${body.instance.length} characters`);
  return { status: response.statusCode, body, size: response.body.length };
}

describe('API problems', () => {
  it('a path parameter over the router limit is a 414 problem that does not echo the URL', async () => {
    const answer = await problem('GET', `/v1/releases/ns/${'a'.repeat(5_000)}`);
    assert.equal(answer.status, 414);
    assert.equal(answer.body.detail, 'a path parameter is longer than 100 characters');
  });
  it('a malformed percent-encoding in the path is a 400 problem', async () => {
    const answer = await problem('GET', '/v1/releases/ns/%E0%A4%A');
    assert.equal(answer.status, 400);
    assert.equal(answer.body.detail, 'the URL has a malformed percent-encoding');
  });
  it('a spec with thousands of issues is a small 400: the detail cut, the first 100 issues and how many more', async () => {
    const spec = {
      model: 'm',
      namespace: 'ns',
      version: 'v1',
      serving: { image: 'x', env: Array.from({ length: 5_000 }, () => null) },
    };
    const answer = await problem('POST', '/v1/releases?dryRun=true', spec);
    assert.equal(answer.status, 400);
    assert.match(
      answer.body.detail,
      /^the release spec is invalid: serving\.env\[0\]: .* more characters\)$/,
    );
    assert.equal(answer.body.issues?.length, 100);
    assert.ok((answer.body.issuesOmitted ?? 0) >= 4_900, String(answer.body.issuesOmitted));
    assert.ok(answer.size < 30_000, `${answer.size} bytes`);
  });
  it('a spec nested thousands of levels deep is a 400, not a 500 (its validation recursed out of stack)', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 2_000; i++) deep = { a: deep };
    const spec = {
      model: 'm',
      namespace: 'ns',
      version: 'v1',
      serving: { image: 'x', template: { spec: { containers: [{ name: 'c' }], securityContext: { deep } } } },
    };
    const answer = await problem('POST', '/v1/releases?dryRun=true', spec);
    assert.equal(answer.status, 400);
    assert.equal(answer.body.detail, 'the body is nested more than 100 levels deep');
  });
  it('an unknown route with a huge URL is a 404 whose detail and instance are cut', async () => {
    const answer = await problem('GET', `/v2/${'x'.repeat(50_000)}`);
    assert.equal(answer.status, 404);
    assert.match(answer.body.detail, /^no route GET \/v2\/x+ … \(\d+ more characters\)$/);
  });
});
