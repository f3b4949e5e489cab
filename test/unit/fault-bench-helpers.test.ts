// The fault bench's pure parts: the mix of releases (good and bad, gateway-api and replica-ratio,
// each spec valid), and the report built from a proxy log and release records (faults attributed
// to models by namespace, what survived, the longest release against its deadline) and its table.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, reportTable, type ReleaseRecord } from '../../bench/faults/report.ts';
import { benchSpec, kindName, kindOf } from '../../bench/faults/scenario.ts';
import type { FaultEvent } from '../../infra/local/faults/log.ts';
import { FaultPlan } from '../../infra/local/faults/plan.ts';
import { ReleaseSpec } from '../../workflows/spec/index.ts';

describe('fault bench helpers', () => {
  it('mixes good and bad candidates with both routers, every spec valid', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((i) => kindName(kindOf(i))),
      ['good gateway-api', 'good replica-ratio', 'bad gateway-api', 'bad replica-ratio', 'good gateway-api'],
    );
    for (let i = 0; i < 4; i++)
      for (const version of ['v1', 'v2'] as const) {
        const parsed = ReleaseSpec.safeParse(benchSpec('ns', 'model', version, kindOf(i)));
        assert.ok(parsed.success, `${kindName(kindOf(i))} ${version}`);
        assert.equal(parsed.data.traffic.router, kindOf(i).router);
        const bad = version === 'v2' && !kindOf(i).good;
        assert.equal(
          parsed.data.serving.annotations?.['sim.slipway.dev/error-rate'],
          bad ? '0.5' : undefined,
        );
      }
  });

  it('attributes faults to models by namespace and reports what survived and the longest release', () => {
    const record = (namespace: string, kind: string, durationMs: number, correct = true): ReleaseRecord => ({
      kind,
      namespace,
      setupPromoted: true,
      correct,
      problems: correct ? [] : ['stable version v1'],
      durationMs,
      deadlineMs: 180_000,
      late: false,
    });
    const events: FaultEvent[] = [
      {
        kind: 'throttle',
        atMs: 1,
        request: 'GET /api/v1/namespaces/ns-a/services/s',
        namespace: 'ns-a',
        retryAfterMs: 1000,
        repeatedAfterMs: 1010,
      },
      {
        kind: 'throttle',
        atMs: 2,
        request: 'GET /api/v1/namespaces/ns-b/services/s',
        namespace: 'ns-b',
        retryAfterMs: 1000,
        repeatedAfterMs: 200,
      },
      { kind: 'dropWatch', atMs: 3, request: 'GET /w', namespace: 'ns-b', rewatchedAfterMs: 600 },
      { kind: 'reset', atMs: 4, request: 'GET /api/v1/nodes' },
    ];
    const report = buildReport({
      plan: FaultPlan.parse({ throttle: 0.1 }),
      concurrency: 2,
      stats: { requests: 100, watches: 10, events },
      releases: [
        record('ns-a', 'good gateway-api', 20_000),
        record('ns-b', 'bad gateway-api', 30_000, false),
      ],
      baseline: [record('free-a', 'good gateway-api', 15_000)],
    });
    const throttle = report.faults.find((f) => f.kind === 'throttle');
    assert.deepEqual(
      [
        throttle?.injected,
        throttle?.honouredRetryAfter,
        throttle?.earlierThanRetryAfter,
        throttle?.modelsHit,
        throttle?.modelsHitCorrect,
      ],
      [2, 1, 1, 2, 1],
    );
    assert.equal(report.faults.find((f) => f.kind === 'dropWatch')?.followedUp, 1);
    assert.equal(report.unattributedFaults, 1);
    assert.equal(report.allCorrect, false);
    assert.deepEqual([report.longestS, report.deadlineS, report.late], [30, 180, 0]);
    assert.deepEqual(
      report.byKind.map((r) => [r.kind, r.n, r.correct, r.faultFreeMedianS]),
      [
        ['good gateway-api', 1, 1, 15],
        ['bad gateway-api', 1, 0, null],
      ],
    );
    const table = reportTable(report);
    assert.match(
      table,
      /\| 429 \+ Retry-After \| 2 \| 2 asked again, 1 no sooner than Retry-After \(sooner: 1 of one release, 0 cluster-wide\) \|/,
    );
    assert.match(table, /longest release 30 s of its 180 s deadline/);
    assert.match(table, /- bad gateway-api \(ns-b\): stable version v1/);
  });
});
