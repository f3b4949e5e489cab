// The release spec schema: good specs parse to complete specs with the documented defaults; bad
// specs fail with precise zod issue paths.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../../workflows/duration.ts';
import {
  canaryHoldMs,
  canaryWeights,
  finalCanaryWeight,
  formatIssuePath,
  gateProvider,
  gatesFor,
  isFirstWeightStep,
  plannedStages,
  quantityValue,
  ReleaseSpec,
  routeName,
  weightBefore,
} from '../../workflows/spec/index.ts';
import { full, issuePaths, messages, minimal, push, remove, set } from './spec-fixtures.ts';

function example(name: string): unknown {
  return parseYaml(readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8'));
}

describe('ReleaseSpec: good specs', () => {
  it('parses examples/fraud-detector.yaml (the DESIGN §4 spec) with the documented defaults', () => {
    const spec = ReleaseSpec.parse(example('fraud-detector.yaml'));
    assert.equal(spec.model, 'fraud-detector');
    assert.equal(spec.version, 'v42');
    assert.deepEqual(spec.serving.resources?.requests, { cpu: '2', memory: '8Gi', 'nvidia.com/gpu': '1' });
    assert.deepEqual(spec.serving.rollingUpdate, { maxSurge: '25%', maxUnavailable: 0 });
    assert.deepEqual(spec.serving.probes?.readiness, {
      httpGet: { path: '/v2/health/ready', port: 8000 },
      periodSeconds: 5,
    });
    assert.deepEqual(spec.traffic, { router: 'gateway-api', route: 'fraud-detector' });
    assert.deepEqual(spec.build?.job?.timeout, { text: '30m', ms: 1_800_000 });
    assert.deepEqual(spec.shadow, {
      duration: { text: '10m', ms: 600_000 },
      mirrorPercent: 100,
      gates: ['error-rate', 'latency-vs-stable', 'disagreement'],
    });
    assert.deepEqual(spec.canary?.steps, [
      { weight: 5, hold: { text: '5m', ms: 300_000 } },
      { weight: 25, hold: { text: '10m', ms: 600_000 } },
      { approval: { timeout: { text: '24h', ms: 86_400_000 }, onTimeout: 'reject' } },
      { weight: 50, hold: { text: '10m', ms: 600_000 } },
    ]);
    assert.deepEqual(spec.promote?.approval, {
      required: true,
      timeout: { text: '72h', ms: 259_200_000 },
      onTimeout: 'reject',
    });
    assert.equal(spec.promote?.mode, 'rolling');
    assert.deepEqual(spec.promote?.windows, [
      { days: ['Mon', 'Tue', 'Wed', 'Thu'], from: '09:00', to: '16:00', timezone: 'Europe/Berlin' },
    ]);
    assert.deepEqual(spec.promote?.freezes, [
      { from: '2026-12-20T00:00:00Z', to: '2027-01-04T00:00:00Z', reason: 'year-end freeze' },
    ]);

    const [errorRate, judge, , accuracy] = spec.gates;
    assert.deepEqual(
      { ...errorRate, prometheus: undefined },
      {
        name: 'error-rate',
        prometheus: undefined,
        interval: { text: '30s', ms: 30_000 },
        pass: { max: 0.01 },
        failureLimit: 1,
        consecutiveSuccesses: 1,
        consecutiveErrorLimit: 3,
        onNoData: 'inconclusive',
      },
    );
    assert.ok(judge && 'judge' in judge);
    assert.deepEqual(
      { ...judge.judge, candidate: '', baseline: '' },
      {
        test: 'mann-whitney',
        candidate: '',
        baseline: '',
        worseIf: 'higher',
        confidence: 0.98,
        tolerance: 0.25,
        minSamples: 10,
        range: { duration: { text: '5m', ms: 300_000 }, step: { text: '15s', ms: 15_000 } },
      },
    );
    assert.ok(accuracy && 'http' in accuracy);
    assert.deepEqual(accuracy.http, {
      url: 'http://evaluator/score?model={{model}}&version={{version}}',
      method: 'GET',
      value: '$.accuracy',
      headers: { Authorization: { secretRef: { name: 'evaluator-token', key: 'header' } } },
      timeout: { text: '10s', ms: 10_000 },
    });
    assert.deepEqual(accuracy.pass, { min: 0.9 });
    assert.deepEqual(accuracy.regression, { better: 'higher', tolerance: 0.005 });
    assert.deepEqual(gatesFor(spec, 'canary').map(gateProvider), ['prometheus', 'judge']);
    assert.deepEqual(
      gatesFor(spec, 'build').map((g) => g.name),
      ['accuracy'],
    );
  });

  it('fills every default of examples/minimal.yaml', () => {
    assert.deepEqual(ReleaseSpec.parse(example('minimal.yaml')), {
      model: 'sentiment',
      namespace: 'ml-serving',
      version: 'v7',
      serving: {
        image: 'registry.example.com/sentiment-server:7',
        port: 8000,
        rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 },
        progressDeadlineSeconds: 600,
        onDrift: 'refuse',
      },
      traffic: { router: 'gateway-api', route: 'sentiment' },
      strategy: { type: 'canary' },
      gates: [],
    });
  });

  it('parses its own output to the same spec (the API may store parsed specs and the workflow parses again)', () => {
    for (const input of [full(), minimal, example('fraud-detector.yaml')]) {
      const once = ReleaseSpec.parse(input);
      assert.deepEqual(ReleaseSpec.parse(once), once);
    }
  });

  it('turns YAML numbers into quantity strings and accepts every quantity form', () => {
    const spec = ReleaseSpec.parse({
      ...minimal,
      serving: {
        image: 'i',
        resources: {
          requests: { cpu: 0.5, memory: '1.5Gi', 'ephemeral-storage': '1e9', 'hugepages-2Mi': '4Mi' },
          limits: { cpu: 2 },
        },
      },
    });
    assert.deepEqual(spec.serving.resources, {
      requests: { cpu: '0.5', memory: '1.5Gi', 'ephemeral-storage': '1e9', 'hugepages-2Mi': '4Mi' },
      limits: { cpu: '2' },
    });
    assert.equal(quantityValue('500m'), 0.5);
    assert.equal(quantityValue('8Gi'), 8 * 2 ** 30);
    assert.equal(quantityValue('1e3'), 1000);
    assert.equal(quantityValue('2k'), 2000);
  });

  it('keeps a replica-ratio router without a route, and explicit routes and parentRefs', () => {
    assert.deepEqual(ReleaseSpec.parse({ ...minimal, traffic: { router: 'replica-ratio' } }).traffic, {
      router: 'replica-ratio',
    });
    const spec = ReleaseSpec.parse({
      ...minimal,
      traffic: {
        router: 'gateway-api',
        route: 'fd',
        parentRefs: [{ name: 'public', namespace: 'gateways', sectionName: 'https' }],
      },
    });
    assert.deepEqual(spec.traffic, {
      router: 'gateway-api',
      route: 'fd',
      parentRefs: [{ name: 'public', namespace: 'gateways', sectionName: 'https' }],
    });
    assert.equal(routeName(spec), 'fd');
    assert.equal(
      routeName(ReleaseSpec.parse({ ...minimal, traffic: { router: 'replica-ratio' } })),
      undefined,
    );
  });

  it('defaults probe ports to the serving port name and allows a tcpSocket probe', () => {
    const spec = ReleaseSpec.parse({
      ...minimal,
      serving: {
        image: 'i',
        probes: { readiness: { httpGet: { path: '/' } }, startup: { tcpSocket: {}, failureThreshold: 30 } },
      },
    });
    assert.deepEqual(spec.serving.probes, {
      readiness: { httpGet: { path: '/', port: 'http' } },
      startup: { tcpSocket: { port: 'http' }, failureThreshold: 30 },
    });
  });

  it('parses every gate provider and the three kinds of header value', () => {
    const spec = ReleaseSpec.parse({
      ...minimal,
      gates: [
        {
          name: 'p',
          prometheus: { query: 'q', range: { duration: '5m', step: '30s' } },
          pass: { min: 0, max: 1 },
          onNoData: 'fail',
          consecutiveSuccesses: 3,
        },
        {
          name: 'h',
          http: {
            url: 'https://evaluator.example.com/v1/score',
            method: 'POST',
            body: '{"model":"{{model}}"}',
            value: "$.scores[0]['f1-score']",
            headers: {
              Authorization: { secretRef: { name: 'evaluator-token', key: 'token' } },
              'X-Team': 'risk',
              'X-Key': { env: 'EVALUATOR_KEY' },
            },
          },
          pass: { min: 0.9 },
        },
        { name: 'j', job: { image: 'checker:1', args: ['--strict'] }, pass: { max: 0 }, interval: '1m' },
        {
          name: 'k',
          judge: {
            test: 'mann-whitney',
            candidate: 'c',
            baseline: 'b',
            worseIf: 'lower',
            confidence: 0.9999,
            tolerance: 0,
            minSamples: 3,
          },
        },
      ],
    });
    assert.deepEqual(spec.gates.map(gateProvider), ['prometheus', 'http', 'job', 'judge']);
    const [p, h, j] = spec.gates;
    assert.ok(p && 'prometheus' in p && h && 'http' in h && j && 'job' in j);
    assert.deepEqual(p.prometheus.range, {
      duration: { text: '5m', ms: 300_000 },
      step: { text: '30s', ms: 30_000 },
      aggregate: 'mean',
    });
    assert.deepEqual(h.http.headers, {
      Authorization: { secretRef: { name: 'evaluator-token', key: 'token' } },
      'X-Team': 'risk',
      'X-Key': { env: 'EVALUATOR_KEY' },
    });
    assert.deepEqual(h.http.timeout, { text: '10s', ms: 10_000 });
    assert.deepEqual(j.job, {
      image: 'checker:1',
      args: ['--strict'],
      timeout: { text: '10m', ms: 600_000 },
    });
  });

  it('accepts a one-step canary at 100% (blue/green), pause steps, handoff promotion and whole-day windows', () => {
    const spec = ReleaseSpec.parse({
      ...minimal,
      canary: { steps: [{ pause: {} }, { weight: 100 }, { pause: { duration: '1h' } }] },
      promote: {
        mode: 'handoff',
        windows: [
          { from: '00:00', to: '24:00' },
          { days: ['Sat'], from: '06:00', to: '06:00', timezone: 'UTC' },
        ],
      },
    });
    assert.equal(spec.promote?.mode, 'handoff');
    assert.deepEqual(spec.promote?.windows?.[0], {
      days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
      from: '00:00',
      to: '24:00',
      timezone: 'UTC',
    });
    assert.equal(finalCanaryWeight(spec), 100);
    assert.equal(canaryHoldMs(spec), 3_600_000);
  });
});

describe('ReleaseSpec: bad specs fail at exact paths', () => {
  const cases: Array<[string, unknown, PropertyKey[][]]> = [
    ['an upper-case model', { ...minimal, model: 'Fraud' }, [['model']]],
    ['a 57-character model', { ...minimal, model: 'm'.repeat(57) }, [['model']]],
    ['a namespace with _', { ...minimal, namespace: 'ml_serving' }, [['namespace']]],
    ['a version starting with -', { ...minimal, version: '-v1' }, [['version']]],
    ['an empty version', { ...minimal, version: '' }, [['version']]],
    ['a 64-character version', { ...minimal, version: 'v'.repeat(64) }, [['version']]],
    ['an unknown top-level field', { ...minimal, replica: 3 }, [[]]],
    [
      'an unknown serving field',
      { ...minimal, serving: { image: 'i', imagePullPolicy: 'Always' } },
      [['serving']],
    ],
    ['no image', { ...minimal, serving: {} }, [['serving', 'image']]],
    ['port 0', { ...minimal, serving: { image: 'i', port: 0 } }, [['serving', 'port']]],
    ['port 65536', { ...minimal, serving: { image: 'i', port: 65536 } }, [['serving', 'port']]],
    [
      'fractional replicas',
      { ...minimal, serving: { image: 'i', replicas: 1.5 } },
      [['serving', 'replicas']],
    ],
    ['negative replicas', { ...minimal, serving: { image: 'i', replicas: -1 } }, [['serving', 'replicas']]],
    [
      'a bad quantity',
      set(['serving', 'resources', 'requests', 'cpu'], '2 cores'),
      [['serving', 'resources', 'requests', 'cpu']],
    ],
    [
      'a negative quantity',
      set(['serving', 'resources', 'requests', 'cpu'], -1),
      [['serving', 'resources', 'requests', 'cpu']],
    ],
    [
      'an unqualified resource name',
      set(['serving', 'resources', 'requests', 'gpu'], '1'),
      [['serving', 'resources', 'requests', 'gpu']],
    ],
    [
      'a limit below its request',
      set(['serving', 'resources', 'limits', 'memory'], '4Gi'),
      [['serving', 'resources', 'limits', 'memory']],
    ],
    [
      'half a GPU',
      set(['serving', 'resources', 'requests', 'nvidia.com/gpu'], '500m'),
      [['serving', 'resources', 'requests', 'nvidia.com/gpu']],
    ],
    [
      'a GPU limit above its request',
      set(['serving', 'resources', 'limits', 'nvidia.com/gpu'], '2'),
      [['serving', 'resources', 'limits', 'nvidia.com/gpu']],
    ],
    [
      'a probe with httpGet and tcpSocket',
      set(['serving', 'probes', 'readiness', 'tcpSocket'], {}),
      [['serving', 'probes', 'readiness']],
    ],
    [
      'a probe with neither',
      set(['serving', 'probes', 'readiness'], { periodSeconds: 5 }),
      [['serving', 'probes', 'readiness']],
    ],
    [
      'a relative probe path',
      set(['serving', 'probes', 'readiness', 'httpGet', 'path'], 'ready'),
      [['serving', 'probes', 'readiness', 'httpGet', 'path']],
    ],
    [
      'a bad probe port name',
      set(['serving', 'probes', 'readiness', 'httpGet', 'port'], 'HTTP_PORT'),
      [['serving', 'probes', 'readiness', 'httpGet', 'port']],
    ],
    [
      'a liveness successThreshold of 2',
      set(['serving', 'probes', 'liveness', 'successThreshold'], 2),
      [['serving', 'probes', 'liveness', 'successThreshold']],
    ],
    [
      'maxSurge 150%',
      set(['serving', 'rollingUpdate'], { maxSurge: '150%' }),
      [['serving', 'rollingUpdate', 'maxSurge']],
    ],
    [
      'maxSurge and maxUnavailable both 0',
      set(['serving', 'rollingUpdate'], { maxSurge: '0%', maxUnavailable: 0 }),
      [['serving', 'rollingUpdate', 'maxSurge']],
    ],
    [
      'a reserved pod label',
      set(['serving', 'labels', 'slipway.dev/track'], 'canary'),
      [['serving', 'labels', 'slipway.dev/track']],
    ],
    ['a bad label value', set(['serving', 'labels', 'team'], 'risk team'), [['serving', 'labels', 'team']]],
    [
      'a bad annotation key',
      set(['serving', 'annotations', '-bad'], 'x'),
      [['serving', 'annotations', '-bad']],
    ],
    [
      'an env variable set twice',
      push(['serving', 'env'], { name: 'LOG_LEVEL', value: 'debug' }),
      [['serving', 'env', 1, 'name']],
    ],
    ['an unknown router', { ...minimal, traffic: { router: 'linkerd' } }, [['traffic', 'router']]],
    [
      'a bad route name',
      { ...minimal, traffic: { router: 'gateway-api', route: 'Fraud_Route' } },
      [['traffic', 'route']],
    ],
    [
      'a route with replica-ratio',
      { ...minimal, traffic: { router: 'replica-ratio', route: 'x' } },
      [['traffic']],
    ],
    [
      'a parentRef without a name',
      { ...minimal, traffic: { router: 'gateway-api', parentRefs: [{ namespace: 'gw' }] } },
      [['traffic', 'parentRefs', 0, 'name']],
    ],
    ['shadow with replica-ratio', set(['traffic'], { router: 'replica-ratio' }), [['shadow']]],
    ['a shadow duration in words', set(['shadow', 'duration'], '10 minutes'), [['shadow', 'duration']]],
    ['a zero shadow duration', set(['shadow', 'duration'], '0s'), [['shadow', 'duration']]],
    ['mirrorPercent 0', set(['shadow', 'mirrorPercent'], 0), [['shadow', 'mirrorPercent']]],
    ['a build job without image', set(['build', 'job'], { args: ['x'] }), [['build', 'job', 'image']]],
    ['no canary steps', set(['canary', 'steps'], []), [['canary', 'steps']]],
    ['weights going down', set(['canary', 'steps', 3, 'weight'], 20), [['canary', 'steps', 3, 'weight']]],
    ['a repeated weight', set(['canary', 'steps', 1, 'weight'], 5), [['canary', 'steps', 1, 'weight']]],
    ['weight 0', set(['canary', 'steps', 0, 'weight'], 0), [['canary', 'steps', 0, 'weight']]],
    ['weight 101', set(['canary', 'steps', 3, 'weight'], 101), [['canary', 'steps', 3, 'weight']]],
    ['a fractional weight', set(['canary', 'steps', 0, 'weight'], 2.5), [['canary', 'steps', 0, 'weight']]],
    ['a bad hold', set(['canary', 'steps', 1, 'hold'], 'soon'), [['canary', 'steps', 1, 'hold']]],
    [
      'a step with weight and approval',
      set(['canary', 'steps', 1, 'approval'], {}),
      [['canary', 'steps', 1]],
    ],
    ['a step that is a string', set(['canary', 'steps', 1], 'wait'), [['canary', 'steps', 1]]],
    ['an unknown step field', set(['canary', 'steps', 0, 'duration'], '5m'), [['canary', 'steps', 0]]],
    [
      'a bad onTimeout',
      set(['canary', 'steps', 2, 'approval', 'onTimeout'], 'maybe'),
      [['canary', 'steps', 2, 'approval', 'onTimeout']],
    ],
    ['an undefined gate', push(['canary', 'gates'], 'missing'), [['canary', 'gates', 2]]],
    ['a gate listed twice', push(['shadow', 'gates'], 'error-rate'), [['shadow', 'gates', 1]]],
    ['a judge in build', push(['build', 'gates'], 'latency'), [['build', 'gates', 1]]],
    [
      'a gate defined twice',
      push(['gates'], { name: 'latency', prometheus: { query: 'q' }, pass: { max: 1 } }),
      [['gates', 3, 'name']],
    ],
    ['a gate without provider', set(['gates', 0], { name: 'error-rate', pass: { max: 1 } }), [['gates', 0]]],
    ['a gate with two providers', set(['gates', 0, 'http'], { url: 'http://x', value: '$' }), [['gates', 0]]],
    ['a prometheus gate without pass', remove(['gates', 0, 'pass']), [['gates', 0, 'pass']]],
    ['an empty pass range', set(['gates', 0, 'pass'], {}), [['gates', 0, 'pass']]],
    ['min above max', set(['gates', 0, 'pass'], { min: 2, max: 1 }), [['gates', 0, 'pass', 'max']]],
    ['a judge with pass', set(['gates', 1, 'pass'], { max: 1 }), [['gates', 1, 'pass']]],
    [
      'a judge confidence of 0.3',
      set(['gates', 1, 'judge', 'confidence'], 0.3),
      [['gates', 1, 'judge', 'confidence']],
    ],
    [
      'a judge confidence of 1',
      set(['gates', 1, 'judge', 'confidence'], 1),
      [['gates', 1, 'judge', 'confidence']],
    ],
    [
      'a negative tolerance',
      set(['gates', 1, 'judge', 'tolerance'], -0.1),
      [['gates', 1, 'judge', 'tolerance']],
    ],
    ['an unknown judge test', set(['gates', 1, 'judge', 'test'], 't-test'), [['gates', 1, 'judge', 'test']]],
    ['a judge without worseIf', remove(['gates', 1, 'judge', 'worseIf']), [['gates', 1, 'judge', 'worseIf']]],
    [
      'an http value that is not a JSON path',
      set(['gates', 2, 'http', 'value'], 'accuracy'),
      [['gates', 2, 'http', 'value']],
    ],
    [
      'an http url without scheme',
      set(['gates', 2, 'http', 'url'], 'evaluator/score'),
      [['gates', 2, 'http', 'url']],
    ],
    ['a body on GET', set(['gates', 2, 'http', 'body'], '{}'), [['gates', 2, 'http', 'body']]],
    [
      'a bad secretRef name',
      set(['gates', 2, 'http', 'headers'], { Authorization: { secretRef: { name: 'Token', key: 't' } } }),
      [['gates', 2, 'http', 'headers', 'Authorization', 'secretRef', 'name']],
    ],
    [
      'a numeric header value',
      set(['gates', 2, 'http', 'headers'], { 'X-Num': 42 }),
      [['gates', 2, 'http', 'headers', 'X-Num']],
    ],
    [
      'a bad header name',
      set(['gates', 2, 'http', 'headers'], { 'X Team': 'a' }),
      [['gates', 2, 'http', 'headers', 'X Team']],
    ],
    ['a gate name with _', set(['gates', 2, 'name'], 'accuracy_v2'), [['gates', 2, 'name']]],
    ['an http gate with neither pass nor regression', remove(['gates', 2, 'pass']), [['gates', 2, 'pass']]],
    [
      'a regression without direction',
      set(['gates', 2, 'regression'], { tolerance: 0.01 }),
      [['gates', 2, 'regression', 'better']],
    ],
    [
      'a negative regression tolerance',
      set(['gates', 2, 'regression'], { better: 'higher', tolerance: -0.01 }),
      [['gates', 2, 'regression', 'tolerance']],
    ],
    [
      'a regression on a prometheus gate',
      set(['gates', 0, 'regression'], { better: 'higher' }),
      [['gates', 0]],
    ],
    ['a zero interval', set(['gates', 0, 'interval'], '0s'), [['gates', 0, 'interval']]],
    ['a negative failureLimit', set(['gates', 0, 'failureLimit'], -1), [['gates', 0, 'failureLimit']]],
    ['an unknown onNoData', set(['gates', 0, 'onNoData'], 'ignore'), [['gates', 0, 'onNoData']]],
    [
      'a range step longer than its duration',
      set(['gates', 0, 'prometheus', 'range'], { duration: '1m', step: '5m' }),
      [['gates', 0, 'prometheus', 'range', 'step']],
    ],
    ['an unknown promote mode', set(['promote', 'mode'], 'blue-green'), [['promote', 'mode']]],
    [
      'a day written out',
      set(['promote', 'windows', 0, 'days'], ['Monday']),
      [['promote', 'windows', 0, 'days', 0]],
    ],
    ['no days', set(['promote', 'windows', 0, 'days'], []), [['promote', 'windows', 0, 'days']]],
    [
      'a time without leading zero',
      set(['promote', 'windows', 0, 'from'], '9:00'),
      [['promote', 'windows', 0, 'from']],
    ],
    ['24:01', set(['promote', 'windows', 0, 'to'], '24:01'), [['promote', 'windows', 0, 'to']]],
    ['from 24:00', set(['promote', 'windows', 0, 'from'], '24:00'), [['promote', 'windows', 0, 'from']]],
    [
      'a misspelt time zone',
      set(['promote', 'windows', 0, 'timezone'], 'Europe/Berlim'),
      [['promote', 'windows', 0, 'timezone']],
    ],
    [
      'a freeze ending before it starts',
      set(['promote', 'freezes', 0, 'to'], '2026-12-19T00:00:00Z'),
      [['promote', 'freezes', 0, 'to']],
    ],
    [
      'a freeze without zone',
      set(['promote', 'freezes', 0, 'from'], '2026-12-20T00:00:00'),
      [['promote', 'freezes', 0, 'from']],
    ],
    [
      'a bad approval timeout',
      set(['promote', 'approval', 'timeout'], 'forever'),
      [['promote', 'approval', 'timeout']],
    ],
  ];
  for (const [what, input, paths] of cases) {
    it(`rejects ${what} at ${paths.map((p) => formatIssuePath(p) || '(root)').join(', ')}`, () => {
      assert.deepEqual(issuePaths(input), paths);
    });
  }

  it('the base spec of the table is valid (so each case fails for its one change)', () => {
    assert.equal(ReleaseSpec.safeParse(full()).success, true);
  });

  it('says what is wrong in words', () => {
    assert.deepEqual(messages(set(['canary', 'steps', 3, 'weight'], 20)), [
      'weights must increase from step to step: 20 follows 25',
    ]);
    assert.deepEqual(messages({ ...minimal, model: 'm'.repeat(57) }), [
      'must be at most 56 characters (the candidate Deployment is <model>-canary)',
    ]);
    assert.deepEqual(messages(push(['canary', 'gates'], 'missing')), [
      'gate missing is not defined in gates',
    ]);
    assert.deepEqual(messages(set(['gates', 0, 'http'], { url: 'http://x', value: '$' })), [
      'a gate must be given exactly one provider: prometheus, http, job or judge (found prometheus and http)',
    ]);
    assert.deepEqual(messages(set(['serving', 'resources', 'limits', 'memory'], '4Gi')), [
      'the memory limit (4Gi) is below its request (8Gi)',
    ]);
    assert.deepEqual(messages(set(['serving', 'resources', 'requests', 'gpu'], '1')), [
      'must be cpu, memory, ephemeral-storage, hugepages-<size> or a qualified name such as nvidia.com/gpu',
    ]);
    assert.match(messages({ ...minimal, replica: 3 })[0] ?? '', /replica/);
  });
});

describe('spec helpers', () => {
  const spec = ReleaseSpec.parse(full());
  const steps = spec.canary?.steps ?? [];

  it('lists the gates of each stage and the planned stages', () => {
    assert.deepEqual(
      gatesFor(spec, 'shadow').map((g) => g.name),
      ['error-rate'],
    );
    assert.deepEqual(
      gatesFor(spec, 'canary').map((g) => g.name),
      ['error-rate', 'latency'],
    );
    assert.deepEqual(plannedStages(spec), ['build', 'shadow', 'canary', 'promote']);
    assert.deepEqual(plannedStages(ReleaseSpec.parse(minimal)), ['build', 'promote']);
    assert.deepEqual(gatesFor(ReleaseSpec.parse(minimal), 'canary'), []);
  });

  it('answers questions about canary steps', () => {
    assert.deepEqual(canaryWeights(spec), [5, 25, 50]);
    assert.equal(finalCanaryWeight(spec), 50);
    assert.equal(finalCanaryWeight(ReleaseSpec.parse(minimal)), 0);
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => isFirstWeightStep(steps, i)),
      [true, false, false, false],
    );
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((i) => weightBefore(steps, i)),
      [0, 5, 25, 25, 50],
    );
    const afterApproval =
      ReleaseSpec.parse({ ...minimal, canary: { steps: [{ approval: {} }, { weight: 10 }] } }).canary
        ?.steps ?? [];
    assert.deepEqual(
      [0, 1].map((i) => isFirstWeightStep(afterApproval, i)),
      [false, true],
    );
    assert.equal(canaryHoldMs(spec), 25 * 60_000);
  });

  it('formats issue paths the way users write them', () => {
    assert.equal(formatIssuePath(['canary', 'steps', 2, 'weight']), 'canary.steps[2].weight');
    assert.equal(
      formatIssuePath(['serving', 'resources', 'requests', 'nvidia.com/gpu']),
      'serving.resources.requests["nvidia.com/gpu"]',
    );
    assert.equal(formatIssuePath([]), '');
  });
});

describe('durations', () => {
  it('parses compound durations and rejects the rest', () => {
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('2d'), 172_800_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('0s'), 0);
    for (const bad of ['', '10', '1.5h', '10 m', '-5m', '5M', '99999999999999999999d'])
      assert.equal(parseDuration(bad), undefined, bad);
  });

  it('parse once into { text, ms }: the text as written, its milliseconds beside it', () => {
    const spec = ReleaseSpec.parse({ ...full(), shadow: { duration: '90m' } });
    assert.deepEqual(spec.shadow?.duration, { text: '90m', ms: 5_400_000 });
    assert.deepEqual(spec.gates[0]?.interval, { text: '30s', ms: 30_000 });
  });

  it('keep a parsed spec plain JSON that parses again to itself (Temporal carries it as JSON)', () => {
    const spec = ReleaseSpec.parse(full());
    const carried: unknown = JSON.parse(JSON.stringify(spec));
    assert.deepEqual(carried, spec);
    assert.deepEqual(ReleaseSpec.parse(carried), spec);
  });

  it('accept the parsed form only when ms is the text’s value and the text is within bounds', () => {
    const hold = (value: unknown) => set(['canary', 'steps', 0, 'hold'], value);
    assert.deepEqual(ReleaseSpec.parse(hold({ text: '5m', ms: 300_000 })).canary?.steps[0], {
      weight: 5,
      hold: { text: '5m', ms: 300_000 },
    });
    assert.deepEqual(issuePaths(hold({ text: '5m', ms: 1 })), [['canary', 'steps', 0, 'hold', 'ms']]);
    assert.deepEqual(messages(hold({ text: '5m', ms: 1 })), ['must be the milliseconds of "5m" (300000)']);
    assert.deepEqual(messages(hold({ text: '367d', ms: 367 * 86_400_000 })), ['must be at most 366d']);
    assert.deepEqual(messages(set(['shadow', 'duration'], { text: '0s', ms: 0 })), ['must be at least 1s']);
    for (const forged of [
      { text: '5m', ms: 300_000, extra: 1 },
      { text: '5m' },
      { ms: 300_000 },
      { text: 5, ms: 5 },
      { text: 'soon', ms: 1 },
      300_000,
    ])
      assert.deepEqual(issuePaths(hold(forged)), [['canary', 'steps', 0, 'hold']], JSON.stringify(forged));
  });

  it('document only the string form (the OpenAPI body schema is unchanged)', () => {
    const input = z.toJSONSchema(ReleaseSpec, { io: 'input', unrepresentable: 'any' });
    const text = JSON.stringify(input);
    assert.doesNotMatch(text, /"ms"/);
    assert.match(text, /"interval":\{"default":"30s","type":"string"\}/);
  });
});

describe('model-quality gates', () => {
  it('accept regression alone, with a default tolerance of 0', () => {
    const spec = ReleaseSpec.parse({
      ...minimal,
      build: { gates: ['accuracy'] },
      gates: [{ name: 'accuracy', job: { image: 'eval:1' }, regression: { better: 'higher' } }],
    });
    const gate = spec.gates[0];
    assert.ok(gate && 'job' in gate);
    assert.deepEqual(gate.regression, { better: 'higher', tolerance: 0 });
    assert.equal(gate.pass, undefined);
  });
});
