// Every attempt of one logical call to the cluster carries the same call-id header; another call
// carries another. Against a local HTTP server that answers the first read with a 429: the repeat
// after Retry-After comes with the first attempt's id, a second read with a new one, a read in no
// call with none. (The fault proxy keys repeats by this id: another caller's identical read is not
// a retry.)
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { CALL_ID_HEADER } from '../../activities/kubernetes/call-ids.ts';
import { createKubernetesClients } from '../../activities/kubernetes/clients.ts';
import { clusterCall } from '../../activities/kubernetes/cluster-errors.ts';
import { watchUntil } from '../../activities/kubernetes/watch-until.ts';

const seen: IncomingHttpHeaders[] = [];
let throttleNext = 0;
const server = createServer((req, res) => {
  seen.push(req.headers);
  if (throttleNext > 0) {
    throttleNext--;
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
    res.end(JSON.stringify({ kind: 'Status', code: 429, reason: 'TooManyRequests', message: 'slow down' }));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'm', resourceVersion: '1' },
  };
  // A list (watchUntil lists by name) or the object.
  const listed = req.url?.includes('fieldSelector=') ?? false;
  res.end(
    JSON.stringify(
      listed
        ? {
            apiVersion: 'apps/v1',
            kind: 'DeploymentList',
            metadata: { resourceVersion: '2' },
            items: [deployment],
          }
        : deployment,
    ),
  );
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
after(() => server.close());

const kc = new KubeConfig();
kc.loadFromOptions({
  clusters: [
    { name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true },
  ],
  users: [{ name: 'u', token: 'not-a-secret' }],
  contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
  currentContext: 'x',
});
const clients = createKubernetesClients(kc);
const target = { verb: 'get', resource: 'deployments', namespace: 'ns', name: 'm' };
const read = () => clients.apps.readNamespacedDeployment({ name: 'm', namespace: 'ns' });
const idsFrom = (from: number) => seen.slice(from).map((headers) => headers[CALL_ID_HEADER]);

describe('call ids', () => {
  it('one id on every attempt of a call, a new one for the next call', async () => {
    throttleNext = 2;
    const from = seen.length;
    await clusterCall(target, read);
    await clusterCall(target, read);
    const ids = idsFrom(from);
    assert.equal(ids.length, 4, 'two throttled attempts, the answered one, the next call');
    const [first, second, third, fourth] = ids;
    assert.ok(typeof first === 'string' && first.length > 0);
    assert.equal(second, first);
    assert.equal(third, first);
    assert.notEqual(fourth, first);
  });

  it('a wait on an object is one call; a read outside any call carries no id', async () => {
    throttleNext = 1;
    const from = seen.length;
    await watchUntil(clients, {
      path: '/apis/apps/v1/namespaces/ns/deployments',
      name: 'm',
      list: (fieldSelector) => clients.apps.listNamespacedDeployment({ namespace: 'ns', fieldSelector }),
      decide: () => 'done',
      signal: new AbortController().signal,
      target,
    });
    await read();
    const [throttled, repeat, outside] = idsFrom(from);
    assert.ok(typeof throttled === 'string');
    assert.equal(repeat, throttled);
    assert.equal(outside, undefined);
  });

  it('sends the token and a user agent as before', () => {
    const headers = seen[0];
    assert.equal(headers?.authorization, 'Bearer not-a-secret');
    assert.match(String(headers?.['user-agent']), /slipway/);
  });
});
