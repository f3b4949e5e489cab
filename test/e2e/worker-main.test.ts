// The production entry point worker/main.ts as a real process: bad configuration exits 2 naming the
// variable (no stack trace); with a prebuilt bundle (worker/build-bundle.ts) it starts against the dev
// server, answers health, readiness and metrics, and exits 0 on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { uniqueTaskQueue } from '../helpers/temporal.ts';
import { startWorkerProcess } from '../helpers/worker-process.ts';

const main = fileURLToPath(new URL('../../worker/main.ts', import.meta.url));
const buildBundle = fileURLToPath(new URL('../../worker/build-bundle.ts', import.meta.url));

/** Runs worker/main.ts with `env` until it exits; resolves with its exit code and output. */
function runToExit(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

test('bad configuration exits 2 with a message naming the variable and no stack trace', async () => {
  for (const [variable, value] of [
    ['SLIPWAY_MAX_CONCURRENT_ACTIVITIES', 'lots'],
    ['SLIPWAY_WORKER_HTTP', 'everywhere'],
    ['SLIPWAY_SHUTDOWN_GRACE', 'a while'],
    ['PROMETHEUS_URL', 'not a url'],
  ] as const) {
    const { code, output } = await runToExit({ [variable]: value });
    assert.equal(code, 2, `${variable}=${value}: ${output}`);
    assert.match(output, new RegExp(variable));
    assert.doesNotMatch(output, /\n\s+at /);
  }
});

test('TLS settings that cannot work exit 2 naming the variables', async () => {
  const unpaired = await runToExit({ TEMPORAL_TLS_CERT: '/nonexistent/client.crt' });
  assert.equal(unpaired.code, 2);
  assert.match(unpaired.output, /TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY/);
  const missing = await runToExit({ TEMPORAL_TLS_CA: '/nonexistent/ca.pem' });
  assert.equal(missing.code, 2);
  assert.match(
    missing.output,
    /TEMPORAL_TLS_CA names \/nonexistent\/ca\.pem, which cannot be read \(ENOENT\)/,
  );
});

test('a bundle file that does not exist exits 2 naming it', async () => {
  const { code, output } = await runToExit({ SLIPWAY_WORKFLOW_BUNDLE: '/nonexistent/bundle.js' });
  assert.equal(code, 2);
  assert.match(output, /SLIPWAY_WORKFLOW_BUNDLE \/nonexistent\/bundle\.js/);
});

test('starts from a prebuilt bundle, serves health and metrics, and exits 0 on SIGTERM', async () => {
  const bundle = join(mkdtempSync(join(tmpdir(), 'slipway-bundle-')), 'workflow-bundle.js');
  execFileSync(process.execPath, [buildBundle, bundle], { stdio: 'ignore' });
  const worker = await startWorkerProcess(uniqueTaskQueue('worker-main'), {
    SLIPWAY_WORKFLOW_BUNDLE: bundle,
  });
  try {
    assert.match(worker.output(), new RegExp(`"bundle":"${bundle.replaceAll('/', '\\/')}"`));
    assert.doesNotMatch(worker.output(), /Workflow bundle created/, 'a prebuilt bundle is not bundled again');
    assert.equal((await fetch(`http://${worker.httpAddress}/healthz`)).status, 200);
    assert.equal((await fetch(`http://${worker.httpAddress}/readyz`)).status, 200);
    assert.equal((await fetch(`http://${worker.httpAddress}/nothing`)).status, 404);
    const metrics = await (await fetch(`http://${worker.httpAddress}/metrics`)).text();
    assert.match(metrics, /slipway_worker_process_cpu_seconds_total/);
    // The workflow thread's heap, which the main thread's nodejs_heap_* cannot see: a live thread
    // with its bundle loaded uses megabytes, and no more than it reserved.
    const threadHeap = (kind: string) =>
      [
        ...metrics.matchAll(
          new RegExp(`^slipway_worker_thread_heap_${kind}_bytes\\{thread="\\d+"\\} (\\d+)`, 'gm'),
        ),
      ].map((m) => Number(m[1]));
    const used = threadHeap('used');
    const total = threadHeap('total');
    assert.ok(used.length >= 1, 'no worker thread heap in /metrics');
    assert.equal(used.length, total.length);
    for (const [i, u] of used.entries()) {
      assert.ok(u > 1_000_000, `thread heap used ${u} bytes`);
      assert.ok(u <= total[i]!, `used ${u} > total ${total[i]}`);
    }
    const t0 = Date.now();
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
    assert.ok(Date.now() - t0 < 25_000, 'exited within the shutdown grace period');
    assert.match(worker.output(), /"worker stopped"/);
  } finally {
    await worker.stop();
  }
});
