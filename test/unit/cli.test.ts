// The `slipway` CLI without the API: usage errors and exit codes, the live view and the plain
// change lines drawn from fixture statuses, and the Server-Sent Events parser.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { changeLines, describeMeasurement, renderStatus, weightsBar } from '../../cli/render.ts';
import { runCli } from '../../cli/run.ts';
import { parseServerSentEvents } from '../../cli/sse.ts';
import { describeProblem } from '../../cli/api-client.ts';
import { parseStatus } from '../../cli/status-view.ts';
import type { Measurement } from '../../workflows/gates/evaluation.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(
    argv,
    { SLIPWAY_API_URL: 'http://127.0.0.1:9' },
    { write: (t) => (stdout += t), error: (t) => (stderr += t), tty: false },
  );
  return { code, stdout, stderr };
}

const measurement: Measurement = {
  gate: 'error-rate',
  provider: 'prometheus',
  at: '2026-11-22T16:00:10Z',
  value: 0.31,
  verdict: 'fail',
  reason: '0.31 is above the maximum 0.05',
  threshold: { max: 0.05 },
  query: 'errors{version="v3"}',
};

function status(overrides: Partial<ReleaseStatus> = {}): ReleaseStatus {
  // A status as a worker of today reports it (the renderer reads it through the API as a StatusView).
  return {
    releaseId: 'release/ml/fraud',
    model: 'fraud',
    namespace: 'ml',
    version: 'v2',
    submittedBy: 'alice',
    stableVersion: 'v1',
    firstRelease: false,
    stage: 'canary',
    phase: 'Running',
    step: { index: 2, total: 4, description: 'weight 25% for 10m' },
    weights: { stable: 75, canary: 25 },
    mirrorPercent: null,
    paused: false,
    pauseReasons: [],
    policy: { separationOfDuties: false },
    gates: {},
    measurements: [],
    approvals: [],
    timeline: [{ at: '2026-11-22T16:00:00Z', stage: 'canary', message: 'canary at 25%' }],
    startedAt: '2026-11-22T15:59:00Z',
    updatedAt: '2026-11-22T16:00:05Z',
    ...overrides,
  };
}

describe('slipway CLI: usage and exit codes', () => {
  it('exit 2 with a message for bad usage, never a stack trace', async () => {
    for (const argv of [
      [],
      ['frob'],
      ['release', 'retry'],
      ['release', 'retry', 'no-slash'],
      ['release', 'frob'],
      ['status', 'no-slash'],
      ['status', 'ml/x', '--output', 'yaml'],
      ['reject', 'ml/x'],
      ['release', 'start'],
      ['release', 'start', '-f', '/does/not/exist'],
      ['status', '--bogus'],
    ]) {
      const { code, stderr, stdout } = await cli(...argv);
      assert.equal(code, 2, `${argv.join(' ')}: ${stderr}`);
      assert.ok(!/\n\s+at /.test(stderr + stdout), `no stack trace for ${argv.join(' ')}`);
      if (argv.length > 0)
        assert.equal(stderr.trimEnd().split('\n').length, 1, `one line for ${argv.join(' ')}: ${stderr}`);
    }
    assert.match((await cli('status', 'no-slash')).stderr, /<namespace>\/<model>/);
    assert.match((await cli('reject', 'ml/x')).stderr, /reject needs a reason/);
  });

  it('exit 2 for a spec file that is not YAML, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'model: [unclosed\n');
    const { code, stderr } = await cli('release', 'start', '-f', file);
    assert.equal(code, 2);
    assert.match(stderr, /bad\.yaml is not valid YAML/);
  });

  it('exit 2 for a spec the schema refuses, with its paths, before any request (the API is unreachable here)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-cli-'));
    const file = join(dir, 'refused.yaml');
    writeFileSync(
      file,
      'model: fraud\nnamespace: ml\nversion: v2\nserving: { image: "triton:1", replicas: 0 }\n',
    );
    const { code, stderr } = await cli('release', 'start', '-f', file);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /^slipway: the release spec is invalid: serving\.replicas: must be a whole number/);
    assert.doesNotMatch(stderr, /cannot reach/, 'refused locally, by the same schema as the API');
    assert.equal(stderr.trimEnd().split('\n').length, 1);
  });

  it('exit 2 for a spec its strategy cannot carry out, saying so, before any request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-cli-'));
    const file = join(dir, 'unsupported.yaml');
    writeFileSync(
      file,
      'model: fraud\nnamespace: ml\nversion: v2\nserving: { image: "triton:1" }\nstrategy: { type: rolling }\ncanary: { steps: [{ weight: 10 }] }\n',
    );
    const { code, stderr } = await cli('release', 'start', '-f', file);
    assert.equal(code, 2, stderr);
    assert.match(
      stderr,
      /^slipway: the release spec cannot be carried out: canary: canary steps need strategy\.type canary/,
    );
    assert.equal(stderr.trimEnd().split('\n').length, 1);
  });

  it('exit 4 when the API cannot be reached; --help exits 0', async () => {
    const down = await cli('status', 'ml/fraud');
    assert.equal(down.code, 4);
    assert.match(down.stderr, /cannot reach the Slipway API at http:\/\/127\.0\.0\.1:9/);
    const help = await cli('--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /release start -f/);
    assert.match(help.stdout, /release retry <namespace>\/<model> \[--watch\]/);
  });
});

describe('slipway CLI: live view', () => {
  it('draws stage, step, weights, gates with thresholds and the approval prompt', () => {
    const since = '2026-11-22T16:00:06Z';
    const waiting = status({
      phase: 'AwaitingApproval',
      gates: {
        'error-rate': {
          gate: 'error-rate',
          status: 'pending',
          measurements: 1,
          failures: 0,
          consecutiveSuccesses: 1,
          inconclusives: 0,
          recent: [],
          decisive: [],
          last: { ...measurement, value: 0.004, verdict: 'pass' },
        },
      },
      pauseReasons: [
        { reason: 'awaiting-approval', message: 'canary step 3', since, deadline: '2026-11-22T17:00:06Z' },
      ],
      pendingDecision: {
        decides: 'approval',
        what: 'canary step 3',
        since,
        deadline: '2026-11-22T17:00:06Z',
      },
      waitingFor: { kind: 'approval', what: 'canary step 3', since },
    });
    const lines = renderStatus(waiting, 'approve with: slipway approve ml/fraud');
    assert.equal(lines[0], 'fraud v2 in ml (stable v1) — AwaitingApproval');
    assert.equal(lines[1], 'stages   build ✓ → shadow ✓ → [canary] → promote');
    assert.ok(lines.includes('step     2/4 weight 25% for 10m'));
    assert.ok(
      lines.some((l) => l.includes('✓ error-rate = 0.004 (pass ≤ 0.05) [pending]')),
      lines.join('\n'),
    );
    assert.ok(
      lines.includes('held     awaiting-approval: canary step 3 (until 2026-11-22T17:00:06Z)'),
      lines.join('\n'),
    );
    assert.ok(
      lines.includes('decide   approval: canary step 3 (until 2026-11-22T17:00:06Z)'),
      lines.join('\n'),
    );
    assert.ok(lines.includes('         approve with: slipway approve ml/fraud'));
  });

  it('draws each strategy’s own stages, a recreate’s downtime and a blue-green’s warm standby', () => {
    const recreate = renderStatus(
      status({
        stage: 'promote',
        strategy: 'recreate',
        downtime: { since: '2026-11-22T16:00:06Z', expectedSeconds: 330, message: 'no version serves' },
      }),
    );
    assert.equal(recreate[1], 'stages   build ✓ → [promote]');
    assert.ok(
      recreate.includes('downtime since 16:00:06, expected up to 330s: no version serves'),
      recreate.join('\n'),
    );
    const blueGreen = renderStatus(
      status({
        stage: 'promote',
        strategy: 'blueGreen',
        warmStandby: { version: 'v1', until: '2026-11-22T16:10:06Z' },
      }),
    );
    assert.equal(blueGreen[1], 'stages   build ✓ → shadow ✓ → preview ✓ → [promote]');
    assert.ok(blueGreen.includes('standby  v1 kept warm until 16:10:06: a rollback flips the route back'));
    // An unknown strategy (a newer server) falls back to the canary's stages.
    assert.equal(
      renderStatus(status({ stage: 'canary', strategy: 'bigBang' as ReleaseStatus['strategy'] }))[1],
      'stages   build ✓ → shadow ✓ → [canary] → promote',
    );
  });

  it('shows every pause reason, who paused, an undecided gate and a pending promote-now', () => {
    const since = '2026-11-22T16:00:06Z';
    const held = status({
      phase: 'Paused',
      paused: true,
      pauseReasons: [
        { reason: 'human', message: 'looking at dashboards', since, by: 'dee' },
        { reason: 'inconclusive-gate', message: 'gate error-rate is inconclusive: no data', since },
      ],
      pendingDecision: { decides: 'gate-verdict', what: 'gate error-rate is inconclusive: no data', since },
      waitingFor: { kind: 'resume', what: 'looking at dashboards', since },
      promoteNow: { by: 'abe', at: '2026-11-22T16:00:07Z' },
    });
    const lines = renderStatus(held, 'approve with: slipway approve ml/fraud');
    assert.ok(lines.includes('held     human: looking at dashboards (by dee)'), lines.join('\n'));
    assert.ok(
      lines.includes('         inconclusive-gate: gate error-rate is inconclusive: no data'),
      lines.join('\n'),
    );
    assert.ok(
      lines.includes(
        'decide   gate verdict (approve goes on, reject rolls back): gate error-rate is inconclusive: no data',
      ),
      lines.join('\n'),
    );
    assert.ok(
      lines.includes('promote  promote-now requested by abe at 16:00:07 (pending)'),
      lines.join('\n'),
    );
    assert.ok(
      !lines.some((l) => l.startsWith('waiting')),
      'waitingFor is not repeated beside the pause reasons',
    );

    const before = status({
      pauseReasons: [{ reason: 'human', message: 'looking at dashboards', since, by: 'dee' }],
      waitingFor: held.waitingFor!,
    });
    assert.deepEqual(changeLines(before, { ...held, updatedAt: '2026-11-22T16:00:08Z' }), [
      '16:00:08 phase Paused',
      '16:00:08 also held: inconclusive-gate: gate error-rate is inconclusive: no data',
      '16:00:08 decide the gate verdict: gate error-rate is inconclusive: no data (approve goes on, reject rolls back)',
      '16:00:08 promote-now requested by abe',
    ]);
  });

  it('renders an older release without pause reasons from its waitingFor', () => {
    const older = parseStatus({
      releaseId: 'release/ml/fraud',
      model: 'fraud',
      namespace: 'ml',
      version: 'v2',
      stage: 'canary',
      phase: 'AwaitingApproval',
      stableVersion: 'v1',
      weights: { stable: 80, canary: 20 },
      mirrorPercent: null,
      paused: false,
      gates: {},
      approvals: [],
      timeline: [],
      waitingFor: { kind: 'approval', what: 'canary step 3', since: '2026-11-22T16:00:06Z' },
      startedAt: '2026-11-22T15:59:00Z',
      updatedAt: '2026-11-22T16:00:06Z',
    });
    const lines = renderStatus(older, 'approve with: slipway approve ml/fraud');
    assert.ok(lines.includes('waiting  approval: canary step 3'), lines.join('\n'));
    assert.ok(lines.includes('         approve with: slipway approve ml/fraud'));
  });

  it('renders a release that failed before it could run (only what Temporal recorded)', () => {
    const failed = parseStatus({
      releaseId: 'release/ml/fraud',
      model: 'fraud',
      namespace: 'ml',
      version: 'v9',
      submittedBy: 'alice',
      stage: 'done',
      phase: 'Failed',
      paused: false,
      pauseReasons: [],
      approvals: [],
      timeline: [
        {
          at: '2026-11-22T16:00:01Z',
          stage: 'done',
          message: 'Failed: invalid release spec: ✖ Invalid input',
        },
      ],
      outcome: {
        result: 'Failed',
        reason: 'invalid release spec: ✖ Invalid input',
        failureType: 'InvalidReleaseSpec',
        at: '2026-11-22T16:00:01Z',
      },
      startedAt: '2026-11-22T16:00:00Z',
      updatedAt: '2026-11-22T16:00:01Z',
    });
    const lines = renderStatus(failed);
    assert.equal(lines[0], 'fraud v9 in ml — Failed');
    assert.ok(!lines.some((l) => l.startsWith('traffic')), 'no weights were recorded: no traffic line');
    assert.ok(
      lines.includes('outcome  Failed: invalid release spec: ✖ Invalid input [InvalidReleaseSpec]'),
      lines.join('\n'),
    );
    assert.ok(lines.includes('retry with: slipway release retry ml/fraud'));
    assert.deepEqual(changeLines(undefined, failed).slice(0, 2), [
      '16:00:01 fraud v9 in ml: stage done, Failed',
      '16:00:01 outcome  Failed: invalid release spec: ✖ Invalid input [InvalidReleaseSpec]',
    ]);
  });

  it('an answer that is not a release status, and problem details, are one line each', () => {
    assert.throws(
      () => parseStatus({ model: 'x' }),
      (e: Error) => /cannot read \(releaseId: /.test(e.message) && !e.message.includes('\n'),
    );
    const problem = describeProblem(400, {
      title: 'Bad Request',
      detail: 'the release spec is invalid: serving.replicas: Too small',
      issues: [
        { path: 'serving.replicas', message: 'Too small' },
        { path: 'model', message: 'Required' },
      ],
    });
    assert.equal(
      problem,
      'Bad Request: the release spec is invalid: serving.replicas: Too small (model: Required)',
    );
    assert.equal(describeProblem(503, undefined), 'HTTP 503');
  });

  it('shows the deciding measurement of a rollback, and how to retry', () => {
    const rolledBack = status({
      stage: 'done',
      phase: 'RolledBack',
      outcome: {
        result: 'RolledBack',
        reason: 'gate error-rate failed',
        at: '2026-11-22T16:00:11Z',
        decidingMeasurement: measurement,
      },
    });
    const lines = renderStatus(rolledBack);
    assert.ok(lines.includes('outcome  RolledBack: gate error-rate failed'));
    assert.ok(lines.includes('retry with: slipway release retry ml/fraud'));
    assert.ok(
      lines.includes('decided by ✗ error-rate = 0.31 (pass ≤ 0.05) — query: errors{version="v3"}'),
      lines.join('\n'),
    );
  });

  it('draws the weights bar in proportion', () => {
    assert.equal(weightsBar({ stable: 75, canary: 25 }, 8), 'stable 75% ██████░░ canary 25%');
    assert.equal(weightsBar({ stable: 100, canary: 0 }, 4), 'stable 100% ████ canary 0%');
  });

  it('describes a judge by its own words', () => {
    assert.equal(
      describeMeasurement({
        gate: 'lat',
        provider: 'judge',
        at: '',
        value: 0.065,
        verdict: 'fail',
        reason: 'median 30% higher, p=0.001',
      }),
      '✗ lat = 0.065 — median 30% higher, p=0.001',
    );
  });

  it('prints one plain line per change when not a terminal', () => {
    const first = status();
    // Joining a release under way: the first lines say where it is, weights included.
    assert.deepEqual(changeLines(undefined, first), [
      '16:00:05 fraud v2 in ml: stage canary, Running',
      '16:00:05 step 2/4 weight 25% for 10m',
      '16:00:05 weights stable 75% canary 25%',
    ]);
    assert.deepEqual(
      changeLines(undefined, status({ stage: 'build', weights: { stable: 100, canary: 0 } })).length,
      2,
      'no weights line before traffic moved',
    );
    assert.deepEqual(changeLines(first, first), [], 'nothing changed, nothing printed');
    const moved = status({
      step: { index: 3, total: 4, description: 'weight 50%' },
      weights: { stable: 50, canary: 50 },
      updatedAt: '2026-11-22T16:10:00Z',
    });
    assert.deepEqual(changeLines(first, moved), [
      '16:10:00 step 3/4 weight 50%',
      '16:10:00 weights stable 50% canary 50%',
    ]);
    const ended = status({
      step: moved.step!,
      weights: moved.weights,
      stage: 'done',
      phase: 'Promoted',
      updatedAt: '2026-11-22T16:20:00Z',
      outcome: { result: 'Promoted', reason: 'v2 promoted', at: '2026-11-22T16:20:00Z' },
    });
    assert.deepEqual(changeLines(moved, ended), [
      '16:20:00 stage done',
      '16:20:00 outcome  Promoted: v2 promoted',
    ]);
  });
});

describe('slipway CLI: Server-Sent Events', () => {
  function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
    const encoder = new TextEncoder();
    return new ReadableStream({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
        controller.close();
      },
    });
  }

  it('parses events split across chunks, skips keep-alive comments, joins data lines', async () => {
    const events = [];
    for await (const event of parseServerSentEvents(
      streamOf(
        ': keep-alive\n\nevent: sta',
        'tus\ndata: {"a":\ndata: 1}\n\r\n',
        'data: plain\n\nevent: end\ndata: {}\n\n',
      ),
    ))
      events.push(event);
    assert.deepEqual(events, [
      { event: 'status', data: '{"a":\n1}' },
      { event: 'message', data: 'plain' },
      { event: 'end', data: '{}' },
    ]);
  });
});
