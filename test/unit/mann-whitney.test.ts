// The Mann-Whitney U test against reference values computed independently with
// scipy 1.17.1 (numpy 2.4.6): scipy.stats.mannwhitneyu(candidate, baseline, method=<method>,
// use_continuity=<cc>, alternative=<alternative>) — `statistic` is U1 — plus examples worked out by
// hand below.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  averageRanks,
  exactUSurvival,
  hodgesLehmannShift,
  mannWhitneyU,
  median,
  normalSurvival,
  relativeDifference,
  type Alternative,
  type MannWhitneyMethod,
} from '../../activities/gates/mann-whitney.ts';

/** |actual - expected| ≤ rel · |expected| (exact equality for 0). */
function assertClose(actual: number, expected: number, rel: number, message?: string): void {
  const ok = expected === 0 ? actual === 0 : Math.abs(actual - expected) <= rel * Math.abs(expected);
  assert.ok(ok, `${message ?? ''} expected ${expected}, got ${actual} (relative tolerance ${rel})`);
}

const unequalCandidate = Array.from(
  { length: 30 },
  (_, i) => Math.round((100 + ((i * 37) % 41) * 1.5 + i * 0.01) * 100) / 100,
);
const unequalBaseline = Array.from(
  { length: 45 },
  (_, i) => Math.round((95 + ((i * 23) % 47) * 1.3 + i * 0.007) * 1000) / 1000,
);

const datasets: Record<string, { candidate: number[]; baseline: number[]; auto: 'exact' | 'asymptotic' }> = {
  // Worked by hand below: no ties, both samples small → auto = exact.
  hand: { candidate: [7, 9, 12, 15], baseline: [3, 5, 8, 10, 11], auto: 'exact' },
  // Ties (3.4 ×4, 2.2 ×4) → auto = asymptotic with the tie-corrected variance.
  ties: {
    candidate: [1.2, 3.4, 3.4, 5.0, 2.2, 4.1, 3.4, 6.3, 2.2, 5.5, 4.4, 3.9],
    baseline: [1.1, 2.2, 2.9, 3.4, 1.8, 2.5, 3.0, 2.2, 4.0, 1.9],
    auto: 'asymptotic',
  },
  small: { candidate: [0.31, 0.52, 0.17], baseline: [0.44, 0.08, 0.27, 0.61, 0.12], auto: 'exact' },
  // 5 vs 20 without ties: scipy's rule picks exact as soon as EITHER sample has ≤ 8 values.
  oneSmall: {
    candidate: [10.5, 12.25, 9.75, 14.0, 11.5],
    baseline: [
      8.1, 9.2, 10.1, 7.7, 8.8, 9.9, 11.2, 6.5, 8.4, 9.5, 10.8, 7.2, 9.0, 8.6, 12.9, 7.9, 9.4, 10.3, 8.0, 6.9,
    ],
    auto: 'exact',
  },
  // 30 vs 45, no ties → auto = asymptotic. Python: round(100 + ((i*37) % 41)*1.5 + i*0.01, 2) and
  // round(95 + ((i*23) % 47)*1.3 + i*0.007, 3).
  unequal: { candidate: unequalCandidate, baseline: unequalBaseline, auto: 'asymptotic' },
  identical: { candidate: [1, 2, 3, 4, 5], baseline: [1, 2, 3, 4, 5], auto: 'asymptotic' },
  // scipy gives NaN without the continuity correction here (0/0); those rows are left out and
  // tested separately below.
  allTies: { candidate: [5, 5, 5], baseline: [5, 5, 5, 5], auto: 'asymptotic' },
  // Complete separation: far tail of both the normal approximation and the exact distribution.
  separated: {
    candidate: Array.from({ length: 30 }, (_, i) => 101 + i),
    baseline: Array.from({ length: 30 }, (_, i) => 1 + i),
    auto: 'asymptotic',
  },
  // 8 vs 500 without ties: auto = exact (scipy's rule) on a large second sample.
  large8: {
    candidate: [3.25, 47.25, 120.25, 260.25, 300.25, 410.25, 480.25, 499.75],
    baseline: Array.from({ length: 500 }, (_, i) => i),
    auto: 'exact',
  },
};

/** [method, alternative, use_continuity, U1, p-value] from scipy 1.17.1. */
type Row = [MannWhitneyMethod, Alternative, boolean, number, number];
const reference: Record<keyof typeof datasets, Row[]> = {
  hand: [
    ['auto', 'greater', true, 15.0, 0.14285714285714285],
    ['auto', 'greater', false, 15.0, 0.14285714285714285],
    ['auto', 'less', true, 15.0, 0.9047619047619049],
    ['auto', 'less', false, 15.0, 0.9047619047619049],
    ['auto', 'two-sided', true, 15.0, 0.2857142857142857],
    ['auto', 'two-sided', false, 15.0, 0.2857142857142857],
    ['exact', 'greater', true, 15.0, 0.14285714285714285],
    ['exact', 'less', true, 15.0, 0.9047619047619049],
    ['exact', 'two-sided', true, 15.0, 0.2857142857142857],
    ['asymptotic', 'greater', true, 15.0, 0.13517207032739004],
    ['asymptotic', 'greater', false, 15.0, 0.11033568095992347],
    ['asymptotic', 'less', true, 15.0, 0.9110452025065088],
    ['asymptotic', 'less', false, 15.0, 0.8896643190400766],
    ['asymptotic', 'two-sided', true, 15.0, 0.2703441406547801],
    ['asymptotic', 'two-sided', false, 15.0, 0.22067136191984693],
  ],
  ties: [
    ['auto', 'greater', true, 93.5, 0.01432216027724658],
    ['auto', 'greater', false, 93.5, 0.013158422559086483],
    ['auto', 'less', true, 93.5, 0.9879226847838314],
    ['auto', 'less', false, 93.5, 0.9868415774409135],
    ['auto', 'two-sided', true, 93.5, 0.02864432055449316],
    ['auto', 'two-sided', false, 93.5, 0.026316845118172966],
    ['exact', 'greater', true, 93.5, 0.014980375661490212],
    ['exact', 'less', true, 93.5, 0.9897099804220547],
    ['exact', 'two-sided', true, 93.5, 0.029960751322980424],
    ['asymptotic', 'greater', true, 93.5, 0.01432216027724658],
    ['asymptotic', 'greater', false, 93.5, 0.013158422559086483],
    ['asymptotic', 'less', true, 93.5, 0.9879226847838314],
    ['asymptotic', 'less', false, 93.5, 0.9868415774409135],
    ['asymptotic', 'two-sided', true, 93.5, 0.02864432055449316],
    ['asymptotic', 'two-sided', false, 93.5, 0.026316845118172966],
  ],
  small: [
    ['auto', 'greater', true, 9.0, 0.39285714285714285],
    ['auto', 'greater', false, 9.0, 0.39285714285714285],
    ['auto', 'less', true, 9.0, 0.7142857142857143],
    ['auto', 'less', false, 9.0, 0.7142857142857143],
    ['auto', 'two-sided', true, 9.0, 0.7857142857142857],
    ['auto', 'two-sided', false, 9.0, 0.7857142857142857],
    ['exact', 'greater', true, 9.0, 0.39285714285714285],
    ['exact', 'less', true, 9.0, 0.7142857142857143],
    ['exact', 'two-sided', true, 9.0, 0.7857142857142857],
    ['asymptotic', 'greater', true, 9.0, 0.382797241997882],
    ['asymptotic', 'greater', false, 9.0, 0.32736042300928847],
    ['asymptotic', 'less', true, 9.0, 0.7245075062074533],
    ['asymptotic', 'less', false, 9.0, 0.6726395769907115],
    ['asymptotic', 'two-sided', true, 9.0, 0.765594483995764],
    ['asymptotic', 'two-sided', false, 9.0, 0.6547208460185769],
  ],
  oneSmall: [
    ['auto', 'greater', true, 89.0, 0.00282326369282891],
    ['auto', 'greater', false, 89.0, 0.00282326369282891],
    ['auto', 'less', true, 89.0, 0.9978731413514023],
    ['auto', 'less', false, 89.0, 0.9978731413514023],
    ['auto', 'two-sided', true, 89.0, 0.00564652738565782],
    ['auto', 'two-sided', false, 89.0, 0.00564652738565782],
    ['exact', 'greater', true, 89.0, 0.00282326369282891],
    ['exact', 'less', true, 89.0, 0.9978731413514023],
    ['exact', 'two-sided', true, 89.0, 0.00564652738565782],
    ['asymptotic', 'greater', true, 89.0, 0.004454064096693068],
    ['asymptotic', 'greater', false, 89.0, 0.004030211539513618],
    ['asymptotic', 'less', true, 89.0, 0.996357163882141],
    ['asymptotic', 'less', false, 89.0, 0.9959697884604863],
    ['asymptotic', 'two-sided', true, 89.0, 0.008908128193386136],
    ['asymptotic', 'two-sided', false, 89.0, 0.008060423079027237],
  ],
  unequal: [
    ['auto', 'greater', true, 769.0, 0.15596509729698577],
    ['auto', 'greater', false, 769.0, 0.1546748343207323],
    ['auto', 'less', true, 769.0, 0.8466083554578494],
    ['auto', 'less', false, 769.0, 0.8453251656792677],
    ['auto', 'two-sided', true, 769.0, 0.31193019459397153],
    ['auto', 'two-sided', false, 769.0, 0.3093496686414646],
    ['exact', 'greater', true, 769.0, 0.1569923648622153],
    ['exact', 'less', true, 769.0, 0.8455926679703325],
    ['exact', 'two-sided', true, 769.0, 0.3139847297244306],
    ['asymptotic', 'greater', true, 769.0, 0.15596509729698577],
    ['asymptotic', 'greater', false, 769.0, 0.1546748343207323],
    ['asymptotic', 'less', true, 769.0, 0.8466083554578494],
    ['asymptotic', 'less', false, 769.0, 0.8453251656792677],
    ['asymptotic', 'two-sided', true, 769.0, 0.31193019459397153],
    ['asymptotic', 'two-sided', false, 769.0, 0.3093496686414646],
  ],
  identical: [
    ['auto', 'greater', true, 12.5, 0.5422350133116141],
    ['auto', 'greater', false, 12.5, 0.5],
    ['auto', 'less', true, 12.5, 0.5422350133116141],
    ['auto', 'less', false, 12.5, 0.5],
    ['auto', 'two-sided', true, 12.5, 1.0],
    ['auto', 'two-sided', false, 12.5, 1.0],
    ['exact', 'greater', true, 12.5, 0.5793650793650793],
    ['exact', 'less', true, 12.5, 0.5793650793650793],
    ['exact', 'two-sided', true, 12.5, 1.0],
    ['asymptotic', 'greater', true, 12.5, 0.5422350133116141],
    ['asymptotic', 'greater', false, 12.5, 0.5],
    ['asymptotic', 'less', true, 12.5, 0.5422350133116141],
    ['asymptotic', 'less', false, 12.5, 0.5],
    ['asymptotic', 'two-sided', true, 12.5, 1.0],
    ['asymptotic', 'two-sided', false, 12.5, 1.0],
  ],
  allTies: [
    ['auto', 'greater', true, 6.0, 1.0],
    ['auto', 'less', true, 6.0, 1.0],
    ['auto', 'two-sided', true, 6.0, 1.0],
    ['exact', 'greater', true, 6.0, 0.5714285714285714],
    ['exact', 'less', true, 6.0, 0.5714285714285714],
    ['exact', 'two-sided', true, 6.0, 1.0],
    ['asymptotic', 'greater', true, 6.0, 1.0],
    ['asymptotic', 'less', true, 6.0, 1.0],
    ['asymptotic', 'two-sided', true, 6.0, 1.0],
  ],
  separated: [
    ['auto', 'greater', true, 900.0, 1.5099296795810785e-11],
    ['auto', 'greater', false, 900.0, 1.4359745331601617e-11],
    ['auto', 'less', true, 900.0, 0.9999999999863444],
    ['auto', 'less', false, 900.0, 0.9999999999856403],
    ['auto', 'two-sided', true, 900.0, 3.019859359162157e-11],
    ['auto', 'two-sided', false, 900.0, 2.8719490663203234e-11],
    ['exact', 'greater', true, 900.0, 8.45561694607237e-18],
    ['exact', 'less', true, 900.0, 1.0],
    ['exact', 'two-sided', true, 900.0, 1.691123389214474e-17],
    ['asymptotic', 'greater', true, 900.0, 1.5099296795810785e-11],
    ['asymptotic', 'greater', false, 900.0, 1.4359745331601617e-11],
    ['asymptotic', 'less', true, 900.0, 0.9999999999863444],
    ['asymptotic', 'less', false, 900.0, 0.9999999999856403],
    ['asymptotic', 'two-sided', true, 900.0, 3.019859359162157e-11],
    ['asymptotic', 'two-sided', false, 900.0, 2.8719490663203234e-11],
  ],
  large8: [
    ['auto', 'greater', true, 2127.0, 0.38152827475294243],
    ['auto', 'greater', false, 2127.0, 0.38152827475294243],
    ['auto', 'less', true, 2127.0, 0.6193809339696397],
    ['auto', 'less', false, 2127.0, 0.6193809339696397],
    ['auto', 'two-sided', true, 2127.0, 0.7630565495058849],
    ['auto', 'two-sided', false, 2127.0, 0.7630565495058849],
    ['exact', 'greater', true, 2127.0, 0.38152827475294243],
    ['exact', 'less', true, 2127.0, 0.6193809339696397],
    ['exact', 'two-sided', true, 2127.0, 0.7630565495058849],
    ['asymptotic', 'greater', true, 2127.0, 0.379380279692422],
    ['asymptotic', 'greater', false, 2127.0, 0.3789184090770985],
    ['asymptotic', 'less', true, 2127.0, 0.6215432887093872],
    ['asymptotic', 'less', false, 2127.0, 0.6210815909229015],
    ['asymptotic', 'two-sided', true, 2127.0, 0.758760559384844],
    ['asymptotic', 'two-sided', false, 2127.0, 0.757836818154197],
  ],
};

describe('mannWhitneyU against scipy 1.17.1', () => {
  it('checks the python-generated datasets were rebuilt identically', () => {
    assert.deepEqual(unequalCandidate.slice(0, 4), [100.0, 155.51, 149.52, 143.53]);
    assert.equal(unequalCandidate[29], 110.79);
    assert.deepEqual(unequalBaseline.slice(0, 3), [95.0, 124.907, 154.814]);
    assert.equal(unequalBaseline[44], 127.808);
  });
  for (const [name, rows] of Object.entries(reference)) {
    const data = datasets[name];
    if (!data) throw new Error(`no dataset ${name}`);
    describe(name, () => {
      for (const [method, alternative, continuityCorrection, u1, p] of rows) {
        it(`${method} ${alternative}${continuityCorrection ? '' : ' without continuity correction'}: U1 = ${u1}, p = ${p}`, () => {
          const result = mannWhitneyU(data.candidate, data.baseline, {
            alternative,
            method,
            continuityCorrection,
          });
          assert.equal(result.u1, u1);
          assert.equal(result.u2, data.candidate.length * data.baseline.length - u1);
          assert.equal(result.n1, data.candidate.length);
          assert.equal(result.n2, data.baseline.length);
          assert.equal(result.method, method === 'auto' ? data.auto : method);
          assertClose(result.pValue, p, 1e-9, 'p-value');
        });
      }
    });
  }
});

describe('mannWhitneyU worked by hand', () => {
  // candidate 7 9 12 15, baseline 3 5 8 10 11. Pooled order: 3b 5b 7c 8b 9c 10b 11b 12c 15c, so
  // the candidate's ranks are 3, 5, 8, 9: R1 = 25, U1 = 25 - 4·5/2 = 15, U2 = 4·5 - 15 = 5.
  // Exact: C(9,4) = 126 arrangements; P(U ≥ 15) = P(U ≤ 5) by symmetry = the number of partitions of
  // 0..5 into at most 4 parts each ≤ 5 (1 + 1 + 2 + 3 + 5 + 6 = 18) / 126 = 1/7.
  // Normal: μ = 10, σ² = 4·5·10/12 = 50/3, z = (15 - 10 - 0.5)/√(50/3) = 1.10227…, P(Z ≥ z) = 0.13517.
  const candidate = [7, 9, 12, 15];
  const baseline = [3, 5, 8, 10, 11];

  it('gives U1 = 15, U2 = 5 and the exact p = 1/7 (two-sided 2/7)', () => {
    const greater = mannWhitneyU(candidate, baseline, { alternative: 'greater', method: 'exact' });
    assert.equal(greater.u1, 15);
    assert.equal(greater.u2, 5);
    assertClose(greater.pValue, 1 / 7, 1e-12);
    assertClose(
      mannWhitneyU(candidate, baseline, { alternative: 'two-sided', method: 'exact' }).pValue,
      2 / 7,
      1e-12,
    );
    // less: P(U ≥ U2 = 5) = 1 - P(U ≤ 4) = 1 - 12/126
    assertClose(
      mannWhitneyU(candidate, baseline, { alternative: 'less', method: 'exact' }).pValue,
      1 - 12 / 126,
      1e-12,
    );
  });

  it('gives z = 4.5 / √(50/3) with the continuity correction and 5 / √(50/3) without', () => {
    const corrected = mannWhitneyU(candidate, baseline, { alternative: 'greater', method: 'asymptotic' });
    assertClose(corrected.z, 4.5 / Math.sqrt(50 / 3), 1e-14);
    const plain = mannWhitneyU(candidate, baseline, {
      alternative: 'greater',
      method: 'asymptotic',
      continuityCorrection: false,
    });
    assertClose(plain.z, 5 / Math.sqrt(50 / 3), 1e-14);
  });

  it('uses average ranks and the tie-corrected variance (identical samples 1..5 vs 1..5)', () => {
    // Ranks 1.5, 3.5, 5.5, 7.5, 9.5 on each side: R1 = 27.5, U1 = 27.5 - 15 = 12.5.
    // Five pairs of ties: Σ(t³ - t) = 5·6 = 30; σ² = 25/12 · (11 - 30/90) = 200/9;
    // z = -0.5 / √(200/9) = -0.106066…; P(Z ≥ z) = 0.542235.
    const result = mannWhitneyU([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], { alternative: 'greater' });
    assert.equal(result.u1, 12.5);
    assert.equal(result.ties, true);
    assert.equal(result.method, 'asymptotic');
    assertClose(result.z, -0.5 / Math.sqrt(200 / 9), 1e-14);
    assert.deepEqual(
      averageRanks([1, 2, 3, 4, 5, 1, 2, 3, 4, 5]).ranks,
      [1.5, 3.5, 5.5, 7.5, 9.5, 1.5, 3.5, 5.5, 7.5, 9.5],
    );
    assert.deepEqual(averageRanks([1, 2, 3, 4, 5, 1, 2, 3, 4, 5]).tieGroups, [2, 2, 2, 2, 2]);
  });
});

describe('mannWhitneyU edge cases', () => {
  it('gives p = 1 and z = -∞ when every value is tied, with or without continuity correction', () => {
    for (const continuityCorrection of [true, false]) {
      for (const alternative of ['greater', 'less', 'two-sided'] as const) {
        const result = mannWhitneyU([5, 5, 5], [5, 5, 5, 5], { alternative, continuityCorrection });
        assert.equal(result.pValue, 1);
        assert.equal(result.z, -Infinity);
        assert.equal(result.u1, 6);
      }
    }
  });

  it('handles single-value samples (exact: P(U ≥ 1) = 1/2 for 1 vs 1)', () => {
    const result = mannWhitneyU([2], [1], { alternative: 'greater' });
    assert.equal(result.method, 'exact');
    assert.equal(result.u1, 1);
    assert.equal(result.pValue, 0.5);
  });

  it('ranks ±Infinity like any other value', () => {
    const result = mannWhitneyU([Infinity, 3], [-Infinity, 1], { alternative: 'greater' });
    assert.equal(result.u1, 4);
    assert.equal(result.ties, false);
    assertClose(result.pValue, 1 / 6, 1e-12);
  });

  it('rejects empty samples and NaN', () => {
    assert.throws(() => mannWhitneyU([], [1], { alternative: 'greater' }), /candidate sample is empty/);
    assert.throws(() => mannWhitneyU([1], [], { alternative: 'greater' }), /baseline sample is empty/);
    assert.throws(
      () => mannWhitneyU([1, Number.NaN], [2], { alternative: 'greater' }),
      /candidate sample contains NaN/,
    );
  });
});

describe('exactUSurvival', () => {
  it('is a distribution: P(U ≥ 0) = 1, P(U ≥ n1·n2 + 1) = 0, symmetric around n1·n2/2', () => {
    assert.equal(exactUSurvival(0, 4, 5), 1);
    assert.equal(exactUSurvival(21, 4, 5), 0);
    // P(U ≥ 20) = P(U = 20) = 1/126; P(U ≥ 11) = P(U ≤ 9) = 1 - P(U ≥ 10)
    assertClose(exactUSurvival(20, 4, 5), 1 / 126, 1e-14);
    assertClose(exactUSurvival(11, 4, 5), 1 - exactUSurvival(10, 4, 5), 1e-14);
    assertClose(exactUSurvival(7, 5, 4), exactUSurvival(7, 4, 5), 1e-14);
  });

  it('stays accurate far in the tail (1 / C(60, 30))', () => {
    assertClose(exactUSurvival(900, 30, 30), 1 / Number(118264581564861424n), 1e-12);
  });
});

describe('normalSurvival (scipy.special.ndtr(-z), scipy 1.17.1)', () => {
  it('matches reference values in the body and the tails', () => {
    assert.equal(normalSurvival(0), 0.5);
    assertClose(normalSurvival(1.959963984540054), 0.025, 1e-12);
    assertClose(normalSurvival(-1), 0.8413447460685429, 1e-14);
    assertClose(normalSurvival(5), 2.866515718791933e-7, 1e-12);
    assertClose(normalSurvival(10), 7.61985302416047e-24, 1e-12);
    assert.equal(normalSurvival(Infinity), 0);
    assert.equal(normalSurvival(-Infinity), 1);
  });
});

describe('effect sizes', () => {
  it('median: middle value, mean of the two middle ones, NaN when empty', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  it('relativeDifference: signed, relative to |baseline|, ±Infinity for a zero baseline', () => {
    assert.equal(relativeDifference(130, 100), 0.3);
    assert.equal(relativeDifference(80, 100), -0.2);
    assert.equal(relativeDifference(-1, -2), 0.5);
    assert.equal(relativeDifference(5, 5), 0);
    assert.equal(relativeDifference(0, 0), 0);
    assert.equal(relativeDifference(1, 0), Infinity);
    assert.equal(relativeDifference(-1, 0), -Infinity);
  });

  it('hodgesLehmannShift: the median of the pairwise differences (hand example: 4)', () => {
    // differences c - b, sorted: -4 -3 -2 -1 -1 1 1 2 2 4 | 4 4 4 5 6 7 7 9 10 12 → (4 + 4)/2
    assert.equal(hodgesLehmannShift([7, 9, 12, 15], [3, 5, 8, 10, 11]), 4);
    assert.equal(hodgesLehmannShift([10, 11, 12], [0, 1, 2]), 10);
  });
});
