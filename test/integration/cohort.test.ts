// A/B cohort routing (canary.cohort) on the real stack: while the canary runs, requests carrying the
// cohort's header go to the candidate through an HTTPRoute rule matching it, whatever the weight;
// the traffic simulator sends a share of its requests with that header, so PromQL sees who reached
// which version. A weight of 0 sends the cohort alone; after the promotion the rule is gone.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { releaseWorkflowId } from '../../workflows/ids.ts';
import { release, type ReleaseResult } from '../../workflows/release.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { promQuery, resultWithin, waitForStatus } from '../helpers/model-objects.ts';
import { releaseSpec } from '../helpers/release-fixtures.ts';
import { devServerEnv, startRealWorker, uniqueTaskQueue } from '../helpers/temporal.ts';

let env: TestWorkflowEnvironment;
let ns: TestNamespace;
let worker: Awaited<ReturnType<typeof startRealWorker>>;
const taskQueue = uniqueTaskQueue('cohort');

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('cohort');
  worker = await startRealWorker(env, taskQueue, ns.kc, { withTemporalClient: true });
});

after(async () => {
  await worker?.stop();
  await ns?.delete();
  await env?.teardown();
});

const HEADER = { name: 'x-model-variant', value: 'b' };

function start(spec: ReleaseSpecInput): Promise<WorkflowHandle<typeof release>> {
  return env.client.workflow.start(release, {
    taskQueue,
    workflowId: releaseWorkflowId(spec.namespace, spec.model),
    args: [{ spec, submittedBy: 'ci' }],
  });
}

function withCohort(model: string, version: string, weight: number): ReleaseSpecInput {
  const base = releaseSpec({ namespace: ns.name, model, version, steps: [{ weight, hold: '14s' }] });
  return { ...base, canary: { ...base.canary!, cohort: { headers: [HEADER] } } };
}

/** Requests of `version` over the last `seconds`, in or out of the cohort. */
async function served(model: string, version: string, cohort: boolean, seconds: number): Promise<number> {
  const query = `sum(increase(model_requests_total{namespace="${ns.name}",model="${model}",version="${version}",mirrored="false",cohort="${cohort}"}[${seconds}s])) or vector(0)`;
  return (await promQuery(query)) ?? 0;
}

/** The last 8 s of requests, by version and by whether they carried the cohort's header. */
async function cohortCounts(model: string) {
  const [cohortToV2, othersToV2, cohortToV1, othersToV1] = await Promise.all([
    served(model, 'v2', true, 8),
    served(model, 'v2', false, 8),
    served(model, 'v1', true, 8),
    served(model, 'v1', false, 8),
  ]);
  return { cohortToV2, othersToV2, cohortToV1, othersToV1 };
}

interface RouteRule {
  matches?: Array<{ headers?: Array<{ name: string; value: string; type?: string }> }>;
  backendRefs?: Array<{ name: string; weight?: number }>;
}

async function routeRules(model: string): Promise<RouteRule[]> {
  const route = (await ns.custom.getNamespacedCustomObject({
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'httproutes',
    namespace: ns.name,
    name: model,
  })) as { spec?: { rules?: RouteRule[] } };
  return route.spec?.rules ?? [];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The step's traffic is in place (the status shows a step before its weights are applied). */
const holding = (s: ReleaseStatus) =>
  s.stage === 'canary' &&
  s.timeline.some((e) => /^canary step 1\/1: \d+% of traffic and the cohort/.test(e.message));

async function firstRelease(model: string): Promise<void> {
  const result = await resultWithin<ReleaseResult>(
    await start(releaseSpec({ namespace: ns.name, model, version: 'v1' })),
    60_000,
  );
  assert.equal(result.outcome.result, 'Promoted', result.outcome.reason);
}

describe('A/B cohort routing on the real stack', { concurrency: 2 }, () => {
  it('weight 0 with a cohort: only requests with the header reach the candidate', async (t: TestContext) => {
    const model = 'ab-only';
    await firstRelease(model);
    const handle = await start(withCohort(model, 'v2', 0));
    await waitForStatus(handle, holding, 'holding at the cohort-only step', 30_000);
    const rules = await routeRules(model);
    // (The apiserver adds its default `/` path prefix to the match.)
    assert.deepEqual(rules[0]?.matches?.[0]?.headers, [{ type: 'Exact', ...HEADER }]);
    assert.deepEqual(
      rules[0]?.backendRefs?.map((b) => b.name),
      [`${model}-canary`],
    );
    // Let 8 s of traffic (and Prometheus scrapes) accumulate under this route.
    await sleep(9_000);
    const { cohortToV2, othersToV2, cohortToV1, othersToV1 } = await cohortCounts(model);
    t.diagnostic(
      `8 s at weight 0: cohort → v2 ${cohortToV2}, others → v2 ${othersToV2}, cohort → v1 ${cohortToV1}, others → v1 ${othersToV1}`,
    );
    assert.ok(cohortToV2 > 20, `the cohort reached v2 (${cohortToV2})`);
    assert.equal(othersToV2, 0, 'no request without the header reached v2');
    assert.equal(cohortToV1, 0, 'no request with the header reached v1');
    assert.ok(othersToV1 > 100, `the rest stayed on v1 (${othersToV1})`);
    const result = await resultWithin<ReleaseResult>(handle, 60_000);
    assert.equal(result.outcome.result, 'Promoted', result.outcome.reason);
    const after = await routeRules(model);
    assert.ok(
      after.every((rule) => !rule.matches?.some((m) => m.headers?.length)),
      'no cohort rule after the promotion',
    );
  });

  it('a cohort besides a weight: the cohort on the candidate, the others split by the weight', async (t: TestContext) => {
    const model = 'ab-weight';
    await firstRelease(model);
    const handle = await start(withCohort(model, 'v2', 20));
    await waitForStatus(handle, holding, 'holding at 20%', 30_000);
    await sleep(9_000);
    const { cohortToV2, othersToV2, cohortToV1, othersToV1 } = await cohortCounts(model);
    const share = othersToV2 / (othersToV2 + othersToV1);
    t.diagnostic(
      `8 s at weight 20: cohort → v2 ${cohortToV2}, v1 ${cohortToV1}; others → v2 share ${share.toFixed(3)}`,
    );
    assert.ok(cohortToV2 > 20);
    assert.equal(cohortToV1, 0, 'the whole cohort is on the candidate');
    assert.ok(Math.abs(share - 0.2) < 0.05, `the others follow the weight (${share.toFixed(3)})`);
    const result = await resultWithin<ReleaseResult>(handle, 60_000);
    assert.equal(result.outcome.result, 'Promoted', result.outcome.reason);
  });
});
