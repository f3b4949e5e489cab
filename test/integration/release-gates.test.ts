// Gates that judge and explain, end to end: the release workflow with real activities against the
// Temporal dev server, the local cluster, Prometheus, the traffic simulator and a real HTTP evaluator.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ANNOTATION_QUALITY_SCORES } from '../../activities/kubernetes/labels.ts';
import { abortUpdate, approveUpdate, rejectUpdate, statusQuery } from '../../workflows/messages.ts';
import { release, type ReleaseInput } from '../../workflows/release.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { clusterState, releaseSpec } from '../helpers/release-fixtures.ts';
import { devServerEnv, startRealWorker, uniqueTaskQueue } from '../helpers/temporal.ts';

let env: TestWorkflowEnvironment;
let ns: TestNamespace;
let worker: Awaited<ReturnType<typeof startRealWorker>>;
let evaluator: Server;
let evaluatorUrl: string;
/** What the evaluator answers, by version; every request it saw. */
const scores: Record<string, number> = { v1: 0.93, v2: 0.9, v3: 0.925 };
const evaluated: string[] = [];
const taskQueue = uniqueTaskQueue('release-gates');

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('release-gates');
  evaluator = createServer((req, res) => {
    const version = new URL(req.url ?? '/', 'http://x').searchParams.get('version') ?? '';
    evaluated.push(version);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ model: 'scored', version, metrics: { accuracy: scores[version] ?? null } }));
  });
  await new Promise<void>((resolve) => evaluator.listen(0, '127.0.0.1', resolve));
  evaluatorUrl = `http://127.0.0.1:${(evaluator.address() as AddressInfo).port}`;
  worker = await startRealWorker(env, taskQueue, ns.kc);
});

after(async () => {
  await worker?.stop();
  evaluator?.close();
  await ns?.delete();
  await env?.teardown();
});

function start(spec: ReleaseSpecInput): Promise<WorkflowHandle<typeof release>> {
  const input: ReleaseInput = { spec, submittedBy: 'ci' };
  return env.client.workflow.start(release, {
    taskQueue,
    workflowId: `gates-${ns.name}-${spec.model}-${spec.version}`,
    args: [input],
  });
}

async function waitForStatus(
  handle: WorkflowHandle,
  predicate: (s: ReleaseStatus) => boolean,
  what: string,
  timeoutMs = 120_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await handle.query(statusQuery);
    if (predicate(status)) return status;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; status: ${JSON.stringify(status.timeline.slice(-3))}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const allStable = { stable: 100, canary: 0 };
const selector = (version: string, mirrored: boolean) =>
  `namespace="{{namespace}}",model="{{model}}",version="${version}",mirrored="${mirrored}"`;
/** Mean latency over 2 s windows: of the candidate's mirrored requests, of stable's live ones. */
const meanLatency = (version: string, mirrored: boolean) =>
  `sum(rate(model_request_duration_seconds_sum{${selector(version, mirrored)}}[2s])) / sum(rate(model_request_duration_seconds_count{${selector(version, mirrored)}}[2s]))`;

describe('gates on the real stack', { concurrency: 3 }, () => {
  it('an HTTP evaluator’s regressing score fails the build gate before any traffic moves', async () => {
    const model = 'scored';
    const withQualityGate = (version: string): ReleaseSpecInput => {
      const base = releaseSpec({ namespace: ns.name, model, version, steps: [{ weight: 50, hold: '1s' }] });
      return {
        ...base,
        build: { gates: ['accuracy'] },
        gates: [
          ...(base.gates ?? []),
          {
            name: 'accuracy',
            http: {
              url: `${evaluatorUrl}/score?model={{model}}&version={{version}}`,
              value: '$.metrics.accuracy',
            },
            pass: { min: 0.5 },
            regression: { better: 'higher', tolerance: 0.01 },
            interval: '2s',
          },
        ],
      };
    };
    // v1: first release, its score is recorded with it.
    const first = await (await start(withQualityGate('v1'))).result();
    assert.equal(first.outcome.result, 'Promoted', first.outcome.reason);
    assert.deepEqual(first.qualityScores, { accuracy: 0.93 });
    const stable = await ns.apps.readNamespacedDeployment({ name: model, namespace: ns.name });
    assert.equal(
      stable.spec?.template.metadata?.annotations?.[ANNOTATION_QUALITY_SCORES],
      '{"accuracy":0.93}',
    );

    // v2 scores 0.90: more than 0.01 below v1's 0.93.
    const handle = await start(withQualityGate('v2'));
    const result = await handle.result();
    assert.equal(result.outcome.result, 'RolledBack');
    assert.equal(result.outcome.failureType, 'GateFailed');
    const deciding = result.outcome.decidingMeasurement;
    assert.equal(deciding?.gate, 'accuracy');
    assert.equal(deciding?.value, 0.9);
    assert.deepEqual(deciding?.threshold, { min: 0.92 });
    assert.equal(deciding?.details?.stableScore, 0.93);
    assert.match(deciding?.reason ?? '', /0\.9 is below the minimum 0\.92.*v1 scored 0\.93/);
    assert.match(deciding?.query ?? '', /version=v2/);
    assert.ok(evaluated.includes('v2'));
    const status = await handle.query(statusQuery);
    assert.equal(status.stage, 'done');
    assert.ok(!status.timeline.some((t) => t.stage === 'shadow' || t.stage === 'canary'), 'never left build');
    assert.deepEqual(await clusterState(ns, ns.name, model), {
      stableVersion: 'v1',
      stableImage: 'registry.example.com/triton:v1',
      candidateExists: false,
      weights: allStable,
      mirror: false,
    });
  });

  /** A shadow stage judged against stable on the mirrored traffic: latency (judge) and disagreement. */
  function shadowJudged(
    model: string,
    version: string,
    annotations: Record<string, string> = {},
  ): ReleaseSpecInput {
    const base = releaseSpec({
      namespace: ns.name,
      model,
      version,
      annotations,
      steps: [{ weight: 50, hold: '1s' }],
    });
    return {
      ...base,
      shadow: { duration: '12s', mirrorPercent: 100, gates: ['latency-vs-stable', 'disagreement'] },
      gates: [
        ...(base.gates ?? []),
        {
          name: 'latency-vs-stable',
          judge: {
            test: 'mann-whitney',
            candidate: meanLatency('{{version}}', true),
            baseline: meanLatency('{{stableVersion}}', false),
            worseIf: 'higher',
            confidence: 0.95,
            tolerance: 0.1,
            minSamples: 5,
            range: { duration: '8s', step: '1s' },
          },
          interval: '10s',
        },
        {
          name: 'disagreement',
          prometheus: {
            query:
              '(sum(rate(model_shadow_disagreements_total{namespace="{{namespace}}",model="{{model}}",version="{{version}}"}[4s])) or vector(0))' +
              ' / sum(rate(model_shadow_predictions_total{namespace="{{namespace}}",model="{{model}}",version="{{version}}"}[4s]))',
          },
          pass: { max: 0.05 },
          interval: '5s',
        },
      ],
    };
  }

  async function withStable(model: string): Promise<void> {
    const result = await (await start(releaseSpec({ namespace: ns.name, model, version: 'v1' }))).result();
    assert.equal(result.outcome.result, 'Promoted', result.outcome.reason);
  }

  it('shadow: a candidate as fast as stable and agreeing with it passes the judge and is promoted', async () => {
    await withStable('shadow-good');
    const handle = await start(shadowJudged('shadow-good', 'v2'));
    const result = await handle.result();
    assert.equal(result.outcome.result, 'Promoted', result.outcome.reason);
    const status = await handle.query(statusQuery);
    const judged = status.measurements.filter((m) => m.gate === 'latency-vs-stable');
    assert.ok(judged.length > 0 && judged.every((m) => m.verdict === 'pass'), JSON.stringify(judged));
    assert.equal(judged[0]?.provider, 'judge');
    assert.ok(judged[0]?.details && 'pValue' in judged[0].details, 'the judge shows its statistics');
  });

  it('shadow: a candidate 30% slower than stable on the mirrored traffic fails the judge; no user saw it', async () => {
    await withStable('shadow-slow');
    const handle = await start(shadowJudged('shadow-slow', 'v2', { 'sim.slipway.dev/latency-ms': '65' }));
    const result = await handle.result();
    assert.equal(result.outcome.result, 'RolledBack');
    assert.equal(result.outcome.failureType, 'GateFailed');
    const deciding = result.outcome.decidingMeasurement;
    assert.equal(deciding?.gate, 'latency-vs-stable');
    assert.equal(deciding?.verdict, 'fail');
    assert.match(deciding?.reason ?? '', /median/i);
    const status = await handle.query(statusQuery);
    assert.ok(!status.timeline.some((t) => t.stage === 'canary'), 'no live traffic ever moved');
    assert.deepEqual(await clusterState(ns, ns.name, 'shadow-slow'), {
      stableVersion: 'v1',
      stableImage: 'registry.example.com/triton:v1',
      candidateExists: false,
      weights: allStable,
      mirror: false,
    });
  });

  it('shadow: a candidate disagreeing with stable on 20% of mirrored predictions fails the disagreement gate', async () => {
    await withStable('shadow-disagree');
    const handle = await start(
      shadowJudged('shadow-disagree', 'v2', { 'sim.slipway.dev/disagreement': '0.2' }),
    );
    const result = await handle.result();
    assert.equal(result.outcome.result, 'RolledBack');
    const deciding = result.outcome.decidingMeasurement;
    assert.equal(deciding?.gate, 'disagreement');
    assert.ok(deciding?.value !== undefined && deciding.value > 0.05, `value ${deciding?.value}`);
    assert.deepEqual(deciding?.threshold, { max: 0.05 });
  });

  it('too little data → inconclusive → paused; a human’s approval resumes it and it is promoted', async () => {
    await withStable('sparse');
    const base = releaseSpec({
      namespace: ns.name,
      model: 'sparse',
      version: 'v2',
      steps: [{ weight: 50, hold: '8s' }],
    });
    const spec: ReleaseSpecInput = {
      ...base,
      canary: { steps: [{ weight: 50, hold: '8s' }], gates: ['latency-vs-stable'] },
      gates: [
        {
          name: 'latency-vs-stable',
          judge: {
            test: 'mann-whitney',
            candidate: meanLatency('{{version}}', false),
            baseline: meanLatency('{{stableVersion}}', false),
            worseIf: 'higher',
            tolerance: 0.1,
            minSamples: 8,
            range: { duration: '20s', step: '1s' },
          },
          interval: '3s',
        },
      ],
    };
    const handle = await start(spec);
    const paused = await waitForStatus(handle, (s) => s.phase === 'Paused', 'paused on too little data');
    assert.equal(paused.gates['latency-vs-stable']?.status, 'inconclusive');
    assert.match(paused.waitingFor?.what ?? '', /inconclusive: .*samples/);
    assert.deepEqual(
      (await clusterState(ns, ns.name, 'sparse')).weights,
      { stable: 50, canary: 50 },
      'paused at its step',
    );
    await new Promise((resolve) => setTimeout(resolve, 10_000)); // the candidate serves on, samples accumulate
    await handle.executeUpdate(approveUpdate, { args: [{ actor: 'dana', comment: 'low traffic hour' }] });
    const result = await handle.result();
    assert.equal(result.outcome.result, 'Promoted', result.outcome.reason);
    assert.deepEqual(
      result.approvals.map((a) => [a.decision, a.actor]),
      [['approved', 'dana']],
    );
    const status = await handle.query(statusQuery);
    assert.equal(status.gates['latency-vs-stable']?.last?.verdict, 'pass');
  });

  it('no data is not evidence: a gate whose metric nobody exports (onNoData: pass) pauses the hold; reject rolls back', async () => {
    await withStable('unscraped');
    const base = releaseSpec({
      namespace: ns.name,
      model: 'unscraped',
      version: 'v2',
      steps: [{ weight: 50, hold: '2s' }],
    });
    const spec: ReleaseSpecInput = {
      ...base,
      canary: { steps: [{ weight: 50, hold: '2s' }], gates: ['missing-metric'] },
      gates: [
        {
          name: 'missing-metric',
          prometheus: { query: 'sum(rate(model_no_such_metric_total{model="{{model}}"}[5s]))' },
          pass: { max: 1 },
          interval: '1s',
          onNoData: 'pass',
        },
      ],
    };
    const handle = await start(spec);
    const paused = await waitForStatus(
      handle,
      (s) => s.pauseReasons.some((r) => r.reason === 'inconclusive-gate'),
      'paused on no data',
      60_000,
    );
    assert.match(
      paused.waitingFor?.what ?? '',
      /gate missing-metric has had no data in \d+ measurements in a row/,
    );
    const measured = paused.measurements.filter((m) => m.gate === 'missing-metric');
    assert.ok(measured.length >= 5, `measured ${measured.length}`);
    assert.ok(measured.every((m) => m.noData === true && m.verdict === 'pass' && m.value === undefined));
    assert.deepEqual((await clusterState(ns, ns.name, 'unscraped')).weights, { stable: 50, canary: 50 });
    await handle.executeUpdate(rejectUpdate, { args: [{ actor: 'erin', comment: 'metric not scraped' }] });
    const result = await handle.result();
    assert.equal(result.outcome.result, 'RolledBack', result.outcome.reason);
    assert.equal(result.outcome.failureType, 'ApprovalRejected');
    const state = await clusterState(ns, ns.name, 'unscraped');
    assert.equal(state.stableVersion, 'v1');
    assert.equal(state.candidateExists, false);
    assert.deepEqual(state.weights, allStable);
  });

  it('an evaluator that is down is an error after retries — never a pass; past consecutiveErrorLimit the release waits for a human', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/score`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const base = releaseSpec({ namespace: ns.name, model: 'no-evaluator', version: 'v1' });
    const handle = await start({
      ...base,
      build: { gates: ['accuracy'] },
      gates: [
        ...(base.gates ?? []),
        {
          name: 'accuracy',
          http: { url: deadUrl, value: '$.accuracy', timeout: '2s' },
          pass: { min: 0.9 },
          interval: '2s',
          consecutiveErrorLimit: 1,
        },
      ],
    });
    const paused = await waitForStatus(
      handle,
      (s) => s.phase === 'Paused',
      'paused on the unreachable evaluator',
    );
    const last = paused.gates.accuracy?.last;
    assert.equal(last?.verdict, 'error');
    assert.match(last?.reason ?? '', /could not measure/);
    assert.equal(paused.gates.accuracy?.consecutiveErrors, 2, 'one error tolerated, the second pauses');
    assert.deepEqual(
      paused.pauseReasons.map((r) => r.reason),
      ['inconclusive-gate'],
    );
    assert.equal(paused.stage, 'build');
    await handle.executeUpdate(abortUpdate, { args: [{ actor: 'erin', comment: 'evaluator outage' }] });
    const result = await handle.result();
    assert.equal(result.outcome.result, 'RolledBack');
    assert.equal(result.outcome.failureType, 'ReleaseAborted');
    assert.equal(
      (await clusterState(ns, ns.name, 'no-evaluator')).stableVersion,
      undefined,
      'nothing was deployed',
    );
  });
});
