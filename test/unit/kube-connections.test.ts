// The Kubernetes clients reuse their connections. client-node 2.0.1 makes a new undici Agent, so a
// new connection (a TLS handshake against a real apiserver), for every request; clients.ts shares
// one per cluster and TLS identity. Against a local server that notes each request's socket:
// sequential reads arrive over one or two connections, and a plain client-node client (the control) opens
// one per request — if client-node fixes this, the control fails and the patch can go.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { createKubernetesClients, reuseConnections } from '../../activities/kubernetes/clients.ts';

const sockets: Array<IncomingMessage['socket']> = [];
const server = createServer((req, res) => {
  sockets.push(req.socket);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ apiVersion: 'v1', kind: 'NamespaceList', metadata: {}, items: [] }));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
after(() => {
  server.closeAllConnections();
  server.close();
});

function kubeConfig(token: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function connectionsFor(list: () => Promise<unknown>, times: number): Promise<number> {
  const from = sockets.length;
  for (let i = 0; i < times; i++) await list();
  return new Set(sockets.slice(from)).size;
}

describe('Kubernetes client connections', () => {
  it('20 sequential reads go over the same one or two connections', async () => {
    // Two: the next request can leave before the last answer's socket is back in the pool.
    const clients = createKubernetesClients(kubeConfig('a'));
    assert.ok((await connectionsFor(() => clients.core.listNamespace(), 20)) <= 2);
  });

  it('a plain client-node client opens one per request (the bug the sharing works around)', async () => {
    const core = kubeConfig('b').makeApiClient(k8s.CoreV1Api);
    assert.equal(await connectionsFor(() => core.listNamespace(), 5), 5);
  });

  it('every client of one KubeConfig shares the pool; sharing twice changes nothing', async () => {
    const kc = kubeConfig('c');
    assert.equal(reuseConnections(kc), kc);
    const clients = createKubernetesClients(kc);
    const count = await connectionsFor(async () => {
      await clients.core.listNamespace();
      await clients.apps.listNamespacedDeployment({ namespace: 'ns' }).catch(() => undefined);
    }, 5);
    assert.ok(count <= 2, `${count} connections for 10 requests`);
  });
});
