// The scale bench's arithmetic: counters cut at a window found afterwards, histogram quantiles from
// the Temporal runtime's buckets, memory over time, and each release's hold from its timeline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { increaseBetween, valueAt } from '../../bench/scale/counters.ts';
import { overTime } from '../../bench/scale/process-stats.ts';
import {
  countBetween,
  heldRequestKinds,
  modelInUrl,
  perReleaseRequests,
} from '../../bench/scale/attribution.ts';
import { holdWindow, scaleModels, scaleSpec } from '../../bench/scale/releases.ts';
import { addHistograms, histogramOf, quantile } from '../../bench/scale/schedule-latency.ts';
import { ReleaseSpec, validateReleaseSpec } from '../../workflows/spec/index.ts';
import { renderDeployment } from '../../activities/kubernetes/manifests.ts';
import { deploymentView } from '../../infra/local/simulator/objects.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';

describe('scale bench helpers', () => {
  it('interpolates a counter between its samples and clamps outside them', () => {
    const points = [
      { at: 1000, value: 10 },
      { at: 3000, value: 30 },
      { at: 5000, value: 30 },
    ];
    assert.equal(valueAt(points, 2000), 20);
    assert.equal(valueAt(points, 0), 10);
    assert.equal(valueAt(points, 9000), 30);
    assert.equal(increaseBetween({ name: 'x', points }, 2000, 4000), 10);
  });

  it('reads a histogram summed over label sets and takes bucket-bound quantiles', () => {
    const text = [
      '# HELP temporal_activity_schedule_to_start_latency x',
      'temporal_activity_schedule_to_start_latency_bucket{task_queue="q",le="10"} 80',
      'temporal_activity_schedule_to_start_latency_bucket{task_queue="q",le="100"} 95',
      'temporal_activity_schedule_to_start_latency_bucket{task_queue="q",le="+Inf"} 100',
      'temporal_activity_schedule_to_start_latency_count{task_queue="q"} 100',
      'temporal_activity_schedule_to_start_latency_bucket{task_queue="r",le="10"} 0',
      'temporal_activity_schedule_to_start_latency_bucket{task_queue="r",le="100"} 0',
      'temporal_activity_schedule_to_start_latency_bucket{task_queue="r",le="+Inf"} 100',
      'temporal_activity_schedule_to_start_latency_count{task_queue="r"} 100',
    ].join('\n');
    const h = histogramOf(text, 'temporal_activity_schedule_to_start_latency');
    assert.equal(h.count, 200);
    assert.equal(quantile(h, 0.4), 10);
    assert.equal(quantile(h, 0.45), 100);
    assert.equal(quantile(h, 0.99), Infinity);
    assert.equal(addHistograms([h, h]).count, 400);
    assert.ok(Number.isNaN(quantile(histogramOf('', 'x'), 0.5)));
  });

  it('cuts samples into spans with the peak memory and mean CPU of each', () => {
    const samples = [0, 1000, 2000, 3000].map((t, i) => ({ t, rssMiB: 100 + i, cpu: i % 2 }));
    assert.deepEqual(overTime(samples, 2), [
      { untilS: 2, rssMiB: 101, cpu: 0.5 },
      { untilS: 3, rssMiB: 103, cpu: 0.5 },
    ]);
    assert.deepEqual(overTime([], 4), []);
  });

  it("finds a release's hold between its step's entry and the next one", () => {
    const status = {
      timeline: [
        { at: '2026-12-02T10:00:00.000Z', stage: 'canary', message: 'candidate ready' },
        { at: '2026-12-02T10:00:01.000Z', stage: 'canary', message: 'canary step 1/1: 50% for 60s' },
        { at: '2026-12-02T10:01:01.500Z', stage: 'promote', message: 'promoting' },
      ],
    } as unknown as ReleaseStatus;
    assert.deepEqual(holdWindow(status), {
      from: Date.parse('2026-12-02T10:00:01.000Z'),
      to: Date.parse('2026-12-02T10:01:01.500Z'),
    });
    assert.equal(holdWindow(undefined), undefined);
  });

  it('mixes routers, marks every tenth candidate bad and makes specs that validate', () => {
    const models = scaleModels(20, 10);
    assert.deepEqual(
      models.filter((m) => m.bad).map((m) => m.model),
      ['sc-0009', 'sc-0019'],
    );
    assert.equal(models.filter((m) => m.router === 'replica-ratio').length, 10);
    for (const m of models) {
      const spec = scaleSpec(m, {
        namespace: 'ns',
        taskQueue: 'q',
        version: 'v2',
        hold: '60s',
        gateInterval: '5s',
        requestsPerSecond: 5,
      });
      const checked = validateReleaseSpec(spec);
      assert.ok(checked.ok, JSON.stringify(checked));
      // What the simulator reads off the Deployment Slipway renders from it: the rate (once only
      // read from the Deployment's own metadata, where serving.annotations never go, so --rps did
      // nothing), the behaviour, and no latency histogram.
      const view = deploymentView(
        renderDeployment(ReleaseSpec.parse(spec), { track: 'canary', replicas: 1, releaseId: 'r1' }),
      );
      assert.equal(view?.requestsPerSecond, 5);
      assert.equal(view?.behaviour.errorRate, m.bad ? 0.5 : 0);
      assert.equal(view?.behaviour.latencyHistogram, false);
      // Every canary's gate measures the error rate over 30 s: a late scrape still finds samples
      // (a first release's keeps 2 s: 30 s would reach back before its pods were ready).
      const queries = (spec.gates ?? []).map((g) => ('prometheus' in g ? g.prometheus?.query : undefined));
      assert.ok(queries.length > 0);
      for (const query of queries) {
        assert.match(String(query), /\[30s\]/);
        assert.doesNotMatch(String(query), /\[2s\]/);
      }
      const first = scaleSpec(m, {
        namespace: 'ns',
        taskQueue: 'q',
        version: 'v1',
        hold: '1s',
        gateInterval: '5s',
      });
      for (const g of first.gates ?? [])
        assert.match(String('prometheus' in g ? g.prometheus?.query : ''), /\[2s\]/);
    }
  });
});

describe('scale bench: requests per release over its own hold', () => {
  it('finds the model a URL names, through escapes and selectors; shared lists name none', () => {
    assert.equal(modelInUrl('/apis/apps/v1/namespaces/scale-ab12/deployments/sc-0042-canary'), 'sc-0042');
    assert.equal(
      modelInUrl('/api/v1/namespaces/scale-ab12/pods?labelSelector=app.kubernetes.io%2Fname%3Dsc-0007'),
      'sc-0007',
    );
    assert.equal(modelInUrl('/api/v1/nodes'), undefined);
    assert.equal(modelInUrl('/api/v1/namespaces/scale-ab12/resourcequotas'), undefined);
    assert.equal(modelInUrl('/bad%zz/sc-0001'), 'sc-0001');
  });

  it('counts each release in its own window, and spreads shared requests over release-intervals', () => {
    assert.equal(countBetween([1, 2, 3, 5, 8], 2, 5), 3);
    assert.equal(countBetween([], 0, 10), 0);
    // a holds 0–10 s, b 5–25 s, interval 5 s: a has 2 intervals, b 4.
    const arrivals = new Map<string, number[]>([
      ['sc-0001', [1_000, 4_000, 9_000, 30_000]], // the last after its hold: not counted
      ['sc-0002', [6_000, 7_000, 11_000, 16_000, 21_000, 24_000, 26_000, 2_000]],
      ['', [0, 12_000, 20_000]],
    ]);
    const figures = perReleaseRequests(
      arrivals,
      [
        { model: 'sc-0001', from: 0, to: 10_000 },
        { model: 'sc-0002', from: 5_000, to: 25_000 },
        { model: 'sc-0003', from: 8_000, to: 8_000 }, // no hold: left out
      ],
      5_000,
    );
    // a: 3 / 2 = 1.5; b: 6 / 4 = 1.5; shared: 3 in 0–25 s over 6 release-intervals.
    assert.deepEqual(figures, { releases: 2, own: { median: 1.5, p90: 1.5, worst: 1.5 }, shared: 0.5 });
    assert.equal(perReleaseRequests(arrivals, [], 5_000), undefined);
  });

  it('says which kinds of request a release made while it held, per release-interval, most first', () => {
    const arrivals = new Map<string, number[]>([
      ['sc-0001', [1_000, 4_000, 9_000, 30_000]],
      ['sc-0002', [6_000, 11_000, 16_000]],
    ]);
    const kinds = new Map<string, string[]>([
      ['sc-0001', ['watch deployments', 'get httproutes', 'watch deployments', 'delete deployments']],
      ['sc-0002', ['watch deployments', 'watch deployments', 'list pods']],
    ]);
    const holds = [
      { model: 'sc-0001', from: 0, to: 10_000 },
      { model: 'sc-0002', from: 5_000, to: 25_000 },
    ];
    // 6 release-intervals; the delete after sc-0001's hold is not counted.
    assert.deepEqual(heldRequestKinds(arrivals, kinds, holds, 5_000), {
      'watch deployments': 0.667,
      'get httproutes': 0.167,
      'list pods': 0.167,
    });
    assert.deepEqual(Object.keys(heldRequestKinds(arrivals, kinds, holds, 5_000, 1)), ['watch deployments']);
    assert.deepEqual(heldRequestKinds(arrivals, kinds, [], 5_000), {});
  });
});
