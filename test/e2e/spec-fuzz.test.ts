// The seeded spec fuzz (test/unit/spec-mutations.ts) against the real API on the real stack: 2,000
// mutated specs to the dry-run, and a seeded subset started for real. Acceptance test of "one
// validation for every entry point": no input gets a 5xx; every 4xx is a problem that says what is
// wrong; a start answered 202 is a spec the cluster takes (its release gets past build), and every
// started release is aborted and ended before the test ends.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ReleaseSpec, validateReleaseSpec } from '../../workflows/spec/index.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { call, startApi, type ApiUnderTest } from '../helpers/api.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { devServerEnv } from '../helpers/temporal.ts';
import { describeMutation, FUZZ_RUNS, seededMutations, type SpecMutation } from '../unit/spec-mutations.ts';

/** Requests in flight at once (a 2-core machine runs the API, a worker, Temporal and Kubernetes). */
const CONCURRENCY = 8;
/** How many mutations are started for real (every STARTS_EVERY-th, plus valid ones). */
const STARTS_EVERY = 100;
const VALID_STARTS = 15;
const START_CONCURRENCY = 5;
const RELEASE_WAIT_MS = 45_000;

let env: TestWorkflowEnvironment;
let ns: TestNamespace;
let api: ApiUnderTest;
let samples: SpecMutation[];
/** Index → the dry-run's answer. */
const dryRuns = new Map<number, { status: number; body: unknown }>();

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('spec-fuzz');
  api = await startApi(env, ns);
  samples = seededMutations(ns.name, (index) => `fz${index}`);
});
after(async () => {
  await api?.terminateLeftovers();
  await api?.stop();
  await ns?.delete();
  await env?.teardown();
});

type Answer = Awaited<ReturnType<typeof call>>;

/** Runs `task` over `items` with at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await task(items[next++]!);
  });
  await Promise.all(workers);
}

const show = (body: unknown) => JSON.stringify(body)?.slice(0, 600);

/** What is wrong with an answer to a spec (undefined when the answer is as it should be). */
function problemWith(answer: Answer, sample: SpecMutation, allowed: readonly number[]): string | undefined {
  const where = `${answer.status} for ${describeMutation(sample)}: ${show(answer.body)}`;
  if (answer.status >= 500) return `5xx: ${where}`;
  if (!allowed.includes(answer.status)) return `unexpected status: ${where}`;
  if (answer.status >= 400) {
    if (!/application\/problem\+json/.test(answer.contentType)) return `not a problem body: ${where}`;
    if (answer.body.status !== answer.status) return `problem status differs: ${where}`;
    const detail = answer.body.detail;
    if (typeof detail !== 'string' || detail.trim().length < 10) return `no clear detail: ${where}`;
  }
  return undefined;
}

async function status(model: string): Promise<ReleaseStatus | undefined> {
  const answer = await call(api, 'GET', `/v1/releases/${ns.name}/${model}`, { token: api.tokens.admin });
  return answer.status === 200 ? (answer.body as unknown as ReleaseStatus) : undefined;
}

async function waitFor(
  model: string,
  done: (s: ReleaseStatus) => boolean,
  what: string,
): Promise<ReleaseStatus | string> {
  const deadline = Date.now() + RELEASE_WAIT_MS;
  let last: ReleaseStatus | undefined;
  while (Date.now() < deadline) {
    last = await status(model);
    if (last && done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return `${model} did not ${what} within ${RELEASE_WAIT_MS} ms (last: stage ${last?.stage}, phase ${last?.phase})`;
}

describe(`API spec fuzz: ${FUZZ_RUNS} seeded mutations on the real stack`, () => {
  /**
   * The statuses the API may answer: `accepted` when the schema takes the spec; when it refuses it, a
   * 422 if it only asks for what its strategy or router cannot do, else a 400.
   */
  function expected(sample: SpecMutation, accepted: number[]): number[] {
    const validated = validateReleaseSpec(sample.spec);
    if (validated.ok) return accepted;
    return [validated.unsupported ? 422 : 400];
  }

  it('dry-run: never a 5xx; a 400 exactly when the schema refuses (422: a combination it cannot carry out); every 4xx a problem with a clear detail', async () => {
    const findings: string[] = [];
    await pool(
      samples.map((sample, index) => ({ sample, index })),
      CONCURRENCY,
      async ({ sample, index }) => {
        const answer = await call(api, 'POST', '/v1/releases?dryRun=true', {
          token: api.tokens.admin,
          body: sample.spec,
        });
        dryRuns.set(index, { status: answer.status, body: answer.body });
        const problem = problemWith(answer, sample, expected(sample, [200, 422]));
        if (problem) findings.push(`#${index} ${problem}`);
        else if (
          answer.status === 400 &&
          !(answer.body.issues ?? []).every((i) => typeof i.path === 'string')
        )
          findings.push(`#${index} 400 without issue paths: ${show(answer.body)}`);
      },
    );
    assert.equal(dryRuns.size, FUZZ_RUNS);
    const counts = [...dryRuns.values()].reduce<Record<number, number>>(
      (acc, { status: code }) => ({ ...acc, [code]: (acc[code] ?? 0) + 1 }),
      {},
    );
    console.log(`dry-run answers by status: ${JSON.stringify(counts)}`);
    // What the cluster refuses that the schema lets through (candidates for the schema).
    for (const [index, answer] of dryRuns)
      if (answer.status === 422)
        console.log(`422 #${index} ${describeMutation(samples[index]!)}: ${show(answer.body)}`);
    assert.ok((counts[200] ?? 0) > 0, 'some mutations stay valid and the cluster takes them');
    assert.deepEqual(findings, []);
  });

  it('start: a seeded subset; never a 5xx; a 202 gets past build (then it is aborted and ends)', async () => {
    assert.equal(dryRuns.size, FUZZ_RUNS, 'runs after the dry-run fuzz');
    const valid = [...dryRuns.entries()]
      .filter(([, answer]) => answer.status === 200)
      .map(([index]) => index);
    const chosen = new Set([
      ...samples.map((_, index) => index).filter((index) => index % STARTS_EVERY === 0),
      ...valid
        .filter((_, i) => i % Math.max(1, Math.floor(valid.length / VALID_STARTS)) === 0)
        .slice(0, VALID_STARTS),
    ]);
    const findings: string[] = [];
    let started = 0;
    await pool([...chosen], START_CONCURRENCY, async (index) => {
      const sample = samples[index]!;
      const answer = await call(api, 'POST', '/v1/releases', { token: api.tokens.admin, body: sample.spec });
      const problem = problemWith(answer, sample, expected(sample, [202, 409, 422]));
      if (problem) findings.push(`#${index} ${problem}`);
      const dryRun = dryRuns.get(index)!;
      if (answer.status === 202 && dryRun.status !== 200)
        findings.push(
          `#${index} started (202) although the dry-run said ${dryRun.status}: ${show(dryRun.body)}`,
        );
      if (answer.status !== 202) return;
      started++;
      const model = ReleaseSpec.parse(sample.spec).model;
      const pastBuild = await waitFor(
        model,
        (s) => s.stage !== 'build' || s.outcome !== undefined,
        'leave build',
      );
      if (typeof pastBuild === 'string') findings.push(`#${index} ${pastBuild}: ${describeMutation(sample)}`);
      else if (pastBuild.outcome && pastBuild.stage === 'build')
        findings.push(
          `#${index} started but refused in build: ${pastBuild.outcome.failureType}: ${pastBuild.outcome.reason} — ${describeMutation(sample)}`,
        );
      if (!(typeof pastBuild !== 'string' && pastBuild.outcome)) {
        const aborted = await call(api, 'POST', `/v1/releases/${ns.name}/${model}/abort`, {
          token: api.tokens.admin,
          body: { comment: 'spec fuzz: end it' },
        });
        if (aborted.status >= 500)
          findings.push(`#${index} abort answered ${aborted.status}: ${show(aborted.body)}`);
      }
      const ended = await waitFor(model, (s) => s.outcome !== undefined, 'end');
      if (typeof ended === 'string') findings.push(`#${index} ${ended}`);
    });
    console.log(`starts: ${chosen.size} tried, ${started} started`);
    assert.ok(started > 0, 'some starts are accepted');
    assert.deepEqual(findings, []);
  });
});
