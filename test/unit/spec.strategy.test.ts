// strategy: canary (default), rolling, recreate, blueGreen — their settings and the combinations
// refused at submission, each at its zod path; and the expected downtime of a recreate.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectedDowntime, ReleaseSpec, type ReleaseSpecInput } from '../../workflows/spec/index.ts';
import { releaseDemand } from '../../activities/kubernetes/release-demand.ts';
import { issuePaths, messages, minimal } from './spec-fixtures.ts';

const gates: ReleaseSpecInput['gates'] = [
  { name: 'error-rate', prometheus: { query: 'errors' }, pass: { max: 0.01 } },
  {
    name: 'latency-vs-stable',
    judge: {
      test: 'mann-whitney',
      candidate: 'lat{version="{{version}}"}',
      baseline: 'lat',
      worseIf: 'higher',
    },
  },
];
const accepted = (spec: ReleaseSpecInput) =>
  assert.ok(ReleaseSpec.safeParse(spec).success, JSON.stringify(spec));
const withStrategy = (strategy: unknown, more: Partial<ReleaseSpecInput> = {}) =>
  ({ ...minimal, gates, strategy, ...more }) as ReleaseSpecInput;

describe('strategy', () => {
  it('defaults to canary, and an older spec without it parses as before', () => {
    assert.deepEqual(ReleaseSpec.parse(minimal).strategy, { type: 'canary' });
  });

  it('parses rolling and recreate with gates and a hold', () => {
    const rolling = ReleaseSpec.parse(withStrategy({ type: 'rolling', gates: ['error-rate'], hold: '5m' }));
    assert.deepEqual(rolling.strategy, {
      type: 'rolling',
      gates: ['error-rate'],
      hold: { text: '5m', ms: 300_000 },
    });
    assert.equal(ReleaseSpec.parse(withStrategy({ type: 'recreate' })).strategy.type, 'recreate');
  });

  it('fills blue-green defaults: the preview header, a 30s scaleDownDelay', () => {
    const spec = ReleaseSpec.parse(withStrategy({ type: 'blueGreen' }));
    assert.deepEqual(spec.strategy, {
      type: 'blueGreen',
      preview: { headers: [{ name: 'x-slipway-preview', value: 'true' }] },
      scaleDownDelay: { text: '30s', ms: 30_000 },
    });
    // A parsed spec parses to itself.
    assert.deepEqual(ReleaseSpec.parse(spec), spec);
  });

  it('refuses an unknown type with a sentence, at strategy.type', () => {
    assert.deepEqual(issuePaths(withStrategy({ type: 'bigBang' })), [['strategy', 'type']]);
    assert.match(messages(withStrategy({ type: 'bigBang' }))[0]!, /canary, rolling, recreate or blueGreen/);
    assert.deepEqual(issuePaths(withStrategy({ type: 'rolling', maxSurge: 1 })), [['strategy']]);
  });

  it('refuses canary steps and shadow where the strategy has no candidate', () => {
    const canary = { steps: [{ weight: 10 }] };
    assert.deepEqual(issuePaths(withStrategy({ type: 'rolling' }, { canary })), [['canary']]);
    assert.deepEqual(issuePaths(withStrategy({ type: 'blueGreen' }, { canary })), [['canary']]);
    assert.deepEqual(issuePaths(withStrategy({ type: 'recreate' }, { shadow: { duration: '5m' } })), [
      ['shadow'],
    ]);
    // Blue-green's candidate can be shadowed before its preview.
    accepted(withStrategy({ type: 'blueGreen' }, { shadow: { duration: '5m' } }));
  });

  it('refuses recreate of an adopted Deployment (its update strategy is its manager’s)', () => {
    const spec = withStrategy(
      { type: 'recreate' },
      { serving: { image: 'x:1', deploymentRef: 'chart-fraud' } },
    );
    assert.deepEqual(issuePaths(spec), [['strategy', 'type']]);
    assert.match(messages(spec)[0]!, /set strategy.type Recreate in its chart/);
    accepted(withStrategy({ type: 'rolling' }, { serving: { image: 'x:1', deploymentRef: 'chart-fraud' } }));
  });

  it('refuses blue-green with a router that cannot route a preview or switch at once', () => {
    const spec = withStrategy({ type: 'blueGreen' }, { traffic: { router: 'replica-ratio' } });
    assert.deepEqual(issuePaths(spec), [
      ['strategy', 'type'],
      ['strategy', 'type'],
    ]);
    assert.match(messages(spec).join(' '), /cannot route the preview by request header/);
    accepted(withStrategy({ type: 'rolling' }, { traffic: { router: 'replica-ratio' } }));
  });

  it('checks the strategy’s gates like a stage’s: defined, listed once, no judge where one version serves', () => {
    assert.deepEqual(issuePaths(withStrategy({ type: 'rolling', gates: ['nope'] })), [
      ['strategy', 'gates', 0],
    ]);
    assert.deepEqual(issuePaths(withStrategy({ type: 'recreate', gates: ['error-rate', 'error-rate'] })), [
      ['strategy', 'gates', 1],
    ]);
    assert.match(
      messages(withStrategy({ type: 'rolling', gates: ['latency-vs-stable'] }))[0]!,
      /only one version to measure/,
    );
    // The preview has both versions: a judge may compare them there, not after the switch.
    accepted(withStrategy({ type: 'blueGreen', preview: { gates: ['latency-vs-stable'] } }));
    assert.deepEqual(
      issuePaths(withStrategy({ type: 'blueGreen', afterSwitch: { gates: ['latency-vs-stable'] } })),
      [['strategy', 'afterSwitch', 'gates', 0]],
    );
  });

  it('refuses absurd values of the right type', () => {
    assert.deepEqual(issuePaths(withStrategy({ type: 'blueGreen', scaleDownDelay: '8d' })), [
      ['strategy', 'scaleDownDelay'],
    ]);
    assert.deepEqual(issuePaths(withStrategy({ type: 'blueGreen', scaleDownDelay: '0s' })), [
      ['strategy', 'scaleDownDelay'],
    ]);
    assert.deepEqual(issuePaths(withStrategy({ type: 'rolling', hold: '400d' })), [['strategy', 'hold']]);
    assert.deepEqual(
      issuePaths(withStrategy({ type: 'blueGreen', preview: { headers: [{ name: 'x bad', value: '1' }] } })),
      [['strategy', 'preview', 'headers', 0, 'name']],
    );
    assert.deepEqual(issuePaths(withStrategy({ type: 'blueGreen', preview: { headers: [] } })), [
      ['strategy', 'preview', 'headers'],
    ]);
    assert.deepEqual(issuePaths(withStrategy({ type: 'blueGreen', afterSwitch: { gates: [] } })), [
      ['strategy', 'afterSwitch', 'gates'],
    ]);
  });
});

describe('strategy: what it costs', () => {
  const parse = (strategy: unknown, serving: Partial<ReleaseSpecInput['serving']> = {}) =>
    ReleaseSpec.parse(withStrategy(strategy, { serving: { image: 'x:1', replicas: 4, ...serving } }));

  it('capacity at its peak: rolling adds its surge, recreate nothing, blue-green a full candidate and a surge', () => {
    assert.deepEqual(releaseDemand(parse({ type: 'rolling' }), 'release'), [
      { what: 'rolling update surge', pods: 1 },
    ]);
    assert.deepEqual(releaseDemand(parse({ type: 'recreate' }), 'release'), []);
    assert.deepEqual(releaseDemand(parse({ type: 'blueGreen' }), 'release'), [
      { what: 'candidate (full size for the handoff)', pods: 4 },
      { what: 'promotion surge', pods: 1 },
    ]);
    assert.deepEqual(releaseDemand(parse({ type: 'canary' }), 'release'), [
      { what: 'candidate', pods: 4 },
      { what: 'promotion surge', pods: 1 },
    ]);
  });

  it('the downtime a recreate expects: grace period, startup budget, first readiness, minReadySeconds', () => {
    assert.equal(expectedDowntime(parse({ type: 'recreate' })).seconds, 30);
    const vllm = parse(
      { type: 'recreate' },
      {
        minReadySeconds: 5,
        probes: {
          startup: {
            httpGet: { path: '/health' },
            initialDelaySeconds: 10,
            periodSeconds: 10,
            failureThreshold: 60,
          },
          readiness: { httpGet: { path: '/health' }, periodSeconds: 5 },
        },
        template: { spec: { terminationGracePeriodSeconds: 120, containers: [{ name: 'model-server' }] } },
      },
    );
    const downtime = expectedDowntime(vllm);
    assert.equal(downtime.seconds, 120 + 10 + 600 + 5 + 5);
    assert.match(
      downtime.because,
      /terminationGracePeriodSeconds 120.*startup probe up to 610s.*readiness \(5s\).*minReadySeconds 5/,
    );
  });
});
