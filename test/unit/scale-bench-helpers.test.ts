// The scale bench's arithmetic: counters cut at a window found afterwards, histogram quantiles from
// the Temporal runtime's buckets, memory over time, and each release's hold from its timeline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { increaseBetween, valueAt } from '../../bench/scale/counters.ts';
import { overTime } from '../../bench/scale/process-stats.ts';
import { holdWindow, scaleModels, scaleSpec } from '../../bench/scale/releases.ts';
import { addHistograms, histogramOf, quantile } from '../../bench/scale/schedule-latency.ts';
import { validateReleaseSpec } from '../../workflows/spec/index.ts';
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
      });
      const checked = validateReleaseSpec(spec);
      assert.ok(checked.ok, JSON.stringify(checked));
    }
  });
});
