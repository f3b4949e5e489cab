// The judge gate's verdict. Samples come from a seeded generator (below), so every figure is fixed;
// the p-values and medians were checked against scipy 1.17.1 / numpy 2.4.6 on the same samples:
// scipy.stats.mannwhitneyu(candidate, baseline, alternative=<one-sided>, method='auto',
// use_continuity=True) and numpy.median.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatNumber, judge, type JudgeOptions } from '../../activities/gates/judge.ts';

/** mulberry32: a tiny deterministic 32-bit PRNG → uniform [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Log-normal samples around `medianValue` (σ of the log = `spread`), by Box-Muller, rounded to 0.01. */
function logNormalSamples(seed: number, count: number, medianValue: number, spread: number): number[] {
  const uniform = mulberry32(seed);
  const out: number[] = [];
  while (out.length < count) {
    const u1 = 1 - uniform();
    const u2 = uniform();
    const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    out.push(Math.round(medianValue * Math.exp(spread * normal) * 100) / 100);
  }
  return out;
}

function assertClose(actual: number | null, expected: number, rel: number, message?: string): void {
  assert.ok(
    actual !== null && Math.abs(actual - expected) <= rel * Math.abs(expected),
    `${message ?? ''} expected ${expected}, got ${actual}`,
  );
}

const latency: JudgeOptions = { worseIf: 'higher', confidence: 0.95, tolerance: 0.1, minSamples: 10 };

describe('judge', () => {
  it('the generator is deterministic (the reference figures below depend on it)', () => {
    assert.deepEqual(logNormalSamples(1, 3, 130, 0.2), [172.16, 165.78, 117.38]);
    assert.deepEqual(logNormalSamples(28, 6, 100, 0.8), [79.53, 97.7, 87.3, 209.23, 15.05, 259.34]);
  });

  it('fails a candidate ~30% slower (confidence 0.95, tolerance 0.1)', () => {
    const candidate = logNormalSamples(1, 60, 130, 0.2);
    const baseline = logNormalSamples(2, 60, 100, 0.2);
    const result = judge(candidate, baseline, latency);
    assert.equal(result.verdict, 'fail');
    assert.equal(result.noData, false);
    assert.equal(result.candidateMedian, 140.99);
    assert.equal(result.baselineMedian, 106.68);
    assertClose(result.relativeDifference, 0.32161604799400073, 1e-12);
    assertClose(result.pValue, 7.284840277126047e-10, 1e-9, 'p-value (scipy: U1 = 2953, asymptotic)');
    assert.equal(result.n1, 60);
    assert.equal(result.n2, 60);
    assert.equal(result.test?.u1, 2953);
    assert.equal(result.test?.method, 'asymptotic');
    assert.equal(result.test?.alternative, 'greater');
    assert.equal(
      result.reason,
      'candidate median 141 is 32.16% higher than baseline median 106.7: worse beyond the tolerance 10%, ' +
        'significant at 95% confidence (one-sided Mann-Whitney p = 7.3e-10 < 0.05, n = 60 vs 60)',
    );
  });

  it('passes equal distributions (not significant)', () => {
    const result = judge(logNormalSamples(3, 60, 100, 0.2), logNormalSamples(4, 60, 100, 0.2), latency);
    assert.equal(result.verdict, 'pass');
    assertClose(result.pValue, 0.4405453409094389, 1e-9, 'p-value (scipy: U1 = 1829)');
    assert.equal(result.candidateMedian, 95.69);
    assert.equal(result.baselineMedian, 98.825);
    assert.match(
      result.reason,
      /^candidate not significantly higher than baseline at 95% confidence: candidate median 95\.69 is 3\.172% lower than baseline median 98\.83/,
    );
  });

  it('passes a significant regression within the tolerance (~4% slower, tolerance 10%)', () => {
    const result = judge(logNormalSamples(5, 400, 105, 0.1), logNormalSamples(6, 400, 100, 0.1), latency);
    assert.equal(result.verdict, 'pass');
    assertClose(result.pValue, 6.150954938238632e-9, 1e-9, 'p-value (scipy: U1 = 98613.5, ties)');
    assertClose(result.relativeDifference, 0.0408853519025118, 1e-12);
    assert.match(
      result.reason,
      /candidate median 104\.6 is 4\.089% higher than baseline median 100\.5: significantly higher at 95% confidence but within the tolerance 10%/,
    );
    // The same samples fail with a tolerance below the difference.
    assert.equal(
      judge(logNormalSamples(5, 400, 105, 0.1), logNormalSamples(6, 400, 100, 0.1), {
        ...latency,
        tolerance: 0.04,
      }).verdict,
      'fail',
    );
  });

  it('passes a large but noisy difference (not significant: 6 vs 6 samples, exact test)', () => {
    const result = judge(logNormalSamples(27, 6, 150, 0.8), logNormalSamples(28, 6, 100, 0.8), {
      ...latency,
      minSamples: 5,
    });
    assert.equal(result.verdict, 'pass');
    assert.equal(result.test?.method, 'exact');
    assertClose(result.pValue, 0.3495670995670996, 1e-9, 'p-value (scipy: U1 = 21, exact)');
    assertClose(result.relativeDifference, 0.7665405405405405, 1e-12);
  });

  it('fails a lower accuracy with worseIf lower, and passes a higher one', () => {
    const low = logNormalSamples(7, 30, 0.8, 0.03);
    const high = logNormalSamples(8, 30, 0.95, 0.03);
    const options: JudgeOptions = { worseIf: 'lower', confidence: 0.99, tolerance: 0.05, minSamples: 10 };
    const worse = judge(low, high, options);
    assert.equal(worse.verdict, 'fail');
    assert.equal(worse.test?.alternative, 'less');
    assertClose(worse.pValue, 1.3184822806227698e-11, 1e-9, 'p-value (scipy: U1 = 0, alternative less)');
    assert.equal(worse.candidateMedian, 0.8);
    assert.equal(worse.baselineMedian, 0.955);
    assertClose(worse.relativeDifference, -0.1623036649214659, 1e-12);
    assert.match(
      worse.reason,
      /^candidate median 0\.8 is 16\.23% lower than baseline median 0\.955: worse beyond the tolerance 5%, significant at 99% confidence \(one-sided Mann-Whitney p = 1\.3e-11 < 0\.01/,
    );

    const better = judge(high, low, options);
    assert.equal(better.verdict, 'pass');
    assertClose(better.pValue, 0.9999999999880828, 1e-9);
    assert.match(
      better.reason,
      /^candidate not significantly lower than baseline at 99% confidence: candidate median 0\.955 is 19\.37% higher than baseline median 0\.8/,
    );
  });

  it('is inconclusive with fewer than minSamples values on either side', () => {
    const result = judge([101, 102, 103, 104, 105], logNormalSamples(2, 60, 100, 0.2), latency);
    assert.equal(result.verdict, 'inconclusive');
    assert.equal(result.noData, true);
    assert.equal(result.pValue, null);
    assert.equal(result.candidateMedian, 103);
    assert.equal(result.baselineMedian, 106.68);
    assert.equal(
      result.reason,
      'not enough data: 5 candidate and 60 baseline samples, at least 10 each needed',
    );
  });

  it('is inconclusive when every value of a side is NaN, and ignores NaN otherwise', () => {
    const allNaN = judge([Number.NaN, Number.NaN], [1, 2, 3], { ...latency, minSamples: 1 });
    assert.equal(allNaN.verdict, 'inconclusive');
    assert.equal(allNaN.candidateMedian, null);
    assert.equal(allNaN.relativeDifference, null);
    assert.deepEqual(allNaN.dropped, { candidate: 2, baseline: 0 });
    assert.equal(
      allNaN.reason,
      'not enough data: 0 candidate and 3 baseline samples, at least 1 each needed; every candidate value is NaN',
    );

    const empty = judge([], [], latency);
    assert.equal(
      empty.reason,
      'not enough data: 0 candidate and 0 baseline samples, at least 10 each needed; no candidate samples; no baseline samples',
    );

    const someNaN = judge([5, Number.NaN, 6, 7], [1, 2, Number.NaN, 3], { ...latency, minSamples: 3 });
    assert.equal(someNaN.n1, 3);
    assert.equal(someNaN.n2, 3);
    assert.deepEqual(someNaN.dropped, { candidate: 1, baseline: 1 });
    assert.equal(someNaN.test?.u1, 9);
    assertClose(someNaN.pValue, 0.05, 1e-12, 'exact P(U ≥ 9) for 3 vs 3 = 1/20');
    // p = 0.05 is not < 0.05: not significant, so it passes despite a 200% regression.
    assert.equal(someNaN.verdict, 'pass');
    assert.match(
      someNaN.reason,
      /p = 0\.05 ≥ 0\.05, n = 3 vs 3\) \(NaN values ignored: 1 candidate, 1 baseline\)$/,
    );
  });

  it('fails only when the regression exceeds the tolerance strictly', () => {
    const baseline = [90, 95, 98, 100, 102, 105, 110];
    const candidate = baseline.map((x) => x + 10); // medians 110 vs 100: exactly +10%
    const options: JudgeOptions = { worseIf: 'higher', confidence: 0.5, tolerance: 0.1, minSamples: 3 };
    const atTolerance = judge(candidate, baseline, options);
    assert.equal(atTolerance.relativeDifference, 0.1);
    assert.ok(atTolerance.pValue !== null && atTolerance.pValue < 0.5);
    assert.equal(atTolerance.verdict, 'pass');
    assert.equal(judge(candidate, baseline, { ...options, tolerance: 0.099 }).verdict, 'fail');
  });

  it('rejects invalid options', () => {
    assert.throws(() => judge([1], [1], { ...latency, confidence: 1 }), RangeError);
    assert.throws(() => judge([1], [1], { ...latency, tolerance: -0.1 }), RangeError);
    assert.throws(() => judge([1], [1], { ...latency, minSamples: 0 }), RangeError);
  });

  it('formats numbers with 4 significant digits', () => {
    assert.equal(formatNumber(140.99), '141');
    assert.equal(formatNumber(0.000123456), '0.0001235');
    assert.equal(formatNumber(0), '0');
    assert.equal(formatNumber(Infinity), 'Infinity');
  });
});
