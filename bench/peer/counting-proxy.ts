// A loopback HTTP proxy in front of the local kube-apiserver that counts the requests one client
// sends (a watch counts once, when it opens). The apiserver's own apiserver_request_total has no
// client label, so each tool of the peer bench talks through its own proxy: a kubeconfig with the
// proxy's plain-HTTP address, the proxy adding the stack's admin client certificate upstream.
// (client-node refuses a plain-HTTP server unless TLS verification is marked skipped: there is no TLS.)
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStackConfig } from '../../infra/local/stack/config.ts';
import { pkiPaths } from '../../infra/local/stack/pki.ts';

export interface RequestCounts {
  total: number;
  /** By verb: get, list, watch, create, update, patch, delete. */
  byVerb: Record<string, number>;
  /** By verb and resource (`patch services`, `update rollouts/status`…). */
  byResource: Record<string, number>;
}

export interface CountingProxy {
  /** A kubeconfig whose only cluster is this proxy (default namespace `namespace`). */
  kubeconfig: string;
  url: string;
  counts(): RequestCounts;
  /** With `attribute`: when each request came (epoch ms), by the key it was attributed to ('' for none). */
  arrivals(): ReadonlyMap<string, readonly number[]>;
  /** Beside `arrivals`, index for index: each request's verb and resource (`watch deployments`). */
  arrivalKinds(): ReadonlyMap<string, readonly string[]>;
  reset(): void;
  close(): Promise<void>;
}

export function verbOf(method: string, url: string): string {
  const query = new URL(url, 'http://x').searchParams;
  if (query.get('watch') === 'true' || query.get('watch') === '1') return 'watch';
  switch (method) {
    case 'GET': {
      // /api/v1/namespaces/ns/pods is a list, /api/v1/namespaces/ns/pods/name a get.
      const parts = new URL(url, 'http://x').pathname.split('/').filter(Boolean);
      const rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
      const withoutNs = rest[0] === 'namespaces' && rest.length > 2 ? rest.slice(2) : rest;
      return withoutNs.length % 2 === 1 ? 'list' : 'get';
    }
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    default:
      return method.toLowerCase();
  }
}

/** The resource a request is for: `pods`, `rollouts/status`, `namespaces`… (subresources after a slash). */
export function resourceOf(url: string): string {
  const parts = new URL(url, 'http://x').pathname.split('/').filter(Boolean);
  const rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
  const withoutNs = rest[0] === 'namespaces' && rest.length > 2 ? rest.slice(2) : rest;
  const [resource = '', , sub] = withoutNs;
  return sub ? `${resource}/${sub}` : resource;
}

export interface CountingOptions {
  /** What a request is about (a model, from its URL), to count requests per release; undefined: shared. */
  attribute?: (url: string) => string | undefined;
}

export async function startCountingProxy(
  name: string,
  namespace: string,
  options: CountingOptions = {},
): Promise<CountingProxy> {
  const config = loadStackConfig();
  const pki = pkiPaths(config);
  const tls = { ca: readFileSync(pki.caCert), cert: readFileSync(pki.cert), key: readFileSync(pki.key) };
  let counts: RequestCounts = { total: 0, byVerb: {}, byResource: {} };
  const arrivals = new Map<string, number[]>();
  const arrivalKinds = new Map<string, string[]>();
  const server = createServer((req: IncomingMessage, res) => {
    const verb = verbOf(req.method ?? 'GET', req.url ?? '/');
    const kind = `${verb} ${resourceOf(req.url ?? '/')}`;
    if (options.attribute) {
      const key = options.attribute(req.url ?? '/') ?? '';
      const list = arrivals.get(key);
      if (list) list.push(Date.now());
      else arrivals.set(key, [Date.now()]);
      const kinds = arrivalKinds.get(key);
      if (kinds) kinds.push(kind);
      else arrivalKinds.set(key, [kind]);
    }
    counts.total++;
    counts.byVerb[verb] = (counts.byVerb[verb] ?? 0) + 1;
    counts.byResource[kind] = (counts.byResource[kind] ?? 0) + 1;
    const upstream = httpsRequest(
      {
        host: '127.0.0.1',
        port: config.ports.apiserver,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: `127.0.0.1:${config.ports.apiserver}` },
        ...tls,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = join(mkdtempSync(join(tmpdir(), `peer-${name}-`)), 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: ${name}, cluster: {server: '${url}', insecure-skip-tls-verify: true}}]`,
      `users: [{name: ${name}, user: {}}]`,
      `contexts: [{name: ${name}, context: {cluster: ${name}, user: ${name}, namespace: ${namespace}}}]`,
      `current-context: ${name}`,
      '',
    ].join('\n'),
  );
  return {
    kubeconfig,
    url,
    counts: () => ({
      total: counts.total,
      byVerb: { ...counts.byVerb },
      byResource: { ...counts.byResource },
    }),
    arrivals: () => arrivals,
    arrivalKinds: () => arrivalKinds,
    reset() {
      counts = { total: 0, byVerb: {}, byResource: {} };
      arrivals.clear();
      arrivalKinds.clear();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
