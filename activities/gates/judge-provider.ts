// The `judge` gate provider: candidate and baseline samples (range queries) compared by the
// Mann-Whitney judge (judge.ts). Returns the judge's own verdict and a summary of both samples —
// never the samples themselves (they would bloat the workflow's history).
import type { JudgeGate } from '../../workflows/spec/index.ts';
import { judge } from './judge.ts';
import { median } from './mann-whitney.ts';
import { prometheusFor } from './prometheus.ts';
import { rangeSamples } from './prometheus-provider.ts';
import type { MeasureContext, ProviderDeps, RawMeasurement } from './provider.ts';
import { escapePromQLString, renderTemplate, templateContext } from './template.ts';

/** Count, median, mean and p90 of the finite values (null fields for an empty sample). */
export function summarizeSample(values: readonly number[]): {
  n: number;
  median: number | null;
  mean: number | null;
  p90: number | null;
} {
  const finite = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (finite.length === 0) return { n: 0, median: null, mean: null, p90: null };
  const p90 = finite[Math.min(finite.length - 1, Math.ceil(0.9 * finite.length) - 1)]!;
  return {
    n: finite.length,
    median: median(finite),
    mean: finite.reduce((s, x) => s + x, 0) / finite.length,
    p90,
  };
}

export async function measureByJudge(
  gate: JudgeGate,
  context: MeasureContext,
  deps: ProviderDeps,
): Promise<RawMeasurement> {
  const spec = gate.judge;
  const client = prometheusFor(deps, context.signal);
  const template = templateContext(context, gate);
  const candidateQuery = renderTemplate(spec.candidate, template, escapePromQLString);
  const baselineQuery = renderTemplate(spec.baseline, template, escapePromQLString);
  const at = new Date().toISOString();
  const [candidate, baseline] = await Promise.all([
    rangeSamples(client, candidateQuery, spec.range),
    rangeSamples(client, baselineQuery, spec.range),
  ]);
  // Infinite samples (a rate over nothing) are no data, like NaN.
  const finiteCandidate = candidate.filter((x) => Number.isFinite(x));
  const finiteBaseline = baseline.filter((x) => Number.isFinite(x));
  const result = judge(finiteCandidate, finiteBaseline, {
    worseIf: spec.worseIf,
    confidence: spec.confidence,
    tolerance: spec.tolerance,
    minSamples: spec.minSamples,
  });
  return {
    gate: gate.name,
    at,
    provider: 'judge',
    query: `candidate: ${candidateQuery} | baseline: ${baselineQuery}`,
    value: result.candidateMedian,
    verdict: result.verdict,
    reason: result.reason,
    details: {
      candidate: summarizeSample(finiteCandidate),
      baseline: summarizeSample(finiteBaseline),
      pValue: result.pValue,
      relativeDifference: result.relativeDifference,
      worseIf: spec.worseIf,
      confidence: spec.confidence,
      tolerance: spec.tolerance,
      minSamples: spec.minSamples,
      ...(result.test ? { method: result.test.method } : {}),
    },
  };
}
