// The verdict of a judge gate (Kayenta-like): is the candidate worse than the baseline? Pure.
//
// - NaN samples are dropped (no data). With fewer than `minSamples` values left on either side the
//   verdict is 'inconclusive' and `noData` is true (the gate's onNoData then decides what it means).
// - The one-sided Mann-Whitney U test (mann-whitney.ts) asks whether the candidate is
//   stochastically higher (worseIf 'higher', e.g. latency) or lower (worseIf 'lower', e.g. accuracy)
//   than the baseline; it is significant when p < 1 - confidence.
// - The size of the regression is the relative difference of the medians,
//   (candidate - baseline) / |baseline| (0.3 = 30% higher), counted in the worse direction.
// - 'fail' only when the test is significant AND the regression exceeds `tolerance` (strictly):
//   a real but small regression passes, and so does a large but noisy difference. Otherwise 'pass'.
// The reason names the medians, the relative difference, the tolerance, p and the sample sizes.
import { mannWhitneyU, median, relativeDifference, type MannWhitneyMethod } from './mann-whitney.ts';

export interface JudgeOptions {
  /** 'higher': a higher candidate is worse (latency, errors); 'lower': a lower one (accuracy). */
  worseIf: 'higher' | 'lower';
  /** Confidence of the one-sided test, in (0, 1): 0.95 → significant when p < 0.05. */
  confidence: number;
  /** The relative regression of the median tolerated (≥ 0): 0.25 = up to 25% worse passes. */
  tolerance: number;
  /** Fewer values than this on either side (after dropping NaN) → inconclusive. At least 1. */
  minSamples: number;
  /** Mann-Whitney method: 'auto' (default, scipy's rule), 'exact' or 'asymptotic'. */
  method?: MannWhitneyMethod;
  /** Continuity correction of the normal approximation (default true). */
  continuityCorrection?: boolean;
}

export interface JudgeResult {
  verdict: 'pass' | 'fail' | 'inconclusive';
  /** A sentence naming the numbers behind the verdict. */
  reason: string;
  /** The one-sided p-value; null when the test did not run (not enough data). */
  pValue: number | null;
  /** Medians of the values kept; null for a side without any. */
  candidateMedian: number | null;
  baselineMedian: number | null;
  /**
   * (candidate - baseline) / |baseline| of the medians; null when a median is missing; ±Infinity
   * when the baseline median is 0 (JSON turns that into null: the reason says it in words).
   */
  relativeDifference: number | null;
  /** Values kept (NaN dropped). */
  n1: number;
  n2: number;
  /** NaN values dropped from the candidate and baseline samples. */
  dropped: { candidate: number; baseline: number };
  /** True when the verdict is inconclusive for lack of data. */
  noData: boolean;
  /** The Mann-Whitney details when the test ran. */
  test?: {
    u1: number;
    u2: number;
    /** null when infinite (all values tied). */ z: number | null;
    method: 'exact' | 'asymptotic';
    alternative: 'greater' | 'less';
    alpha: number;
  };
}

/** A number for a sentence: 4 significant digits, no float noise. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  return String(Number(x.toPrecision(4)));
}

function formatPercent(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'infinitely' : 'minus infinitely';
  return `${formatNumber(x * 100)}%`;
}

function formatP(p: number): string {
  return p !== 0 && p < 1e-4 ? p.toExponential(1) : formatNumber(p);
}

function checkOptions(o: JudgeOptions): void {
  if (!(o.confidence > 0 && o.confidence < 1))
    throw new RangeError(`judge: confidence must be in (0, 1), got ${o.confidence}`);
  if (!(o.tolerance >= 0)) throw new RangeError(`judge: tolerance must be ≥ 0, got ${o.tolerance}`);
  if (!(Number.isInteger(o.minSamples) && o.minSamples >= 1))
    throw new RangeError(`judge: minSamples must be an integer ≥ 1, got ${o.minSamples}`);
}

/** Compares candidate with baseline samples; see the top of this file for the rules. */
export function judge(
  candidate: readonly number[],
  baseline: readonly number[],
  options: JudgeOptions,
): JudgeResult {
  checkOptions(options);
  const c = candidate.filter((x) => !Number.isNaN(x));
  const b = baseline.filter((x) => !Number.isNaN(x));
  const dropped = { candidate: candidate.length - c.length, baseline: baseline.length - b.length };
  const candidateMedian = c.length > 0 ? median(c) : null;
  const baselineMedian = b.length > 0 ? median(b) : null;
  const relDiff =
    candidateMedian !== null && baselineMedian !== null
      ? relativeDifference(candidateMedian, baselineMedian)
      : null;
  const common = {
    candidateMedian,
    baselineMedian,
    relativeDifference: relDiff,
    n1: c.length,
    n2: b.length,
    dropped,
  };
  const droppedNote =
    dropped.candidate + dropped.baseline > 0
      ? ` (NaN values ignored: ${dropped.candidate} candidate, ${dropped.baseline} baseline)`
      : '';

  if (c.length < options.minSamples || b.length < options.minSamples) {
    const emptyNote = (side: string, kept: number, total: number): string =>
      kept === 0 && total > 0 ? `; every ${side} value is NaN` : kept === 0 ? `; no ${side} samples` : '';
    return {
      verdict: 'inconclusive',
      reason:
        `not enough data: ${c.length} candidate and ${b.length} baseline samples, at least ${options.minSamples} each needed` +
        emptyNote('candidate', c.length, candidate.length) +
        emptyNote('baseline', b.length, baseline.length) +
        (dropped.candidate + dropped.baseline > 0 && c.length > 0 && b.length > 0 ? droppedNote : ''),
      pValue: null,
      ...common,
      noData: true,
    };
  }

  const alternative = options.worseIf === 'higher' ? 'greater' : 'less';
  // 1 - 0.95 is 0.05000000000000004 in floating point: round so that p = 0.05 is not < α = 0.05.
  const alpha = Number((1 - options.confidence).toPrecision(12));
  const mw = mannWhitneyU(c, b, {
    alternative,
    ...(options.method ? { method: options.method } : {}),
    ...(options.continuityCorrection === undefined
      ? {}
      : { continuityCorrection: options.continuityCorrection }),
  });
  const significant = mw.pValue < alpha;
  const cm = candidateMedian as number;
  const bm = baselineMedian as number;
  const rd = relDiff as number;
  // How much worse the candidate's median is, relative to the baseline's (negative = better).
  const regression = options.worseIf === 'higher' ? rd : -rd;
  const regressed = regression > options.tolerance;

  const direction =
    rd === 0 ? 'equal to' : rd > 0 ? `${formatPercent(rd)} higher than` : `${formatPercent(-rd)} lower than`;
  const medians =
    rd === 0
      ? `candidate median ${formatNumber(cm)} is equal to baseline median ${formatNumber(bm)}`
      : `candidate median ${formatNumber(cm)} is ${direction} baseline median ${formatNumber(bm)}`;
  const worse = options.worseIf === 'higher' ? 'higher' : 'lower';
  const confidence = `${formatNumber(options.confidence * 100)}% confidence`;
  const test = `one-sided Mann-Whitney p = ${formatP(mw.pValue)} ${significant ? '<' : '≥'} ${formatNumber(alpha)}, n = ${c.length} vs ${b.length}`;
  const tolerance = `tolerance ${formatPercent(options.tolerance)}`;

  let verdict: 'pass' | 'fail';
  let reason: string;
  if (significant && regressed) {
    verdict = 'fail';
    reason = `${medians}: worse beyond the ${tolerance}, significant at ${confidence} (${test})`;
  } else if (significant) {
    verdict = 'pass';
    reason =
      regression > 0
        ? `${medians}: significantly ${worse} at ${confidence} but within the ${tolerance} (${test})`
        : `${medians}: significantly ${worse} by rank at ${confidence} but not worse in median (${tolerance}; ${test})`;
  } else {
    verdict = 'pass';
    reason = `candidate not significantly ${worse} than baseline at ${confidence}: ${medians} (${tolerance}; ${test})`;
  }
  return {
    verdict,
    reason: reason + droppedNote,
    pValue: mw.pValue,
    ...common,
    noData: false,
    test: {
      u1: mw.u1,
      u2: mw.u2,
      z: Number.isFinite(mw.z) ? mw.z : null,
      method: mw.method,
      alternative,
      alpha,
    },
  };
}
