// The peer bench's pure helpers: how a proxied apiserver request is named, how apiserver_request_total
// is summed from /metrics, the Argo Rollout steps and analysis built from the shared scenario, the
// istio routing's objects (Argo's Services and VirtualService, Flagger's Canary and query), the
// candidate's VirtualService weight and when it reached 0, Flagger's step overheads, the ratios.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sumMetric } from '../../bench/peer/apiserver-metrics.ts';
import { analysisTemplate, argoSteps, rollout } from '../../bench/peer/argo-side.ts';
import { resourceOf, verbOf } from '../../bench/peer/counting-proxy.ts';
import { canary, flaggerOverheads, flaggerQuery } from '../../bench/peer/flagger-side.ts';
import { argoTrackServices, argoVirtualService, canaryWeightOf } from '../../bench/peer/istio-objects.ts';
import { firstZeroAfter } from '../../bench/peer/observe.ts';
import type { ToolFigures } from '../../bench/peer/parts.ts';
import { ratio, table, toRow } from '../../bench/peer/report.ts';
import { GATE, gateQuery, parseRouting } from '../../bench/peer/scenario.ts';
import { slipwaySpec } from '../../bench/peer/slipway-side.ts';
import { podGroupModels, serviceView } from '../../infra/local/simulator/pod-groups.ts';
import { computeSplit } from '../../infra/local/simulator/traffic-split.ts';
import { virtualServiceView } from '../../infra/local/simulator/virtual-service.ts';
import { DEFAULT_BEHAVIOUR } from '../../infra/local/simulator/behaviour.ts';

describe('peer bench helpers', () => {
  it('names requests as the apiserver does: list, get, watch, create, update, patch, delete', () => {
    assert.equal(verbOf('GET', '/api/v1/namespaces/ns/pods?labelSelector=a%3Db'), 'list');
    assert.equal(verbOf('GET', '/api/v1/namespaces/ns/pods/p1'), 'get');
    assert.equal(verbOf('GET', '/api/v1/namespaces/ns'), 'get');
    assert.equal(verbOf('GET', '/apis/apps/v1/replicasets'), 'list');
    assert.equal(verbOf('GET', '/apis/argoproj.io/v1alpha1/namespaces/ns/rollouts/r'), 'get');
    assert.equal(verbOf('GET', '/apis/apps/v1/namespaces/ns/deployments?watch=true'), 'watch');
    assert.equal(verbOf('POST', '/api/v1/namespaces/ns/events'), 'create');
    assert.equal(verbOf('PUT', '/apis/apps/v1/namespaces/ns/replicasets/r'), 'update');
    assert.equal(verbOf('PATCH', '/apis/apps/v1/namespaces/ns/replicasets/r'), 'patch');
    assert.equal(verbOf('DELETE', '/api/v1/namespaces/ns/pods/p'), 'delete');
    assert.equal(resourceOf('/api/v1/namespaces/ns/services/m-canary'), 'services');
    assert.equal(resourceOf('/api/v1/namespaces/ns/pods?labelSelector=a%3Db'), 'pods');
    assert.equal(resourceOf('/apis/argoproj.io/v1alpha1/namespaces/ns/rollouts/r/status'), 'rollouts/status');
    assert.equal(resourceOf('/apis/apps/v1/replicasets?watch=true'), 'replicasets');
    assert.equal(resourceOf('/api/v1/namespaces/ns'), 'namespaces');
  });

  it('sums every series of apiserver_request_total and nothing else', () => {
    const text = [
      '# TYPE apiserver_request_total counter',
      'apiserver_request_total{code="200",verb="GET"} 10',
      'apiserver_request_total{code="201",verb="POST"} 2.5e+01',
      'apiserver_request_total_other{code="200"} 99',
      'apiserver_request_duration_seconds_count 7',
    ].join('\n');
    assert.equal(sumMetric(text, 'apiserver_request_total'), 35);
  });

  it('gives Argo the same weights, holds, query, interval and threshold as Slipway', () => {
    assert.deepEqual(
      argoSteps([
        { weight: 25, holdMs: 3_000 },
        { weight: 50, holdMs: 3_000 },
      ]),
      [{ setWeight: 25 }, { pause: { duration: '3s' } }, { setWeight: 50 }, { pause: { duration: '3s' } }],
    );
    const template = analysisTemplate('ns', 'm') as {
      spec: {
        metrics: Array<{
          interval: string;
          successCondition: string;
          provider: { prometheus: { query: string } };
        }>;
      };
    };
    const metric = template.spec.metrics[0];
    assert.equal(metric?.interval, '2s');
    assert.equal(metric?.successCondition, 'len(result) == 0 || result[0] <= 0.05');
    assert.equal(metric?.provider.prometheus.query, gateQuery('ns', 'm', '{{args.version}}'));
    const spec = slipwaySpec('ns', 'm', 'v3', [{ weight: 25, holdMs: 60_000 }], true);
    assert.deepEqual(spec.traffic, { router: 'replica-ratio' });
    assert.equal(spec.gates?.[0]?.interval, `${GATE.intervalMs / 1000}s`);
    assert.equal(spec.serving.annotations?.['sim.slipway.dev/error-rate'], '0.5');
    assert.deepEqual(spec.canary?.steps, [{ weight: 25, hold: '60000ms' }]);
  });

  it('parses --routing: one routing or all, in order', () => {
    assert.deepEqual(parseRouting('all'), ['replicas', 'istio']);
    assert.deepEqual(parseRouting('istio'), ['istio']);
    assert.throws(() => parseRouting('linkerd'), /one of replicas, istio, all/);
  });

  it('routes Argo through its VirtualService in the istio routing, as the simulator reads it', () => {
    const spec = rollout('ns', 'm', 'v2', [{ weight: 25, holdMs: 3_000 }], {}, 'istio') as {
      spec: { strategy: { canary: Record<string, unknown> } };
    };
    const { canary: strategy } = spec.spec.strategy;
    assert.equal(strategy.stableService, 'm-stable');
    assert.equal(strategy.canaryService, 'm-canary');
    assert.deepEqual(strategy.trafficRouting, {
      istio: { virtualService: { name: 'm', routes: ['primary'] } },
    });
    const replicas = rollout('ns', 'm', 'v2', [], {}) as typeof spec;
    assert.equal(replicas.spec.strategy.canary.trafficRouting, undefined);

    // The VirtualService as Argo would leave it at 25%, and the Services with Argo's pod-template hash.
    const vs = argoVirtualService('ns', 'm') as {
      metadata: { namespace: string; name: string };
      spec: { http: Array<{ route: Array<{ destination: { host: string }; weight: number }> }> };
    };
    const [stable, canaryRoute] = vs.spec.http[0]?.route ?? [];
    assert.ok(stable && canaryRoute);
    [stable.weight, canaryRoute.weight] = [75, 25];
    assert.equal(canaryWeightOf(vs, 'm-canary', 'ns'), 25);
    const view = virtualServiceView(vs);
    assert.ok(view);
    const services = argoTrackServices('ns', 'm').map((s, k) => {
      const hashed = {
        ...s,
        spec: { ...s.spec, selector: { ...s.spec?.selector, hash: k === 0 ? 'a' : 'b' } },
      };
      const v = serviceView(hashed);
      assert.ok(v);
      return v;
    });
    const pod = (version: string, hash: string, n: number) => ({
      namespace: 'ns',
      name: `m-${hash}-${n}`,
      labels: { app: 'm', hash, 'app.kubernetes.io/version': version },
      version,
      ready: true,
      createdMs: n,
      behaviour: DEFAULT_BEHAVIOUR,
      problems: [],
    });
    const [model] = podGroupModels(
      services,
      [pod('v1', 'a', 1), pod('v1', 'a', 2), pod('v2', 'b', 3)],
      new Set(),
      [view],
    );
    assert.ok(model);
    assert.equal(model.model, 'm');
    assert.deepEqual(computeSplit(model).shares, { stable: 0.75, canary: 0.25 });
  });

  it("reads the candidate's VirtualService weight and when it reached 0", () => {
    const vs = (canaryWeight: number) => ({
      spec: {
        http: [
          {
            match: [{ headers: { 'x-variant': { exact: 'b' } } }],
            route: [{ destination: { host: 'm-canary' } }],
          },
          {
            route: [
              { destination: { host: 'm-primary.ns.svc.cluster.local' }, weight: 100 - canaryWeight },
              { destination: { host: 'm-canary.ns.svc.cluster.local' }, weight: canaryWeight },
            ],
          },
        ],
      },
    });
    assert.equal(canaryWeightOf(vs(25), 'm-canary', 'ns'), 25);
    assert.equal(canaryWeightOf(vs(0), 'm-canary', 'ns'), 0);
    assert.equal(
      canaryWeightOf(
        { spec: { http: [{ route: [{ destination: { host: 'm-canary' } }] }] } },
        'm-canary',
        'ns',
      ),
      100,
    );
    assert.equal(canaryWeightOf(undefined, 'm-canary', 'ns'), undefined);

    const seen = [
      { at: 1, value: 0 },
      { at: 2, value: 25 },
      { at: 3, value: 25 },
      { at: 4, value: 0 },
    ];
    assert.equal(firstZeroAfter(seen, 2.5), 4);
    assert.equal(firstZeroAfter(seen.slice(0, 1), 0), undefined, 'never served: no reaction');
    assert.equal(firstZeroAfter(seen.slice(0, 3), 2.5), undefined);
  });

  it('gives Slipway the istio router and Flagger the same weights, query and threshold', () => {
    assert.deepEqual(slipwaySpec('ns', 'm', 'v2', [], false, 'istio').traffic, { router: 'istio' });
    const c = canary('ns', 'm', 'v3', [{ weight: 25, holdMs: 60_000 }]) as {
      spec: {
        provider: string;
        analysis: {
          interval: string;
          threshold: number;
          stepWeights: number[];
          metrics: Array<{ templateRef: { name: string }; thresholdRange: { max: number } }>;
        };
      };
    };
    assert.equal(c.spec.provider, 'istio');
    assert.equal(c.spec.analysis.interval, '10s');
    assert.equal(c.spec.analysis.threshold, 1);
    assert.deepEqual(c.spec.analysis.stepWeights, [25]);
    assert.equal(c.spec.analysis.metrics[0]?.templateRef.name, 'error-rate-m-v3');
    assert.equal(c.spec.analysis.metrics[0]?.thresholdRange.max, GATE.max);
    assert.equal(flaggerQuery('ns', 'm', 'v3'), `(${gateQuery('ns', 'm', 'v3')}) >= 0 or vector(0)`);
  });

  it("measures Flagger's steps from the Canary's transitions, less one analysis interval", () => {
    const seen = [
      { at: 0, phase: 'Initialized', weight: 0 },
      { at: 1_000, phase: 'Progressing', weight: 0 },
      { at: 11_000, phase: 'Progressing', weight: 25 },
      { at: 21_100, phase: 'Progressing', weight: 50 },
      { at: 31_300, phase: 'Promoting', weight: 50 },
      { at: 41_300, phase: 'Finalising', weight: 0 },
    ];
    assert.deepEqual(flaggerOverheads(seen), [100, 200]);
    assert.ok(flaggerOverheads(seen.slice(0, 3)).every(Number.isNaN));
  });

  it("tabulates every tool with Slipway's ratio to each peer", () => {
    const figures = (tool: string, reaction: number, requests: number, peak: number): ToolFigures => ({
      tool,
      version: 'x',
      releases: 3,
      reactionMs: [reaction],
      overheadPerStepMs: [-5],
      requests: { total: requests, byVerb: {}, byResource: {} },
      apiserverRequestsOtherClients: 100,
      memory: { peakMiB: peak, lastMiB: peak, samples: 1 },
      durationMs: 10_000,
      requestsAfter: requests / 3,
      badPromoted: tool === 'flagger' ? 1 : 0,
      anomalies: [],
    });
    const rows = [
      figures('slipway', 500, 30, 300),
      figures('argo-rollouts', 1000, 60, 100),
      figures('flagger', 20_000, 90, 50),
    ];
    const lines = table(rows.map(toRow));
    assert.equal(
      lines[0],
      '| figure | Slipway | Argo Rollouts | Flagger | Slipway / Argo Rollouts | Slipway / Flagger |',
    );
    assert.equal(
      lines[2],
      '| reaction ms, first failing sample → 100% stable | 500 (p90 500, n 1) | 1000 (p90 1000, n 1) | 20000 (p90 20000, n 1) | 0.5 | 0.03 |',
    );
    assert.match(lines[3] ?? '', /\| n\/a \| n\/a \|$/, 'no ratio of a negative overhead');
    assert.match(
      lines[4] ?? '',
      /^\| apiserver requests per release \(tool only\) \| 10 \(30 in 3\) \| 20 \(60 in 3\) \| 30 \(90 in 3\) \| 0.5 \| 0.33 \|$/,
    );
    assert.equal(
      lines[7],
      '| apiserver requests in the 30 s after the last release, per model (tool only) | 10 | 20 | 30 | 0.5 | 0.33 |',
    );
    assert.equal(lines[8], '| bad candidates promoted | 0 of 1 | 0 of 1 | 1 of 1 |  |  |');
    assert.equal(ratio(1, 0), null);
    assert.equal(ratio(NaN, 1), null);
  });
});
