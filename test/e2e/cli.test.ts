// The `slipway` CLI as a real process against the real API (Temporal dev server, worker, local
// cluster): every command, its exit codes (0 promoted/ok, 1 rolled back, 2 usage, 3 auth, 4 other
// API problems), `--output json`, plain change lines when stdout is not a terminal, and the live view
// on a pseudo-terminal.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { stringify as toYaml } from 'yaml';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { call, startApi, type ApiUnderTest } from '../helpers/api.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { clusterState, releaseSpec, type FixtureOptions } from '../helpers/release-fixtures.ts';
import { freePort } from '../../infra/local/stack/free-port.ts';
import { devServerEnv } from '../helpers/temporal.ts';

const cliMain = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));
const specDir = mkdtempSync(join(tmpdir(), 'slipway-cli-e2e-'));

let env: TestWorkflowEnvironment;
let ns: TestNamespace;
let api: ApiUnderTest;

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('cli-e2e');
  api = await startApi(env, ns);
});
after(async () => {
  for (const child of children) child.kill('SIGKILL'); // a failed test may leave a --watch running
  await api?.terminateLeftovers();
  await api?.stop();
  await ns?.delete();
  await env?.teardown();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();

/** Runs `slipway …` with stdout a pipe (not a terminal); `token: null` runs it without a token. */
function slipway(args: string[], token: string | null = api.tokens.admin, apiUrl = api.url): Promise<Run> {
  return slipwayLive(args, token, apiUrl).done;
}

/** The same, with its output readable while it runs. */
function slipwayLive(
  args: string[],
  token: string | null = api.tokens.admin,
  apiUrl = api.url,
): { stdout(): string; done: Promise<Run> } {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_API_URL: apiUrl };
  if (token === null) delete childEnv.SLIPWAY_TOKEN;
  else childEnv.SLIPWAY_TOKEN = token;
  const child = spawn(process.execPath, [cliMain, ...args], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return {
    stdout: () => stdout,
    done: new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr }))),
  };
}

function specFile(
  o: Omit<FixtureOptions, 'namespace'>,
  edit: (s: ReleaseSpecInput) => ReleaseSpecInput = (s) => s,
): string {
  const file = join(specDir, `${o.model}-${o.version}.yaml`);
  writeFileSync(file, toYaml(edit(releaseSpec({ namespace: ns.name, ...o }))));
  return file;
}

async function status(model: string, through: ApiUnderTest = api): Promise<ReleaseStatus | undefined> {
  const response = await call(through, 'GET', `/v1/releases/${ns.name}/${model}`, {
    token: through.tokens.viewer,
  });
  return response.status === 200 ? (response.body as unknown as ReleaseStatus) : undefined;
}

async function until(
  model: string,
  predicate: (s: ReleaseStatus) => boolean,
  what: string,
): Promise<ReleaseStatus> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const s = await status(model);
    if (s && predicate(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function withStable(model: string): Promise<void> {
  const run = await slipway(['release', 'start', '-f', specFile({ model, version: 'v1' }), '--watch']);
  assert.equal(run.code, 0, run.stderr + run.stdout);
}

// The first hold outlasts the gate interval (2 s), so a measurement shows in the watch.
const ESC = String.fromCharCode(0x1b);
const approvalSteps = [
  { weight: 20, hold: '3s' },
  { approval: { timeout: '10m' } },
  { weight: 50, hold: '1s' },
];
const target = (model: string) => `${ns.name}/${model}`;

describe('slipway CLI against the real API', { concurrency: 4 }, () => {
  it('release start --watch (not a terminal): change lines, an approval by `approve`, exit 0; then status, list, history', async () => {
    await withStable('watched');
    const watching = slipwayLive([
      'release',
      'start',
      '-f',
      specFile({ model: 'watched', version: 'v2', steps: approvalSteps }),
      '--watch',
    ]);
    // Approve once the watch has shown the wait (the stream sends what it sees every 500 ms).
    const deadline = Date.now() + 60_000;
    while (!watching.stdout().includes('waiting for approval: canary step 2/3')) {
      assert.ok(Date.now() < deadline, `the watch never showed the approval wait:\n${watching.stdout()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const approve = await slipway(
      ['approve', target('watched'), '-m', 'canary healthy'],
      api.tokens.approver,
    );
    assert.equal(approve.code, 0, approve.stderr);
    assert.match(approve.stdout, /^approved: watched v2 goes on \(stage canary\)$/m);
    const run = await watching.done;
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!run.stdout.includes(`${ESC}[`), 'no terminal control codes in a pipe');
    assert.match(
      run.stdout,
      new RegExp(`release release/${ns.name}/watched started \\(watched v2 in ${ns.name}\\)`),
    );
    assert.match(run.stdout, /weights stable 80% canary 20%/);
    assert.match(run.stdout, /waiting for approval: canary step 2/);
    assert.match(run.stdout, /gate [✓?] error-rate = .* \(pass ≤ 0\.05\)/);
    assert.match(run.stdout, /outcome {2}Promoted: v2 promoted/);

    const text = await slipway(['status', target('watched')], api.tokens.viewer);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /watched v2 in .* \(stable v1\) — Promoted/);
    assert.match(text.stdout, /traffic {2}stable 100% █+ canary 0%/);
    const json = await slipway(['status', target('watched'), '-o', 'json'], api.tokens.viewer);
    const parsed = JSON.parse(json.stdout) as ReleaseStatus;
    assert.equal(parsed.outcome?.result, 'Promoted');
    assert.deepEqual(
      parsed.approvals.map((a) => [a.actor, a.comment]),
      [['abe-approver', 'canary healthy']],
    );

    const history = await slipway(['history', target('watched')], api.tokens.viewer);
    assert.equal(history.code, 0);
    const rows = history.stdout.trim().split('\n');
    assert.match(rows[0]!, /^RELEASE\s+VERSION\s+STAGE\s+OUTCOME\s+STARTED$/);
    assert.deepEqual(
      rows.slice(1).map((r) => r.split(/\s+/).slice(1, 2)[0]),
      ['v2', 'v1'],
    );
    const list = await slipway(
      ['list', '--namespace', ns.name, '--model', 'watched', '-o', 'json'],
      api.tokens.viewer,
    );
    assert.equal(list.code, 0, list.stderr);
    const items = (JSON.parse(list.stdout) as { items: Array<{ version: string; outcome?: string }> }).items;
    assert.deepEqual(
      items.map((i) => [i.version, i.outcome]),
      [
        ['v2', 'Promoted'],
        ['v1', 'Promoted'],
      ],
    );
  });

  it('a bad candidate: --watch -o json prints JSON status lines and exits 1, naming the deciding measurement', async () => {
    await withStable('bad');
    const run = await slipway([
      'release',
      'start',
      '-f',
      specFile({ model: 'bad', version: 'v2', annotations: { 'sim.slipway.dev/error-rate': '0.4' } }),
      '--watch',
      '-o',
      'json',
    ]);
    assert.equal(run.code, 1, run.stderr);
    const statuses = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as ReleaseStatus);
    const last = statuses.at(-1)!;
    assert.equal(last.outcome?.result, 'RolledBack');
    assert.equal(last.outcome?.decidingMeasurement?.gate, 'error-rate');
    assert.ok((last.outcome?.decidingMeasurement?.value ?? 0) > 0.05);
    assert.deepEqual(last.outcome?.decidingMeasurement?.threshold, { max: 0.05 });
    assert.deepEqual((await clusterState(ns, ns.name, 'bad')).weights, { stable: 100, canary: 0 });
  });

  it('pause, resume, reject and abort through the CLI; actions on an ended release exit 4 with the reason', async () => {
    await Promise.all([withStable('acted'), withStable('aborted')]);
    const promotedNow = slipway([
      'release',
      'start',
      '-f',
      specFile({
        model: 'acted',
        version: 'v2',
        steps: [{ weight: 20, hold: '30s' }, { approval: { timeout: '10m' } }],
      }),
      '--watch',
    ]);
    await until('acted', (s) => s.weights.canary === 20, 'canary at 20%');
    const pause = await slipway(
      ['pause', target('acted'), '-m', 'looking at dashboards'],
      api.tokens.deployer,
    );
    assert.equal(pause.code, 0, pause.stderr);
    assert.match(pause.stdout, /^paused: acted v2 holds/m);
    assert.equal((await until('acted', (s) => s.paused, 'paused')).phase, 'Paused');
    const held = await slipway(['status', target('acted')], api.tokens.viewer);
    assert.match(
      held.stdout,
      /^held {5}human: looking at dashboards \(by dee-deployer\)$/m,
      'who paused, and why',
    );
    const again = await slipway(['pause', target('acted')], api.tokens.deployer);
    assert.equal(again.code, 4, 'already paused: the update is refused (422)');
    assert.match(again.stderr, /already paused/);
    assert.equal((await slipway(['resume', target('acted')], api.tokens.deployer)).code, 0);
    assert.equal(
      (await slipway(['promote', target('acted')], api.tokens.approver)).code,
      0,
      'promote-now ends the hold',
    );
    // promote-now skips the remaining steps: the release is promoted without the approval.
    assert.equal((await promotedNow).code, 0);
    const promoted = await status('acted');
    assert.deepEqual(promoted?.approvals, []);
    assert.ok(
      promoted?.timeline.some((t) => t.message === 'promote-now requested by abe-approver'),
      'who promoted is recorded',
    );

    const watching = slipway([
      'release',
      'start',
      '-f',
      specFile({ model: 'aborted', version: 'v2', steps: [{ approval: { timeout: '10m' } }] }),
      '--watch',
    ]);
    await until('aborted', (s) => s.phase === 'AwaitingApproval', 'the approval');
    const reject = await slipway(['reject', target('aborted')], api.tokens.approver);
    assert.equal(reject.code, 2, 'reject needs a reason');
    const abort = await slipway(['abort', target('aborted'), '-m', 'wrong model'], api.tokens.deployer);
    assert.equal(abort.code, 0, abort.stderr);
    assert.match(abort.stdout, /^abort requested: aborted v2 rolls back/m);
    const run = await watching;
    assert.equal(run.code, 1);
    assert.match(run.stdout, /RolledBack: aborted by dee-deployer: wrong model/);
    const late = await slipway(['approve', target('aborted'), '-m', 'too late'], api.tokens.approver);
    assert.equal(late.code, 4);
    assert.match(late.stderr, /not waiting for an approval|has ended/);
  });

  it('reject with a reason rolls back and records who and why', async () => {
    await withStable('rejected');
    const watching = slipway([
      'release',
      'start',
      '-f',
      specFile({
        model: 'rejected',
        version: 'v2',
        steps: [{ weight: 10, hold: '1s' }, { approval: { timeout: '10m' } }],
      }),
      '--watch',
    ]);
    await until('rejected', (s) => s.phase === 'AwaitingApproval', 'the approval');
    assert.equal(
      (await slipway(['reject', target('rejected'), '-m', 'latency looks off'], api.tokens.approver)).code,
      0,
    );
    assert.equal((await watching).code, 1);
    const final = await status('rejected');
    assert.deepEqual(
      final?.approvals.map((a) => [a.decision, a.actor, a.comment]),
      [['rejected', 'abe-approver', 'latency looks off']],
    );
    assert.equal((await clusterState(ns, ns.name, 'rejected')).stableVersion, 'v1');
  });

  it('release retry: after a rollback, the same spec as a new run (--watch follows it); refused once promoted', async () => {
    await withStable('again');
    const steps = [{ weight: 10, hold: '1s' }, { approval: { timeout: '10m' } }];
    const first = slipway([
      'release',
      'start',
      '-f',
      specFile({ model: 'again', version: 'v2', steps }),
      '--watch',
    ]);
    await until('again', (s) => s.phase === 'AwaitingApproval', 'the approval');
    assert.equal(
      (await slipway(['reject', target('again'), '-m', 'try again later'], api.tokens.approver)).code,
      0,
    );
    const rolledBack = await first;
    assert.equal(rolledBack.code, 1);
    assert.match(rolledBack.stdout, new RegExp(`retry with: slipway release retry ${ns.name}/again`));

    const viewer = await slipway(['release', 'retry', target('again')], api.tokens.viewer);
    assert.equal(viewer.code, 3, 'a viewer may not retry');
    assert.equal(viewer.stderr.trimEnd().split('\n').length, 1, viewer.stderr);
    const retried = slipwayLive(['release', 'retry', target('again'), '--watch'], api.tokens.deployer);
    const deadline = Date.now() + 60_000;
    while (!retried.stdout().includes('waiting for approval:')) {
      assert.ok(Date.now() < deadline, `the retried release never showed its approval:\n${retried.stdout()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.match(
      retried.stdout(),
      new RegExp(
        `release release/${ns.name}/again retried \\(again v2 in ${ns.name}, retry of run [0-9a-f-]{36}\\)`,
      ),
    );
    assert.match(retried.stdout(), /again v2 in .*: stage \w+, \w+ \(retry of run [0-9a-f-]{36}\)/);
    assert.equal((await slipway(['approve', target('again')], api.tokens.approver)).code, 0);
    const run = await retried.done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /outcome {2}Promoted: v2 promoted/);
    const text = await slipway(['status', target('again')], api.tokens.viewer);
    assert.match(text.stdout, /again v2 in .* \(stable v1\), retry of run [0-9a-f-]{36} — Promoted/);

    const promoted = await slipway(['release', 'retry', target('again')], api.tokens.deployer);
    assert.equal(promoted.code, 4);
    assert.match(
      promoted.stderr,
      /^slipway: Conflict: the latest release of .*again \(v2\) was promoted: nothing to retry\n$/,
    );
    const none = await slipway(['release', 'retry', target('never-released')], api.tokens.deployer);
    assert.equal(none.code, 4);
    assert.match(none.stderr, /no release of .*never-released to retry/);
  });

  it('schedule: set, show and delete a promotion schedule', async () => {
    await withStable('scheduled');
    const start = await slipway([
      'release',
      'start',
      '-f',
      specFile({
        model: 'scheduled',
        version: 'v2',
        steps: [{ weight: 10, hold: '1s' }],
        promote: { approval: { required: true, timeout: '1h' } },
      }),
    ]);
    assert.equal(start.code, 0, start.stderr);
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const set = await slipway(['schedule', target('scheduled'), '--at', at], api.tokens.approver);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, new RegExp(`next ${at.slice(0, 19)}`));
    const shown = await slipway(['schedule', target('scheduled'), '-o', 'json'], api.tokens.viewer);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(
      (JSON.parse(shown.stdout) as { nextActionTimes: string[] }).nextActionTimes[0]?.slice(0, 19),
      at.slice(0, 19),
    );
    assert.equal(
      (await slipway(['schedule', target('scheduled'), '--at', 'tomorrow'], api.tokens.approver)).code,
      2,
    );
    assert.equal((await slipway(['schedule', target('scheduled'), '--delete'], api.tokens.approver)).code, 0);
    assert.equal(
      (await slipway(['schedule', target('scheduled')], api.tokens.viewer)).code,
      4,
      'no schedule any more: 404',
    );
    assert.equal((await slipway(['abort', target('scheduled')], api.tokens.admin)).code, 0);
  });

  it('exit codes for what the API refuses: bad spec 2 (with the issue path), auth 3, conflict 4', async () => {
    const invalid = specFile({ model: 'refused', version: 'v1' }, (s) => ({
      ...s,
      serving: { ...s.serving, replicas: -1 },
    }));
    const bad = await slipway(['release', 'start', '-f', invalid]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /serving\.replicas/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
    assert.equal(bad.stderr.trimEnd().split('\n').length, 1, `one line: ${bad.stderr}`);

    const good = specFile({ model: 'refused', version: 'v1', steps: [{ approval: { timeout: '10m' } }] });
    assert.equal((await slipway(['status', target('refused')], null)).code, 3, 'no token');
    assert.equal((await slipway(['status', target('refused')], 'not-a-token')).code, 3, 'a wrong token');
    const viewer = await slipway(['release', 'start', '-f', good], api.tokens.viewer);
    assert.equal(viewer.code, 3, 'a viewer may not deploy');
    assert.match(viewer.stderr, /Forbidden/);
    assert.equal(
      (await slipway(['release', 'start', '-f', good], api.tokens.outsider)).code,
      3,
      'a deployer of another namespace',
    );

    const dry = await slipway(['release', 'start', '-f', good, '--dry-run'], api.tokens.deployer);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /dry run passed: .*Deployment\/refused-canary/);
    assert.equal((await slipway(['release', 'start', '-f', good], api.tokens.deployer)).code, 0);
    const conflict = await slipway(['release', 'start', '-f', good], api.tokens.deployer);
    assert.equal(conflict.code, 4);
    assert.match(conflict.stderr, new RegExp(`${ns.name}/refused already has an active release \\(v1\\)`));
    assert.equal((await slipway(['abort', target('refused')], api.tokens.deployer)).code, 0);

    const down = await slipway(
      ['status', target('refused'), '--api-url', 'http://127.0.0.1:9'],
      api.tokens.viewer,
    );
    assert.equal(down.code, 4);
    assert.match(down.stderr, /cannot reach the Slipway API at http:\/\/127\.0\.0\.1:9/);
  });

  it('--watch rides out a restart of the API: the stream ends, the CLI reconnects and sees the end', async () => {
    const port = await freePort();
    let own = await startApi(env, ns, { port });
    try {
      const file = specFile({ model: 'restarted', version: 'v1', steps: [{ weight: 50, hold: '1s' }] });
      const v1 = await slipway(['release', 'start', '-f', file, '--watch'], own.tokens.admin, own.url);
      assert.equal(v1.code, 0, v1.stderr);
      const watching = slipwayLive(
        [
          'release',
          'start',
          '-f',
          specFile({ model: 'restarted', version: 'v2', steps: [{ weight: 20, hold: '8s' }] }),
          '--watch',
        ],
        own.tokens.admin,
        own.url,
      );
      const deadline = Date.now() + 60_000;
      while (!watching.stdout().includes('weights stable 80% canary 20%')) {
        assert.ok(Date.now() < deadline, `the watch never showed canary at 20%:\n${watching.stdout()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await own.stop(); // ends the open event stream (and the worker) at once
      own = await startApi(env, ns, { port, taskQueue: own.taskQueue, tokens: own.tokens });
      const run = await watching.done;
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /weights stable 80% canary 20%/);
      assert.match(run.stdout, /outcome {2}Promoted: v2 promoted/);
    } finally {
      await own.stop();
    }
  });

  it('on a terminal, --watch redraws a live view in place', async () => {
    await withStable('tty');
    const file = specFile({ model: 'tty', version: 'v2', steps: [{ weight: 30, hold: '4s' }] }); // long enough for several 500 ms samples
    // util-linux `script` gives the CLI a pseudo-terminal for stdout.
    const command = [process.execPath, cliMain, 'release', 'start', '-f', file, '--watch']
      .map((a) => `'${a}'`)
      .join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { ...process.env, SLIPWAY_API_URL: api.url, SLIPWAY_TOKEN: api.tokens.admin },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, out.slice(-2000));
    assert.match(out, new RegExp(`${ESC}\\[\\d+F${ESC}\\[J`), 'moves the cursor up and redraws');
    assert.match(out, /stages {3}build ✓ → shadow ✓ → \[canary\] → promote/);
    assert.match(out, /traffic {2}stable 70% █+░+ canary 30%/);
    assert.match(out, /outcome {2}Promoted/);
  });
});
