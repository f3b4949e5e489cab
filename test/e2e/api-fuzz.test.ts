// A schema-driven fuzz of every route of the API, from the OpenAPI document it serves: more than
// 10,000 requests over every operation × every role (and no token, and garbled ones), with values
// fuzzed at the document's schema paths and in every wrong encoding (test/helpers/openapi-fuzz/).
// Every answer is below 500 and an error is a clean problem; a request the document rules out is
// never accepted; no release is started from invalid input; the release running meanwhile is
// unharmed. Seeded: FUZZ_SEED=<seed> replays a run (the seed is printed), FUZZ_PER_CELL sizes it;
// FUZZ_FAILURES_FILE=<file> keeps every bad answer, FUZZ_LOGS_FILE=<file> the API's logs.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { validateReleaseSpec } from '../../workflows/spec/index.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { RELEASE_ACTIONS } from '../../workflows/vocabulary.ts';
import { call, startApi, type ApiUnderTest, type TestTokens } from '../helpers/api.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import {
  danglingRefs,
  operations,
  type OpenApiDocument,
  type Operation,
} from '../helpers/openapi-fuzz/document.ts';
import { garbledAuthorizations } from '../helpers/openapi-fuzz/hostile.ts';
import {
  requestArbitrary,
  spoil,
  withJsonBody,
  type FuzzContext,
  type FuzzRequest,
  type Spoiler,
} from '../helpers/openapi-fuzz/requests.ts';
import { responseProblem, type FuzzResponse } from '../helpers/openapi-fuzz/verdict.ts';
import { releaseSpec } from '../helpers/release-fixtures.ts';
import { devServerEnv } from '../helpers/temporal.ts';
import { fuzzBases } from '../unit/spec-mutations.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_714);
/** Requests per operation × role: 13 operations × 8 roles × 100 = 10,400. */
const PER_CELL = Number(process.env.FUZZ_PER_CELL ?? 100);
const CONCURRENCY = 8;
/** How long an answer is read at most (an event stream that answered 200 stays open). */
const STREAM_MS = 300;
const REQUEST_TIMEOUT_MS = 60_000;
/** An answer slower than this is reported. */
const SLOW_MS = 5_000;
/** The release that runs through the fuzz; nothing may change it. */
const GUARDED = 'guarded';
/** The model of the fuzzed starts (the few valid ones start a release of it). */
const STARTED = 'fuzz-start';

const ROLES = [
  'admin',
  'admin2',
  'viewer',
  'deployer',
  'approver',
  'outsider',
  'anonymous',
  'garbled',
] as const;
type FuzzRole = (typeof ROLES)[number];

let env: TestWorkflowEnvironment;
let ns: TestNamespace;
let api: ApiUnderTest;
let doc: OpenApiDocument;
let guarded: ReleaseStatus;
let guardedRunId: string;
/** Every request sent and its answer. */
const sent: Array<{ request: FuzzRequest; response: FuzzResponse; cell: string; index: number; ms: number }> =
  [];

async function status(model: string): Promise<ReleaseStatus> {
  const response = await call(api, 'GET', `/v1/releases/${ns.name}/${model}`, { token: api.tokens.admin });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body as unknown as ReleaseStatus;
}

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('api-fuzz');
  api = await startApi(env, ns);
  // A first release held before its promotion by a freeze: it waits, deploying nothing, until the end.
  const now = Date.now();
  const spec = releaseSpec({
    namespace: ns.name,
    model: GUARDED,
    version: 'v1',
    promote: {
      freezes: [
        {
          from: new Date(now - 3_600_000).toISOString(),
          to: new Date(now + 6 * 3_600_000).toISOString(),
          reason: 'the API fuzz runs',
        },
      ],
    },
  });
  const started = await call(api, 'POST', '/v1/releases', { token: api.tokens.admin, body: spec });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  guardedRunId = String(started.body.runId);
  for (
    guarded = await status(GUARDED);
    guarded.phase !== 'AwaitingPromotionWindow';
    guarded = await status(GUARDED)
  ) {
    assert.equal(guarded.outcome, undefined, JSON.stringify(guarded.outcome));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  doc = (await api.app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApiDocument>();
});
after(async () => {
  if (process.env.FUZZ_LOGS_FILE && api) writeFileSync(process.env.FUZZ_LOGS_FILE, api.logs());
  await api?.terminateLeftovers();
  await api?.stop();
  await ns?.delete();
  await env?.teardown();
});

function authorization(role: FuzzRole, tokens: TestTokens): fc.Arbitrary<string | undefined> {
  if (role === 'anonymous') return fc.constant(undefined);
  if (role === 'garbled') return fc.constantFrom(...garbledAuthorizations(tokens.admin));
  const token = tokens[role];
  return fc.constantFrom(`Bearer ${token}`, `Bearer ${token}`, `bearer ${token}`, `Bearer   ${token}  `);
}

/** A weekday three days from today (UTC): a weekly promotion on it cannot come during the test. */
function farWeekday(): string {
  const days = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];
  return days[(new Date().getUTCDay() + 3) % 7]!;
}

/**
 * The request made harmless to the guarded release: an action on it or a promotion schedule that
 * could take effect is spoiled (certainly refused) unless it already is; a valid schedule is moved
 * to a time the test never reaches. Approve, reject and retry are left alone: the release waits for
 * no decision and is running, so they are refused by the release itself.
 */
function harmless(ctx: FuzzContext, request: FuzzRequest, index: number): FuzzRequest {
  const { namespace, model, action } = request.params;
  if (namespace !== ns.name || model !== GUARDED) return request;
  const isAction = request.method === 'POST' && request.operation.path.endsWith('{action}');
  if (isAction && (action === 'approve' || action === 'reject')) return request;
  if (!isAction && request.method !== 'PUT') return request;
  if (request.defects.length > 0) return request;
  const value = request.body?.value as { at?: unknown; calendar?: Record<string, unknown> } | undefined;
  if (request.method === 'PUT' && value && typeof value === 'object') {
    if ('at' in value) return withJsonBody(ctx, request, { at: '2099-12-31T23:59:59Z' }, 'moved to 2099');
    if (value.calendar && typeof value.calendar === 'object')
      return withJsonBody(
        ctx,
        request,
        { calendar: { ...value.calendar, dayOfWeek: farWeekday() } },
        'moved to a far weekday',
      );
  }
  const spoilers: Spoiler[] = ['no-token', 'wrong-content-type', 'not-json'];
  return spoil(request, spoilers[index % spoilers.length]!);
}

/** The body of a streamed answer: all of it, or what came in `ms` when it stays open (an event stream). */
function readFor(stream: NodeJS.ReadableStream, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString());
    };
    const timer = setTimeout(done, ms);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', done);
    stream.on('error', done);
  });
}

async function send(request: FuzzRequest): Promise<FuzzResponse> {
  // An event stream that answered 200 stays open: read it for a while, then hang up as a client would.
  const hangUp = new AbortController();
  const response = await api.app.inject({
    method: request.method as InjectOptions['method'],
    url: request.url,
    headers: request.headers,
    ...(request.payload !== undefined ? { payload: request.payload } : {}),
    payloadAsStream: true,
    signal: hangUp.signal,
  });
  const body = await readFor(response.stream(), STREAM_MS);
  hangUp.abort();
  const type = response.headers['content-type'];
  return { status: response.statusCode, contentType: typeof type === 'string' ? type : '', body };
}

/** The answer to `request`; a 599 for one that failed or did not come in REQUEST_TIMEOUT_MS. */
async function answerOf(request: FuzzRequest): Promise<FuzzResponse> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
  });
  try {
    return await Promise.race([send(request), timeout]);
  } catch (error) {
    return { status: 599, contentType: '', body: String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** The seed of one route × role (so that another FUZZ_SEED changes every cell, not just shifts them). */
function cellSeed(seed: number, cell: string): number {
  let hash = seed | 0;
  for (const char of cell) hash = (Math.imul(hash ^ char.charCodeAt(0), 0x01000193) + 0x9e3779b9) | 0;
  return hash;
}

/** Runs `task` over `items` with at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await task(items[index]!, index);
      }
    }),
  );
}

function describeRequest(request: FuzzRequest): string {
  const payload =
    request.payload === undefined ? '' : ` body(${request.payload.length}) ${request.payload.slice(0, 300)}`;
  const url = request.url.length > 300 ? `${request.url.slice(0, 300)}…` : request.url;
  return `${request.method} ${url} as ${request.role} [${request.notes.join('; ')}]${payload}`;
}

/** Prints requests by route and role, statuses and times by route; returns the count of each route × role. */
function report(t: TestContext, ops: readonly Operation[]): Map<string, number> {
  const counts = new Map<string, number>();
  const statuses = new Map<string, Map<number, number>>();
  const times = new Map<string, number[]>();
  for (const { request, response, ms } of sent) {
    const op = request.operation.key;
    const cell = `${op} × ${request.role}`;
    counts.set(cell, (counts.get(cell) ?? 0) + 1);
    const byStatus = statuses.get(op) ?? new Map<number, number>();
    byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
    statuses.set(op, byStatus);
    const opTimes = times.get(op) ?? [];
    opTimes.push(ms);
    times.set(op, opTimes);
  }
  for (const op of ops) {
    const perRole = ROLES.map((role) => `${role} ${counts.get(`${op.key} × ${role}`) ?? 0}`).join(', ');
    const byStatus = [...(statuses.get(op.key) ?? new Map<number, number>()).entries()]
      .sort(([a], [b]) => a - b)
      .map(([code, n]) => `${code}×${n}`)
      .join(' ');
    const ms = (times.get(op.key) ?? [0]).sort((a, b) => a - b);
    const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!.toFixed(0);
    t.diagnostic(`${op.key}: ${perRole} | ${byStatus} | ms p50 ${at(0.5)} p95 ${at(0.95)} max ${at(1)}`);
  }
  for (const slow of sent.filter((s) => s.ms > SLOW_MS))
    t.diagnostic(
      `slow (${(slow.ms / 1000).toFixed(1)} s, ${slow.response.status}): ${describeRequest(slow.request)}`,
    );
  return counts;
}

/** What the fuzz knows of the app: the namespace and models that exist, and valid bodies to mutate. */
function fuzzContext(): FuzzContext {
  return {
    doc,
    knownParams: {
      namespace: [ns.name, ns.name, 'some-other-namespace'],
      model: [GUARDED, GUARDED, STARTED, 'absent-model'],
      action: RELEASE_ACTIONS,
    },
    exampleBodies: {
      'post /v1/releases': fuzzBases(ns.name, STARTED),
      'post /v1/releases/{namespace}/{model}/{action}': [null, { comment: 'looks fine to me' }],
      'put /v1/releases/{namespace}/{model}/promotion-schedule': [
        { at: '2099-01-01T09:00:00Z' },
        { calendar: { dayOfWeek: farWeekday(), hour: 9, minute: 30, timezone: 'Europe/Berlin' } },
      ],
    },
  };
}

/** PER_CELL requests for every operation × role, each from the seed of its cell, made harmless. */
function fuzzRequests(
  ops: readonly Operation[],
): Array<{ request: FuzzRequest; cell: string; index: number }> {
  const ctx = fuzzContext();
  return ops.flatMap((op) =>
    ROLES.flatMap((role) => {
      const cell = `${op.key} × ${role}`;
      const arbitrary = requestArbitrary(ctx, op, role, authorization(role, api.tokens));
      return fc
        .sample(arbitrary, { seed: cellSeed(SEED, cell), numRuns: PER_CELL })
        .map((request, index) => ({ request: harmless(ctx, request, index), cell, index }));
    }),
  );
}

describe('API fuzz, from the OpenAPI document', () => {
  it('the document is self-contained: every $ref resolves', () => {
    assert.deepEqual(danglingRefs(doc), []);
  });

  it(`${PER_CELL} requests per route × role: no 5xx, every error a clean problem, nothing accepted that the document rules out`, async (t) => {
    const ops = operations(doc);
    const requests = fuzzRequests(ops);
    t.diagnostic(`seed ${SEED} (replay: FUZZ_SEED=${SEED}); ${requests.length} requests`);
    const secrets = Object.values(api.tokens);
    const failures: string[] = [];
    const started = Date.now();
    await pool(requests, CONCURRENCY, async ({ request, cell, index }) => {
      const sentAt = performance.now();
      const response = await answerOf(request);
      sent.push({ request, response, cell, index, ms: performance.now() - sentAt });
      const problem = responseProblem(request, response, secrets);
      if (problem)
        failures.push(
          `${problem}\n    ${cell} #${index} (seed ${SEED}): ${describeRequest(request)}\n    → ${response.body.slice(0, 500)}`,
        );
    });
    t.diagnostic(`sent in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const counts = report(t, ops);
    if (failures.length > 0 && process.env.FUZZ_FAILURES_FILE)
      writeFileSync(process.env.FUZZ_FAILURES_FILE, `${failures.join('\n\n')}\n\nAPI logs:\n${api.logs()}`);
    assert.deepEqual(
      failures.slice(0, 15),
      [],
      `${failures.length} bad answers (seed ${SEED}; all of them: FUZZ_FAILURES_FILE=<file>)`,
    );
    assert.ok(sent.length >= 10_000 || PER_CELL < 100, `${sent.length} requests`);
    assert.equal(ops.length, 13, 'every documented operation is fuzzed');
    for (const op of ops)
      for (const role of ROLES)
        assert.ok((counts.get(`${op.key} × ${role}`) ?? 0) > 0, `${op.key} × ${role}`);
  });

  it('found by the fuzz: a promotion after 2100 is a 400; concurrent schedule puts and reads are 200s (reads 404 while one is replaced)', async () => {
    const path = `/v1/releases/${ns.name}/${GUARDED}/promotion-schedule`;
    // Temporal's calendars end in 2100: a later `at` was a 500 (Temporal's INVALID_ARGUMENT).
    const late = await call(api, 'PUT', path, {
      token: api.tokens.approver,
      body: { at: '2101-01-01T00:00:00Z' },
    });
    assert.equal(late.status, 400, JSON.stringify(late.body));
    assert.match(String(late.body.detail), /after 2100/);
    // A put is delete + create: a put between them made the other's create a 500 (the schedule
    // exists), and a read of a schedule deleted a moment ago a 500 (FAILED_PRECONDITION) or a 503.
    for (let round = 0; round < 2; round++) {
      const [puts, reads] = await Promise.all([
        Promise.all(
          Array.from({ length: 4 }, (_, i) =>
            call(api, 'PUT', path, {
              token: api.tokens.approver,
              body: { at: `2099-0${i + 1}-01T09:00:00Z` },
            }),
          ),
        ),
        Promise.all(Array.from({ length: 2 }, () => call(api, 'GET', path, { token: api.tokens.viewer }))),
      ]);
      for (const put of puts) assert.equal(put.status, 200, JSON.stringify(put.body));
      for (const read of reads)
        assert.ok(read.status === 200 || read.status === 404, JSON.stringify(read.body));
      const held = await call(api, 'GET', path, { token: api.tokens.viewer });
      assert.equal(held.status, 200, JSON.stringify(held.body));
      assert.match(String(held.body.at), /^2099-0[1-4]-01T09:00:00Z$/);
    }
    assert.equal((await call(api, 'DELETE', path, { token: api.tokens.approver })).status, 204);
  });

  it('no release was started from invalid input, and the guarded release is unharmed', async () => {
    assert.ok(sent.length > 0, 'the fuzz ran');
    // Every run on the task queue is the guarded release or a start the API accepted, with a valid spec.
    const accepted = new Map<string, FuzzRequest>();
    for (const { request, response } of sent) {
      if (response.status !== 202) continue;
      const runId = (JSON.parse(response.body) as { runId: string }).runId;
      accepted.set(runId, request);
      if (request.operation.key === 'post /v1/releases') {
        const validated = validateReleaseSpec(request.body?.value);
        assert.ok(validated.ok, `a 202 for an invalid spec: ${describeRequest(request)}`);
        assert.deepEqual(request.defects, []);
      }
    }
    const runs: Array<{ workflowId: string; runId: string; type: string }> = [];
    for await (const w of env.client.workflow.list({ query: `TaskQueue = '${api.taskQueue}'` }))
      runs.push({ workflowId: w.workflowId, runId: w.runId, type: w.type });
    for (const run of runs) {
      if (run.workflowId === guarded.releaseId && run.runId === guardedRunId) continue;
      assert.ok(accepted.has(run.runId), `a run nobody was told of: ${JSON.stringify(run)}`);
    }
    // The guarded release waits as before: nothing approved, paused, promoted or aborted it.
    const now = await status(GUARDED);
    assert.equal(now.phase, 'AwaitingPromotionWindow');
    assert.equal(now.startedAt, guarded.startedAt);
    assert.deepEqual(now.approvals, []);
    assert.equal(now.promoteNow, undefined);
    assert.deepEqual(
      now.pauseReasons?.map((p) => p.reason),
      guarded.pauseReasons?.map((p) => p.reason),
    );
    // A schedule the fuzz left on it promotes only in a far future.
    const schedule = await call(api, 'GET', `/v1/releases/${ns.name}/${GUARDED}/promotion-schedule`, {
      token: api.tokens.viewer,
    });
    if (schedule.status === 200) {
      for (const at of schedule.body.nextActionTimes as string[])
        assert.ok(Date.parse(at) > Date.now() + 24 * 3_600_000, `a schedule at ${at}`);
    } else assert.equal(schedule.status, 404);
    // No prototype was polluted in this process (the app runs in it).
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getOwnPropertyNames(Object.prototype).includes('polluted'), false);
    const logs = api.logs();
    for (const token of Object.values(api.tokens))
      assert.ok(!logs.includes(token), 'a token appears in the logs');
  });
});
