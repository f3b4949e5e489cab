// A TLS proxy in front of the local kube-apiserver that injects faults as a plan says (plan.ts):
// 429 with Retry-After, 500/503, connection resets, slow answers, watch streams cut mid-way and
// 410 Gone when a watch resumes; every fault is logged with what the client did next (log.ts). Off
// by default: tests and benches start it and point a worker's kubeconfig at it (`kubeconfigFor`),
// `node infra/local/faults/main.ts` runs it on its own, and the local stack runs it when
// SLIPWAY_FAULTS is set. Its own paths, never faulted nor forwarded: `/_faults/healthz` (the plan)
// and `/_faults/stats` (counts, events and their summary).
//
// Identity: the proxy serves with the stack's admin certificate and forwards with it; a request
// carrying a bearer token (a ServiceAccount) is forwarded with the token and no client certificate,
// so RBAC still applies to it. Loopback only.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpsRequest, type Agent } from 'node:https';
import { Agent as HttpsAgent } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CALL_ID_HEADER } from '../../../activities/kubernetes/call-ids.ts';
import { FaultLog, type FaultEvent, type SeenRequest } from './log.ts';
import { FaultDecider, type FaultKind, type FaultPlan } from './plan.ts';
import { summarizeFaults, type FaultSummary } from './summary.ts';

export interface FaultProxyOptions {
  upstreamPort: number;
  pki: { caCert: string; cert: string; key: string };
  plan: FaultPlan;
  /** 0 (default): any free port. */
  port?: number;
}

export interface FaultStats {
  /** Epoch ms the events' `atMs` count from. */
  startedAt: number;
  requests: number;
  watches: number;
  injected: Record<FaultKind, number>;
  /** Every fault, with what the client did next. */
  events: FaultEvent[];
  /** The events summed up per kind. */
  summary: FaultSummary;
}

/** The proxy's own paths (`/_faults/healthz`, `/_faults/stats`): answered by it, never faulted. */
export const OWN_PATH_PREFIX = '/_faults/';

export interface FaultProxy {
  port: number;
  stats(): FaultStats;
  /** Writes a kubeconfig that talks to the apiserver through the proxy; returns its path. */
  kubeconfigFor(path: string): string;
  close(): Promise<void>;
}

function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });
}

/** The client's call id header (one per logical call, on every attempt), if it sent one. */
function callIdOf(req: IncomingMessage): { callId?: string } {
  const value = req.headers[CALL_ID_HEADER];
  return typeof value === 'string' && value ? { callId: value } : {};
}

function isWatch(url: URL): boolean {
  const watch = url.searchParams.get('watch');
  return watch === 'true' || watch === '1' || url.pathname.includes('/watch/');
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const ca = readFileSync(options.pki.caCert);
  const cert = readFileSync(options.pki.cert);
  const key = readFileSync(options.pki.key);
  const decider = new FaultDecider(options.plan);
  const admin: Agent = new HttpsAgent({ ca, cert, key, keepAlive: true });
  const anonymous: Agent = new HttpsAgent({ ca, keepAlive: true });
  const counts = {
    requests: 0,
    watches: 0,
    injected: { throttle: 0, serverError: 0, reset: 0, slow: 0, dropWatch: 0, goneOnResume: 0 },
  };
  const log = new FaultLog();
  const stats = (): FaultStats => ({
    startedAt: log.started,
    ...structuredClone(counts),
    events: structuredClone(log.events),
    summary: summarizeFaults(log.events),
  });
  let serverErrors = 0;

  const forward = (
    req: IncomingMessage,
    seen: SeenRequest,
    body: Buffer,
    res: ServerResponse,
    cutAfterMs: number | undefined,
  ) => {
    const headers = { ...req.headers, host: `127.0.0.1:${options.upstreamPort}` };
    const upstream = httpsRequest(
      {
        host: '127.0.0.1',
        port: options.upstreamPort,
        method: req.method,
        path: req.url,
        headers,
        agent: req.headers.authorization ? anonymous : admin,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        if (cutAfterMs !== undefined) {
          const timer = setTimeout(() => {
            counts.injected.dropWatch++;
            log.injected('dropWatch', seen);
            answer.destroy();
            res.destroy();
          }, cutAfterMs);
          answer.on('close', () => clearTimeout(timer));
        }
      },
    );
    upstream.on('error', () => res.destroy());
    upstream.end(body);
    res.on('close', () => upstream.destroy());
  };

  // Bodies are small (objects, patches): read whole, so that a request is known by its body too.
  const server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, Buffer.concat(chunks), res));
  });
  const own = (url: URL, res: ServerResponse) => {
    const answer =
      url.pathname === `${OWN_PATH_PREFIX}healthz`
        ? { ok: true, plan: options.plan }
        : url.pathname === `${OWN_PATH_PREFIX}stats`
          ? stats()
          : undefined;
    res.writeHead(answer ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer ?? { error: `no such path ${url.pathname}` }));
  };
  const handle = (req: IncomingMessage, body: Buffer, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://proxy');
    if (url.pathname.startsWith(OWN_PATH_PREFIX)) return own(url, res);
    const watch = isWatch(url);
    counts.requests++;
    if (watch) counts.watches++;
    const seen: SeenRequest = {
      at: Date.now(),
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      bodyDigest: body.length ? createHash('sha256').update(body).digest('hex').slice(0, 12) : '',
      watch,
      ...callIdOf(req),
    };
    log.seen(seen);
    const decision = decider.decide({ watch, resumes: watch && url.searchParams.has('resourceVersion') });
    const held = decision.delayMs > 0 ? log.injected('slow', seen) : undefined;
    let clientGone = false;
    res.once('close', () => {
      if (!res.headersSent) clientGone = true;
    });
    const act = () => {
      if (held) held.answered = !clientGone;
      if (clientGone) return; // it gave up while held: nothing to answer
      switch (decision.answer) {
        case 'throttle': {
          counts.injected.throttle++;
          log.injected('throttle', seen, { retryAfterMs: options.plan.throttleRetryAfterSeconds * 1000 });
          res.writeHead(429, {
            'content-type': 'application/json',
            'retry-after': String(options.plan.throttleRetryAfterSeconds),
          });
          res.end(statusBody(429, 'TooManyRequests', 'Too many requests, please try again later.'));
          return;
        }
        case 'serverError': {
          counts.injected.serverError++;
          log.injected('serverError', seen);
          const code = serverErrors++ % 2 === 0 ? 500 : 503;
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(
            statusBody(
              code,
              code === 500 ? 'InternalError' : 'ServiceUnavailable',
              'injected by the fault proxy',
            ),
          );
          return;
        }
        case 'reset':
          counts.injected.reset++;
          log.injected('reset', seen);
          req.socket.destroy();
          return;
        case 'goneOnResume': {
          counts.injected.goneOnResume++;
          log.injected('goneOnResume', seen);
          res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
          const gone = JSON.parse(
            statusBody(410, 'Expired', 'too old resource version (injected)'),
          ) as object;
          res.end(`${JSON.stringify({ type: 'ERROR', object: gone })}\n`);
          return;
        }
        default:
          forward(req, seen, body, res, decision.cutAfterMs);
      }
    };
    if (decision.delayMs > 0) {
      counts.injected.slow++;
      setTimeout(act, decision.delayMs);
    } else act();
  };
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    stats,
    kubeconfigFor(path) {
      writeFileSync(
        path,
        `apiVersion: v1
kind: Config
clusters:
- name: faulty
  cluster:
    server: https://127.0.0.1:${port}
    certificate-authority: ${options.pki.caCert}
users:
- name: admin
  user:
    client-certificate: ${options.pki.cert}
    client-key: ${options.pki.key}
contexts:
- name: faulty
  context: { cluster: faulty, user: admin }
current-context: faulty
`,
      );
      return path;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      admin.destroy();
      anonymous.destroy();
    },
  };
}
