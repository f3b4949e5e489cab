// The HTTP API end to end: API → Temporal dev server → worker → local cluster. Every flow a user of
// the API has: start, watch (SSE), approve, reject, abort, pause/resume, scheduled promotion, one
// active release per model, supersede, server-side dry-run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseServerSentEvents } from '../../cli/sse.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { call, startApi, type ApiUnderTest } from '../helpers/api.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { clusterState, releaseSpec, type FixtureOptions } from '../helpers/release-fixtures.ts';
import { devServerEnv } from '../helpers/temporal.ts';

let env: TestWorkflowEnvironment;
let ns: TestNamespace;
let api: ApiUnderTest;

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('api-e2e');
  api = await startApi(env, ns);
});
after(async () => {
  await api?.terminateLeftovers();
  await api?.stop();
  await ns?.delete();
  await env?.teardown();
});

const spec = (o: Omit<FixtureOptions, 'namespace'>): ReleaseSpecInput =>
  releaseSpec({ namespace: ns.name, ...o });
const approvalSteps = [
  { weight: 20, hold: '1s' },
  { approval: { timeout: '10m' } },
  { weight: 50, hold: '1s' },
];

async function status(model: string): Promise<ReleaseStatus> {
  const response = await call(api, 'GET', `/v1/releases/${ns.name}/${model}`, { token: api.tokens.viewer });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body as unknown as ReleaseStatus;
}

async function until(
  model: string,
  predicate: (s: ReleaseStatus) => boolean,
  what: string,
  timeoutMs = 120_000,
): Promise<ReleaseStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await status(model);
    if (predicate(s)) return s;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s.timeline?.slice(-3))}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function start(body: ReleaseSpecInput, query = '', token = api.tokens.deployer) {
  return call(api, 'POST', `/v1/releases${query}`, { token, body });
}

async function withStable(model: string): Promise<void> {
  const started = await start(spec({ model, version: 'v1' }));
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const done = await until(model, (s) => s.outcome !== undefined, 'v1 promoted');
  assert.equal(done.outcome?.result, 'Promoted', done.outcome?.reason);
}

const allStable = { stable: 100, canary: 0 };

describe('API end to end', { concurrency: 4 }, () => {
  it('start → watch via SSE → approve → promoted, with who approved recorded', async () => {
    await withStable('watched');
    const started = await start(spec({ model: 'watched', version: 'v2', steps: approvalSteps }));
    assert.equal(started.status, 202);
    assert.equal(started.body.releaseId, `release/${ns.name}/watched`);
    assert.deepEqual(started.body.links, {
      self: `/v1/releases/${ns.name}/watched`,
      events: `/v1/releases/${ns.name}/watched/events`,
      history: `/v1/releases/${ns.name}/watched/history`,
    });

    const response = await fetch(`${api.url}/v1/releases/${ns.name}/watched/events`, {
      headers: { authorization: `Bearer ${api.tokens.viewer}` },
    });
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const seen: ReleaseStatus[] = [];
    let approved = false;
    let ended = false;
    for await (const event of parseServerSentEvents(response.body!)) {
      if (event.event === 'end') {
        ended = true;
        break;
      }
      const s = JSON.parse(event.data) as ReleaseStatus;
      seen.push(s);
      if (s.phase === 'AwaitingApproval' && !approved) {
        approved = true;
        const approval = await call(api, 'POST', `/v1/releases/${ns.name}/watched/approve`, {
          token: api.tokens.approver,
          body: { comment: 'canary healthy' },
        });
        assert.equal(approval.status, 200, JSON.stringify(approval.body));
      }
    }
    assert.ok(ended, 'the stream ends with an end event');
    assert.ok(approved, 'the stream showed the approval wait');
    const last = seen.at(-1)!;
    assert.equal(last.outcome?.result, 'Promoted');
    assert.deepEqual(
      last.approvals.map((a) => [a.decision, a.actor, a.comment]),
      [['approved', 'abe-approver', 'canary healthy']],
    );
    assert.equal(last.submittedBy, 'dee-deployer');
    assert.ok(new Set(seen.map((s) => s.weights.canary)).has(20), 'saw the 20% step');
    for (let i = 1; i < seen.length; i++) assert.notDeepEqual(seen[i], seen[i - 1], 'only changes are sent');
    assert.deepEqual((await clusterState(ns, ns.name, 'watched')).weights, allStable);

    const history = await call(api, 'GET', `/v1/releases/${ns.name}/watched/history`, {
      token: api.tokens.viewer,
    });
    assert.equal(history.status, 200);
    const items = history.body.items as Array<{ version: string; outcome?: string }>;
    assert.deepEqual(
      items.map((i) => [i.version, i.outcome]),
      [
        ['v2', 'Promoted'],
        ['v1', 'Promoted'],
      ],
    );
  });

  it('reject rolls back; actions on an ended release are refused', async () => {
    await withStable('rejected');
    assert.equal((await start(spec({ model: 'rejected', version: 'v2', steps: approvalSteps }))).status, 202);
    await until('rejected', (s) => s.phase === 'AwaitingApproval', 'approval');
    const noComment = await call(api, 'POST', `/v1/releases/${ns.name}/rejected/reject`, {
      token: api.tokens.approver,
      body: {},
    });
    assert.equal(noComment.status, 400);
    assert.equal(noComment.body.issues?.[0]?.path, 'comment');
    const rejected = await call(api, 'POST', `/v1/releases/${ns.name}/rejected/reject`, {
      token: api.tokens.approver,
      body: { comment: 'p99 too high' },
    });
    assert.equal(rejected.status, 200);
    const done = await until('rejected', (s) => s.outcome !== undefined, 'rolled back');
    assert.equal(done.outcome?.failureType, 'ApprovalRejected');
    assert.match(done.outcome?.reason ?? '', /abe-approver.*p99 too high/);
    const late = await call(api, 'POST', `/v1/releases/${ns.name}/rejected/approve`, {
      token: api.tokens.approver,
    });
    assert.equal(late.status, 409, JSON.stringify(late.body));
    assert.match(late.body.detail ?? '', /has ended/);
    assert.equal((await clusterState(ns, ns.name, 'rejected')).stableVersion, 'v1');
  });

  it('pause stops the clock, resume goes on; abort rolls back', async () => {
    await withStable('paused');
    assert.equal(
      (
        await start(
          spec({
            model: 'paused',
            version: 'v2',
            steps: [
              { weight: 30, hold: '4s' },
              { weight: 60, hold: '1s' },
            ],
          }),
        )
      ).status,
      202,
    );
    await until('paused', (s) => s.weights.canary === 30, 'at 30%');
    const paused = await call(api, 'POST', `/v1/releases/${ns.name}/paused/pause`, {
      token: api.tokens.deployer,
      body: { comment: 'looking' },
    });
    assert.equal(paused.status, 200);
    assert.equal(paused.body.phase, 'Paused');
    const again = await call(api, 'POST', `/v1/releases/${ns.name}/paused/pause`, {
      token: api.tokens.deployer,
    });
    assert.equal(again.status, 422);
    assert.match(again.body.detail ?? '', /already paused/);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    assert.equal((await status('paused')).weights.canary, 30, 'held while paused');
    assert.equal(
      (await call(api, 'POST', `/v1/releases/${ns.name}/paused/resume`, { token: api.tokens.deployer }))
        .status,
      200,
    );
    await until('paused', (s) => s.weights.canary === 60, 'at 60%');
    const aborted = await call(api, 'POST', `/v1/releases/${ns.name}/paused/abort`, {
      token: api.tokens.deployer,
      body: { comment: 'enough' },
    });
    assert.equal(aborted.status, 200);
    const done = await until('paused', (s) => s.outcome !== undefined, 'rolled back');
    assert.equal(done.outcome?.failureType, 'ReleaseAborted');
    assert.match(done.outcome?.reason ?? '', /dee-deployer: enough/);
    assert.deepEqual(await clusterState(ns, ns.name, 'paused'), {
      stableVersion: 'v1',
      stableImage: 'registry.example.com/triton:v1',
      candidateExists: false,
      weights: allStable,
      mirror: false,
    });
  });

  it('a scheduled promotion fires at its time, and the schedule goes with the release', async () => {
    await withStable('scheduled');
    const body = spec({
      model: 'scheduled',
      version: 'v2',
      steps: [{ weight: 20, hold: '1s' }],
      promote: { approval: { required: true } },
    });
    assert.equal((await start(body)).status, 202);
    await until(
      'scheduled',
      (s) => s.stage === 'promote' && s.phase === 'AwaitingApproval',
      'promotion approval',
    );
    const at = new Date(Date.now() + 4_000).toISOString();
    // A scheduled promotion is a deferred promote-now: a deployer may not set one (no self-approval).
    const denied = await call(api, 'PUT', `/v1/releases/${ns.name}/scheduled/promotion-schedule`, {
      token: api.tokens.deployer,
      body: { at },
    });
    assert.equal(denied.status, 403);
    assert.match(denied.body.detail ?? '', /dee-deployer \(roles deployer\) may not approve/);
    const put = await call(api, 'PUT', `/v1/releases/${ns.name}/scheduled/promotion-schedule`, {
      token: api.tokens.approver,
      body: { at },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.scheduleId, `promotion/${ns.name}/scheduled`);
    assert.equal(
      (put.body.nextActionTimes as string[])[0],
      new Date(Math.floor(Date.parse(at) / 1000) * 1000).toISOString(),
    );
    const got = await call(api, 'GET', `/v1/releases/${ns.name}/scheduled/promotion-schedule`, {
      token: api.tokens.viewer,
    });
    assert.equal(got.status, 200);
    assert.equal(got.body.at, at);
    const done = await until('scheduled', (s) => s.outcome !== undefined, 'promoted by the schedule', 60_000);
    assert.equal(done.outcome?.result, 'Promoted');
    assert.ok(
      Date.parse(done.outcome.at) >= Date.parse(at),
      `promoted at ${done.outcome?.at}, scheduled ${at}`,
    );
    assert.deepEqual(
      done.approvals.map((a) => [a.decision, a.actor]),
      [['promoted-now', 'abe-approver']],
    );
    assert.ok(done.timeline.some((t) => t.message === 'promotion schedule removed'));
    assert.equal(
      (
        await call(api, 'GET', `/v1/releases/${ns.name}/scheduled/promotion-schedule`, {
          token: api.tokens.viewer,
        })
      ).status,
      404,
    );
    const past = await call(api, 'PUT', `/v1/releases/${ns.name}/scheduled/promotion-schedule`, {
      token: api.tokens.approver,
      body: { at: '2020-01-01T00:00:00Z' },
    });
    assert.equal(past.status, 400);
    assert.equal(past.body.issues?.[0]?.path, 'at');
  });

  it('one active release per model: a second start is 409 naming it; supersede aborts it and starts', async () => {
    await withStable('busy');
    assert.equal((await start(spec({ model: 'busy', version: 'v2', steps: approvalSteps }))).status, 202);
    await until('busy', (s) => s.phase === 'AwaitingApproval', 'approval');
    const conflict = await start(spec({ model: 'busy', version: 'v3' }));
    assert.equal(conflict.status, 409);
    assert.match(conflict.body.detail ?? '', /already has an active release \(v2\)/);
    assert.equal((await status('busy')).phase, 'AwaitingApproval', 'the running release is unharmed');
    const superseding = await start(
      spec({ model: 'busy', version: 'v3', steps: [{ weight: 50, hold: '1s' }] }),
      '?supersede=true',
    );
    assert.equal(superseding.status, 202, JSON.stringify(superseding.body));
    const done = await until('busy', (s) => s.version === 'v3' && s.outcome !== undefined, 'v3 promoted');
    assert.equal(done.outcome?.result, 'Promoted');
    const history = await call(api, 'GET', `/v1/releases/${ns.name}/busy/history`, {
      token: api.tokens.viewer,
    });
    const items = history.body.items as Array<{ version: string; outcome?: string }>;
    assert.deepEqual(
      items.map((i) => [i.version, i.outcome]),
      [
        ['v3', 'Promoted'],
        ['v2', 'RolledBack'],
        ['v1', 'Promoted'],
      ],
    );
  });

  it('dry-run renders and server-side dry-runs without starting anything; the apiserver’s refusal is a 422', async () => {
    const ok = await start(spec({ model: 'dry', version: 'v1' }), '?dryRun=true');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual((ok.body.objects as Array<{ kind: string }>).map((o) => o.kind).sort(), [
      'Deployment',
      'HTTPRoute',
      'Service',
      'Service',
      'Service',
    ]);
    // The schema accepts any annotation value; the apiserver limits all annotations to 256 KiB.
    const huge = spec({
      model: 'dry',
      version: 'v1',
      annotations: { 'example.com/blob': 'x'.repeat(300_000) },
    });
    const refused = await start(huge, '?dryRun=true');
    assert.equal(refused.status, 422, JSON.stringify(refused.body).slice(0, 300));
    assert.match(refused.body.detail ?? '', /annotations.*[Tt]oo long/);
    assert.equal(
      (await call(api, 'GET', `/v1/releases/${ns.name}/dry`, { token: api.tokens.viewer })).status,
      404,
      'nothing started',
    );
  });
});
