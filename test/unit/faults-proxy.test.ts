// The apiserver fault proxy over real sockets, in front of a stand-in apiserver (an HTTPS server
// with a throw-away PKI, so no stack is needed): each fault as a client sees it (429 with
// Retry-After and a Status body, a reset, a held answer, a watch cut mid-stream, 410 Gone on a
// resumed watch) and in the proxy's log; its own paths never faulted; `main.ts` refusing a bad plan
// (exit 2, zod's path, no stack trace), printing its kubeconfig and its stats on SIGTERM; and the
// stack component: up, healthy for its own plan only, env through the proxy, down.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaultPlan } from '../../infra/local/faults/plan.ts';
import { startFaultProxy } from '../../infra/local/faults/proxy.ts';
import { faultProxy, faultsKubeconfig } from '../../infra/local/stack/components/faults.ts';
import { loadStackConfig, type StackConfig } from '../../infra/local/stack/config.ts';
import { freePort } from '../../infra/local/stack/free-port.ts';
import { logFile } from '../../infra/local/stack/processes.ts';
import { ensurePki, pkiPaths } from '../../infra/local/stack/pki.ts';

const MAIN = fileURLToPath(new URL('../../infra/local/faults/main.ts', import.meta.url));
let state: string;
let config: StackConfig;
let upstream: Server;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  ms: number;
}

/** One request as a client with the admin certificate; rejects on a reset. */
function call(port: number, path: string): Promise<Answer> {
  const pki = pkiPaths(config);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        ca: readFileSync(pki.caCert),
        cert: readFileSync(pki.cert),
        key: readFileSync(pki.key),
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: Date.now() - started }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  state = mkdtempSync(join(tmpdir(), 'slipway-faults-unit-'));
  const apiserverPort = await freePort();
  config = loadStackConfig({
    SLIPWAY_STATE: state,
    SLIPWAY_APISERVER_PORT: String(apiserverPort),
    SLIPWAY_FAULTS_PORT: String(await freePort()),
    SLIPWAY_FAULTS: '{"seed":5,"throttle":0.1}',
  });
  const pki = ensurePki(config);
  // The stand-in apiserver: objects answer 200; a watch sends an event every 100 ms until closed.
  upstream = createServer({ cert: readFileSync(pki.cert), key: readFileSync(pki.key) }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://upstream');
    res.writeHead(200, { 'content-type': 'application/json' });
    if (url.searchParams.get('watch') !== 'true') return res.end('{"kind":"Pod","metadata":{"name":"p"}}');
    const tick = setInterval(() => res.write('{"type":"BOOKMARK","object":{}}\n'), 100);
    res.on('close', () => clearInterval(tick));
  });
  await new Promise<void>((resolve) => upstream.listen(apiserverPort, '127.0.0.1', resolve));
});

after(async () => {
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
  rmSync(state, { recursive: true, force: true });
});

async function withProxy(plan: object, use: (port: number) => Promise<void>) {
  const proxy = await startFaultProxy({
    upstreamPort: config.ports.apiserver,
    pki: pkiPaths(config),
    plan: FaultPlan.parse(plan),
  });
  try {
    await use(proxy.port);
  } finally {
    await proxy.close();
  }
  return proxy.stats();
}

describe('fault proxy', () => {
  it('forwards as it is when the plan injects nothing', async () => {
    const stats = await withProxy({}, async (port) => {
      const answer = await call(port, '/api/v1/namespaces/ns/pods/p');
      assert.equal(answer.status, 200);
      assert.match(answer.body, /"kind":"Pod"/);
    });
    assert.equal(stats.requests, 1);
    assert.deepEqual(stats.events, []);
  });

  it('throttles with Retry-After and a Status body; its own paths are never faulted', async () => {
    const stats = await withProxy({ throttle: 1, throttleRetryAfterSeconds: 3 }, async (port) => {
      const answer = await call(port, '/api/v1/namespaces/ns/pods/p');
      assert.equal(answer.status, 429);
      assert.equal(answer.headers['retry-after'], '3');
      assert.equal((JSON.parse(answer.body) as { reason: string }).reason, 'TooManyRequests');
      const health = await call(port, '/_faults/healthz');
      assert.equal(health.status, 200);
      assert.equal((JSON.parse(health.body) as { plan: FaultPlan }).plan.throttleRetryAfterSeconds, 3);
      assert.equal((await call(port, '/api/v1/namespaces/ns/pods/p')).status, 429);
      const own = JSON.parse((await call(port, '/_faults/stats')).body) as { requests: number };
      assert.equal(own.requests, 2);
    });
    assert.equal(stats.injected.throttle, 2);
    assert.equal(stats.events[0]?.retryAfterMs, 3000);
    assert.ok((stats.events[0]?.repeatedAfterMs ?? -1) >= 0, 'the second request repeated the first');
  });

  it('answers 500 and 503 with Status bodies, and resets connections', async () => {
    await withProxy({ serverError: 1 }, async (port) => {
      const codes = [await call(port, '/api/v1/pods'), await call(port, '/api/v1/pods')].map((a) => a.status);
      assert.deepEqual(codes, [500, 503]);
    });
    const stats = await withProxy({ reset: 1 }, async (port) => {
      await assert.rejects(call(port, '/api/v1/pods'), /ECONNRESET|socket hang up/);
    });
    assert.equal(stats.injected.reset, 1);
  });

  it('holds a request for slowMs and logs that the client waited', async () => {
    const stats = await withProxy({ slow: 1, slowMs: 300 }, async (port) => {
      const answer = await call(port, '/api/v1/namespaces/ns/pods/p');
      assert.equal(answer.status, 200);
      assert.ok(answer.ms >= 290, `held ${answer.ms} ms`);
    });
    assert.equal(stats.events[0]?.answered, true);
    assert.equal(stats.summary.slow.followedUp, 1);
  });

  it('cuts a watch mid-stream, and answers 410 Gone to a watch that resumes', async () => {
    const watch = '/api/v1/namespaces/ns/pods?watch=true&fieldSelector=metadata.name%3Dp';
    const stats = await withProxy({ dropWatch: 1, dropWatchAfterMs: 400 }, async (port) => {
      const cut = await call(port, watch).catch((error: unknown) => error);
      // The stream ended early: either as an error (cut mid-chunk) or an end with a few events.
      assert.ok(cut instanceof Error || (cut as Answer).ms <= 1_000, 'the watch was cut');
      await call(port, '/api/v1/namespaces/ns/pods/p');
    });
    assert.equal(stats.injected.dropWatch, 1);
    assert.ok((stats.events[0]?.rereadAfterMs ?? -1) >= 0, 'the read of the object counts as a follow-up');
    const gone = await withProxy({ goneOnResume: 1 }, async (port) => {
      const answer = await call(port, `${watch}&resourceVersion=12`);
      const event = JSON.parse(answer.body) as { type: string; object: { code: number; reason: string } };
      assert.equal(event.type, 'ERROR');
      assert.deepEqual([event.object.code, event.object.reason], [410, 'Expired']);
    });
    assert.equal(gone.injected.goneOnResume, 1);
  });
});

/** Runs main.ts; resolves with its exit code and output once it exits (after `whenUp`, if it starts). */
function runMain(
  args: string[],
  env: NodeJS.ProcessEnv,
  whenUp?: (stdout: string) => Promise<void>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  let started = false;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (!started && whenUp && stdout.includes('\n')) {
      started = true;
      void whenUp(stdout).finally(() => child.kill('SIGTERM'));
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('fault proxy entry (main.ts)', () => {
  const env = () => ({
    SLIPWAY_STATE: state,
    SLIPWAY_APISERVER_PORT: String(config.ports.apiserver),
    SLIPWAY_FAULTS: '',
  });

  it('refuses a bad plan with exit 2 and the failing field, no stack trace', async () => {
    const bad = await runMain(['--plan', '{"throttle":2}'], env());
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid fault plan in --plan:[\s\S]*→ at throttle/);
    assert.doesNotMatch(bad.stderr, /^\s+at /m);
    const fromEnv = await runMain([], { ...env(), SLIPWAY_FAULTS: '{"slowMs":-1}' });
    assert.equal(fromEnv.code, 2);
    assert.match(fromEnv.stderr, /SLIPWAY_FAULTS[\s\S]*→ at slowMs/);
    const none = await runMain([], env());
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no fault plan/);
    const open = await runMain(['--plan', '{}', '--listen', '0.0.0.0:1234'], env());
    assert.equal(open.code, 2);
    assert.match(open.stderr, /loopback only/);
  });

  it('prints a kubeconfig through the proxy, and its stats on SIGTERM', async () => {
    const port = await freePort();
    const kubeconfig = join(state, 'main-kubeconfig');
    const run = await runMain(
      ['--plan', '{"throttle":1}', '--listen', `127.0.0.1:${port}`, '--kubeconfig', kubeconfig],
      env(),
      async () => {
        assert.equal((await call(port, '/api/v1/namespaces/ns/pods/p')).status, 429);
      },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^export KUBECONFIG=${kubeconfig}$`, 'm'));
    assert.match(readFileSync(kubeconfig, 'utf8'), new RegExp(`server: https://127.0.0.1:${port}`));
    const stats = JSON.parse(run.stdout.slice(run.stdout.indexOf('{'))) as {
      requests: number;
      injected: { throttle: number };
      summary: { throttle: { injected: number } };
    };
    assert.deepEqual([stats.requests, stats.injected.throttle, stats.summary.throttle.injected], [1, 1, 1]);
  });
});

describe('the stack component apiserver-faults', () => {
  it('starts with its plan, is healthy for that plan only, exports KUBECONFIG through it, and stops', async () => {
    try {
      await faultProxy.up(config);
      assert.equal(await faultProxy.healthy(config), true);
      const other = { ...config, faults: FaultPlan.parse({ seed: 5, throttle: 0.2 }) };
      assert.equal(await faultProxy.healthy(other), false, 'another plan: up would restart it');
      assert.equal(faultProxy.env?.(config).KUBECONFIG, faultsKubeconfig(config));
      assert.match(
        readFileSync(faultsKubeconfig(config), 'utf8'),
        new RegExp(`127.0.0.1:${config.ports.faults}`),
      );
      assert.match(faultProxy.describe(config), /throttle 0\.1 \(seed 5\)/);
    } finally {
      await faultProxy.down(config);
    }
    assert.equal(await faultProxy.healthy(config), false);
    assert.match(readFileSync(logFile(state, 'apiserver-faults'), 'utf8'), /"injected"/);
  });
});
