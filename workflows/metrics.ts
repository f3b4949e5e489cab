// Slipway's own release metrics, recorded from workflow code through Temporal's metric meter. The
// meter is replay-safe (nothing is recorded while a history replays), so counts stay true across
// worker restarts; the worker's runtime exports them beside Temporal's own (worker/metrics.ts).
import { metricMeter } from '@temporalio/workflow';
import type { Outcome, Stage } from './status.ts';

export const METRIC_NAMES = {
  releases: 'slipway_releases',
  stageDuration: 'slipway_stage_duration_seconds',
  gateMeasurements: 'slipway_gate_measurements',
} as const;

interface ModelTags {
  namespace: string;
  model: string;
}

/** Temporal already tags workflow metrics with its own `namespace`: the model's is `model_namespace`. */
function tagsOf({ namespace, model }: ModelTags): { model_namespace: string; model: string } {
  return { model_namespace: namespace, model };
}

/** A release ended. */
export function countRelease(tags: ModelTags, outcome: Outcome): void {
  metricMeter
    .createCounter(METRIC_NAMES.releases, 'releases', 'Releases that ended, by outcome')
    .add(1, { ...tagsOf(tags), outcome });
}

/** A stage ended after `seconds` (paused and waiting time included: it is what users wait). */
export function observeStage(tags: ModelTags, stage: Stage, seconds: number): void {
  metricMeter
    .createHistogram(METRIC_NAMES.stageDuration, 'float', 's', 'Time spent in each release stage')
    .record(seconds, { ...tagsOf(tags), stage });
}

/** One gate measurement, by verdict. */
export function countGateMeasurement(tags: ModelTags, gate: string, provider: string, verdict: string): void {
  metricMeter
    .createCounter(METRIC_NAMES.gateMeasurements, 'measurements', 'Gate measurements by verdict')
    .add(1, { ...tagsOf(tags), gate, provider, verdict });
}
