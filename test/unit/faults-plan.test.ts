// The apiserver fault proxy's pure parts: the seeded plan and its decisions, the checked inputs
// (plan JSON with zod's path on a bad field, the listen address), the event log that pairs each
// fault with what the client did next, its per-kind summary, and SLIPWAY_FAULTS in the stack's
// configuration (off by default: no component, no env change).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseListen, parsePlanJson } from '../../infra/local/faults/inputs.ts';
import {
  FaultLog,
  namespaceOf,
  readKeysOf,
  watchKey,
  type SeenRequest,
} from '../../infra/local/faults/log.ts';
import { FaultDecider, FaultPlan } from '../../infra/local/faults/plan.ts';
import { summarizeFaults } from '../../infra/local/faults/summary.ts';
import { loadStackConfig } from '../../infra/local/stack/config.ts';
import { enabledComponents, stackEnv } from '../../infra/local/stack/stack.ts';

const get = (url: string, at: number, watch = false): SeenRequest => ({
  at,
  method: 'GET',
  url,
  bodyDigest: '',
  watch,
});

describe('fault plan', () => {
  it('defaults every rate to never, and decides the same way for the same seed', () => {
    const never = new FaultDecider(FaultPlan.parse({}));
    for (let i = 0; i < 200; i++)
      assert.deepEqual(never.decide({ watch: i % 2 === 0, resumes: true }), { delayMs: 0 });
    const plan = FaultPlan.parse({ seed: 7, throttle: 0.2, serverError: 0.1, dropWatch: 0.3, slow: 0.1 });
    const run = () => {
      const d = new FaultDecider(plan);
      return Array.from({ length: 300 }, (_, i) => d.decide({ watch: i % 3 === 0, resumes: false }));
    };
    assert.deepEqual(run(), run());
    const decisions = run();
    const throttled = decisions.filter((d) => d.answer === 'throttle').length;
    assert.ok(throttled > 20 && throttled < 60, `about 20% of 200 requests throttled: ${throttled}`);
    assert.ok(decisions.some((d) => d.cutAfterMs !== undefined));
  });

  it('never throttles, fails or resets a watch', () => {
    const d = new FaultDecider(FaultPlan.parse({ throttle: 1, serverError: 1, reset: 1 }));
    for (let i = 0; i < 50; i++) assert.equal(d.decide({ watch: true, resumes: true }).answer, undefined);
    assert.equal(d.decide({ watch: false, resumes: false }).answer, 'throttle');
  });
});

describe('fault proxy inputs', () => {
  it('accepts a plan and fills its defaults', () => {
    const parsed = parsePlanJson('{"throttle":0.05,"seed":3}', '--plan');
    assert.ok(parsed.ok);
    assert.equal(parsed.plan.throttle, 0.05);
    assert.equal(parsed.plan.throttleRetryAfterSeconds, 1);
    assert.equal(parsed.plan.dropWatch, 0);
  });

  it("says which field is wrong, with zod's path, and where the plan came from", () => {
    const tooHigh = parsePlanJson('{"throttle":1.5}', 'SLIPWAY_FAULTS');
    assert.ok(!tooHigh.ok);
    assert.match(tooHigh.error, /SLIPWAY_FAULTS/);
    assert.match(tooHigh.error, /→ at throttle/);
    const unknown = parsePlanJson('{"throtle":0.1}', '--plan');
    assert.ok(!unknown.ok);
    assert.match(unknown.error, /throtle/);
    const notJson = parsePlanJson('{throttle:', '--plan');
    assert.ok(!notJson.ok);
    assert.match(notJson.error, /--plan is not JSON/);
  });

  it('listens on loopback only', () => {
    assert.equal(parseListen(undefined), 0);
    assert.equal(parseListen('127.0.0.1:16447'), 16447);
    assert.equal(parseListen(':8443'), 8443);
    assert.equal(parseListen('9000'), 9000);
    assert.match(String(parseListen('0.0.0.0:16447')), /loopback only/);
    assert.match(String(parseListen('127.0.0.1:99999')), /loopback only/);
  });
});

describe('fault log', () => {
  it('knows a request by its namespace, a watch by what it watches, and the reads that refresh it', () => {
    assert.equal(namespaceOf('/apis/apps/v1/namespaces/team-a/deployments/m'), 'team-a');
    assert.equal(namespaceOf('/api/v1/nodes'), undefined);
    const watch =
      '/apis/apps/v1/namespaces/ns/deployments?fieldSelector=metadata.name%3Dm&allowWatchBookmarks=true&resourceVersion=42&watch=true';
    assert.equal(
      watchKey(watch),
      watchKey('/apis/apps/v1/namespaces/ns/deployments?watch=true&fieldSelector=metadata.name%3Dm'),
    );
    assert.equal(readKeysOf(watch)[0], '/apis/apps/v1/namespaces/ns/deployments/m');
  });

  it("pairs a 429 with its request's next arrival, and a cut watch with the next watch and read", () => {
    const log = new FaultLog(0);
    const read = get('/apis/apps/v1/namespaces/ns/deployments/m', 100);
    log.injected('throttle', read, { retryAfterMs: 1000 }, 100);
    log.seen(get('/apis/apps/v1/namespaces/ns/deployments/other', 300)); // another object: no match
    log.seen({ ...read, at: 1150 });
    const watch = get(
      '/apis/apps/v1/namespaces/ns/deployments?fieldSelector=metadata.name%3Dm&watch=true',
      2000,
      true,
    );
    log.injected('dropWatch', watch, {}, 2000);
    log.seen(get('/apis/apps/v1/namespaces/ns/deployments/m', 2600));
    log.seen({ ...watch, url: `${watch.url}&resourceVersion=9`, at: 2700 });
    log.injected('reset', get('/api/v1/namespaces/ns/pods', 3000), {}, 3000);
    const [throttle, cut, reset] = log.events;
    assert.deepEqual(throttle, {
      kind: 'throttle',
      atMs: 100,
      request: 'GET /apis/apps/v1/namespaces/ns/deployments/m',
      namespace: 'ns',
      retryAfterMs: 1000,
      repeatedAfterMs: 1050,
    });
    assert.equal(cut?.rereadAfterMs, 600);
    assert.equal(cut?.rewatchedAfterMs, 700);
    assert.equal(reset?.repeatedAfterMs, undefined);
  });

  it("with call ids, a 429's repeat is its own call's, not another caller's identical read", () => {
    const log = new FaultLog(0);
    const url = '/apis/apps/v1/namespaces/ns/deployments/m';
    log.injected('throttle', { ...get(url, 100), callId: 'a' }, { retryAfterMs: 1000 }, 100);
    log.seen({ ...get(url, 650), callId: 'b' }); // another activity reads the same Deployment
    log.seen(get(url, 700)); // and a read outside any call
    log.seen({ ...get(url, 1120), callId: 'a' });
    assert.equal(log.events[0]?.repeatedAfterMs, 1020);
  });

  it('sums up per kind: repeats no sooner than Retry-After, the earlier ones by request', () => {
    const log = new FaultLog(0);
    for (const [at, back] of [
      [0, 1000],
      [2000, 3200],
      [5000, 5400],
    ] as const) {
      const r = get(`/api/v1/namespaces/ns/services/s${at}`, at);
      log.injected('throttle', r, { retryAfterMs: 1000 }, at);
      log.seen({ ...r, at: back });
    }
    log.injected('throttle', get('/api/v1/namespaces/ns/services/never', 6000), { retryAfterMs: 1000 }, 6000);
    log.injected('slow', get('/api/v1/namespaces/ns/pods', 7000), {}, 7000).answered = true;
    const summary = summarizeFaults(log.events);
    assert.equal(summary.throttle.injected, 4);
    assert.equal(summary.throttle.followedUp, 3);
    assert.equal(summary.throttle.notFollowedUp, 1);
    assert.equal(summary.throttle.honouredRetryAfter, 2);
    assert.equal(summary.throttle.earlierThanRetryAfter, 1);
    assert.deepEqual(summary.throttle.early, [
      { request: 'GET /api/v1/namespaces/ns/services/s5000', gapMs: 400, retryAfterMs: 1000 },
    ]);
    assert.equal(summary.throttle.maxFollowUpMs, 1200);
    assert.deepEqual(
      { injected: summary.slow.injected, followedUp: summary.slow.followedUp },
      { injected: 1, followedUp: 1 },
    );
    assert.equal(summary.dropWatch.injected, 0);
  });
});

describe('SLIPWAY_FAULTS in the local stack', () => {
  const base = { SLIPWAY_STATE: '/tmp/slipway-faults-config-test' };

  it('is off by default: no fault proxy, KUBECONFIG straight to the apiserver', () => {
    const config = loadStackConfig(base);
    assert.equal(config.faults, undefined);
    assert.ok(!enabledComponents(config).some((c) => c.name === 'apiserver-faults'));
    assert.equal(stackEnv(config, 'kubernetes').KUBECONFIG, '/tmp/slipway-faults-config-test/kubeconfig');
    assert.equal(stackEnv(config, 'kubernetes').SLIPWAY_DIRECT_KUBECONFIG, undefined);
  });

  it('with a plan, runs the proxy after the apiserver and points KUBECONFIG through it', () => {
    const config = loadStackConfig({
      ...base,
      SLIPWAY_FAULTS: '{"throttle":0.1}',
      SLIPWAY_FAULTS_PORT: '17447',
    });
    assert.equal(config.faults?.throttle, 0.1);
    assert.equal(config.ports.faults, 17447);
    const names = enabledComponents(config, 'kubernetes').map((c) => c.name);
    assert.ok(names.indexOf('apiserver-faults') > names.indexOf('kube-apiserver'));
    assert.ok(!enabledComponents(config, 'traffic').some((c) => c.name === 'apiserver-faults'));
    assert.deepEqual(
      enabledComponents(config, 'faults').map((c) => c.name),
      ['apiserver-faults'],
    );
    assert.deepEqual(enabledComponents(loadStackConfig(base), 'faults'), []);
    const env = stackEnv(config);
    assert.equal(env.KUBECONFIG, '/tmp/slipway-faults-config-test/faults-kubeconfig');
    assert.equal(env.SLIPWAY_DIRECT_KUBECONFIG, '/tmp/slipway-faults-config-test/kubeconfig');
    assert.equal(env.SLIPWAY_FAULTS_STATS_URL, 'https://127.0.0.1:17447/_faults/stats');
  });

  it('refuses a bad plan with the failing field', () => {
    assert.throws(
      () => loadStackConfig({ ...base, SLIPWAY_FAULTS: '{"dropWatch":"often"}' }),
      /invalid local stack configuration: invalid fault plan in SLIPWAY_FAULTS:[\s\S]*→ at dropWatch/,
    );
  });
});
