// The API process as operators run it (api/server.ts): configuration errors exit 2 naming what is
// wrong (never a stack trace), and a good configuration serves until SIGTERM, then exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sha256Hex } from '../../api/auth/tokens.ts';
import { freePort } from '../../infra/local/stack/free-port.ts';

const server = fileURLToPath(new URL('../../api/server.ts', import.meta.url));

function start(env: NodeJS.ProcessEnv) {
  // The stack's token file would win over SLIPWAY_API_TOKENS: these tests bring their own.
  const { SLIPWAY_API_TOKENS_FILE: _file, ...inherited } = process.env;
  const child = spawn(process.execPath, [server], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, exited, output: () => output };
}

test('configuration errors exit 2 and name the problem', async () => {
  for (const [env, expected] of [
    [{ SLIPWAY_API_PORT: 'eighty' }, /SLIPWAY_API_PORT/],
    [{ SLIPWAY_API_TOKENS: '{not json' }, /cannot read the API tokens from SLIPWAY_API_TOKENS/],
    [
      { SLIPWAY_API_TOKENS: JSON.stringify([{ subject: 'x', roles: ['god'], tokenSha256: 'abc' }]) },
      /invalid API tokens in SLIPWAY_API_TOKENS(?=[\s\S]*at \[0\]\.roles\[0\])(?=[\s\S]*at \[0\]\.tokenSha256)/,
    ],
    [
      { TEMPORAL_TLS_KEY: '/nonexistent/key.pem' },
      /TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together/,
    ],
  ] as const) {
    const api = start(env);
    assert.equal(await api.exited, 2, `${JSON.stringify(env)}: ${api.output()}`);
    assert.match(api.output(), expected);
    assert.doesNotMatch(api.output(), /\n\s+at /, 'no stack trace');
  }
});

test('serves with a token table and exits 0 on SIGTERM; SLIPWAY_SEPARATION_OF_DUTIES is accepted but only warns', async () => {
  const port = await freePort();
  const token = 'api-server-test-token';
  const api = start({
    SLIPWAY_API_PORT: String(port),
    SLIPWAY_API_TOKENS: JSON.stringify([
      { subject: 'tester', roles: ['viewer'], tokenSha256: sha256Hex(token) },
    ]),
    // Separation of duties is the worker's and the namespace's policy now: the API ignores it, saying so.
    SLIPWAY_SEPARATION_OF_DUTIES: 'true',
  });
  const deadline = Date.now() + 60_000;
  while (!api.output().includes('"msg":"api started"')) {
    assert.ok(Date.now() < deadline && api.child.exitCode === null, api.output());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const base = `http://127.0.0.1:${port}`;
  assert.equal((await fetch(`${base}/readyz`)).status, 200);
  assert.equal((await fetch(`${base}/v1/releases`)).status, 401);
  assert.equal(
    (await fetch(`${base}/v1/releases`, { headers: { authorization: `Bearer ${token}` } })).status,
    200,
  );
  assert.ok(!api.output().includes(token), 'the token never reaches the logs');
  assert.match(
    api.output(),
    /SLIPWAY_SEPARATION_OF_DUTIES has no effect on the API any more: set it on the worker/,
  );
  api.child.kill('SIGTERM');
  assert.equal(await api.exited, 0);
});
