// How a version behaves, read from its Deployment's pod template annotations (sim.slipway.dev/*).

export const ANNOTATIONS = {
  errorRate: 'sim.slipway.dev/error-rate',
  latencyMs: 'sim.slipway.dev/latency-ms',
  latencyJitter: 'sim.slipway.dev/latency-jitter',
  disagreement: 'sim.slipway.dev/disagreement',
  /** `off`: the version exports no latency histogram (22 buckets per series; at 1,000 models its
   * text made /metrics too slow for Prometheus's 1 s scrape timeout on two cores). */
  latencyHistogram: 'sim.slipway.dev/latency-histogram',
  /**
   * On the Deployment's own metadata (changing it there rolls nothing), or on the pod template,
   * which is where a release spec's `serving.annotations` go.
   */
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
  /** Whether answered requests are observed in model_request_duration_seconds. */
  latencyHistogram: boolean;
}

export const DEFAULT_BEHAVIOUR: Behaviour = {
  errorRate: 0,
  latencyMedianMs: 50,
  latencySigma: 0.25,
  disagreement: 0,
  latencyHistogram: true,
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

function readSwitch(
  annotations: Record<string, string>,
  key: string,
  fallback: boolean,
  problems: string[],
): boolean {
  const raw = annotations[key];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (raw === 'on' || raw === 'off') return raw === 'on';
  problems.push(`${key}=${JSON.stringify(raw)} is neither on nor off; using ${fallback ? 'on' : 'off'}`);
  return fallback;
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
      latencyHistogram: readSwitch(a, ANNOTATIONS.latencyHistogram, d.latencyHistogram, problems),
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
