// How a version behaves, read from its Deployment's pod template annotations (sim.slipway.dev/*).

export const ANNOTATIONS = {
  errorRate: 'sim.slipway.dev/error-rate',
  latencyMs: 'sim.slipway.dev/latency-ms',
  latencyJitter: 'sim.slipway.dev/latency-jitter',
  disagreement: 'sim.slipway.dev/disagreement',
  /** On the Deployment's own metadata (not the pod template, so changing it rolls nothing). */
  requestsPerSecond: 'sim.slipway.dev/requests-per-second',
} as const;

export interface Behaviour {
  /** Fraction of requests answered 500, 0..1. */
  errorRate: number;
  /** Median latency in milliseconds of a log-normal distribution. */
  latencyMedianMs: number;
  /** Sigma of the log-normal (spread); 0 = constant latency. */
  latencySigma: number;
  /** For mirrored requests: fraction of predictions that differ from stable's, 0..1. */
  disagreement: number;
}

export const DEFAULT_BEHAVIOUR: Behaviour = {
  errorRate: 0,
  latencyMedianMs: 50,
  latencySigma: 0.25,
  disagreement: 0,
};

export interface ParsedBehaviour {
  behaviour: Behaviour;
  /** Annotations that could not be read (their default was used instead). */
  problems: string[];
}

function readNumber(
  annotations: Record<string, string>,
  key: string,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  const raw = annotations[key];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    problems.push(`${key}=${JSON.stringify(raw)} is not a number in [${min}, ${max}]; using ${fallback}`);
    return fallback;
  }
  return value;
}

export function parseBehaviour(annotations: Record<string, string> | undefined): ParsedBehaviour {
  const a = annotations ?? {};
  const problems: string[] = [];
  const d = DEFAULT_BEHAVIOUR;
  return {
    behaviour: {
      errorRate: readNumber(a, ANNOTATIONS.errorRate, d.errorRate, 0, 1, problems),
      latencyMedianMs: readNumber(a, ANNOTATIONS.latencyMs, d.latencyMedianMs, 0, 600_000, problems),
      latencySigma: readNumber(a, ANNOTATIONS.latencyJitter, d.latencySigma, 0, 5, problems),
      disagreement: readNumber(a, ANNOTATIONS.disagreement, d.disagreement, 0, 1, problems),
    },
    problems,
  };
}

/** The per-model request rate override, or undefined when absent or unreadable. */
export function parseRequestRate(annotations: Record<string, string> | undefined): number | undefined {
  const raw = annotations?.[ANNOTATIONS.requestsPerSecond];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 && value <= 100_000 ? value : undefined;
}
