// The simulator's Prometheus metrics: what a model server would export, per version and track.
// Series of a model are removed when the model goes away (its pods would be gone too).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Track } from './objects.ts';

/** Buckets from 5 ms to 5 s, denser where model latencies usually are. */
export const LATENCY_BUCKETS = [
  0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5,
  2, 3, 5,
];

export interface RequestLabels {
  namespace: string;
  model: string;
  version: string;
  track: Track;
  mirrored: boolean;
  /** The request carried the A/B cohort's headers (the route has a rule matching them). */
  cohort: boolean;
}

export interface SimulatorMetrics {
  registry: Registry;
  /** Records `count` requests answered with `code`. */
  requests(labels: RequestLabels, code: number, count: number): void;
  /** Observes one duration (seconds) per answered request. */
  durations(labels: RequestLabels, seconds: readonly number[]): void;
  shadow(namespace: string, model: string, version: string, predictions: number, disagreements: number): void;
  setModels(count: number): void;
  tick(lagSeconds: number): void;
  /** Forgets every series of a model. */
  removeModel(namespace: string, model: string): void;
}

type Labels = Record<string, string>;

export function createMetrics(): SimulatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'simulator_' });
  const requestsTotal = new Counter({
    name: 'model_requests_total',
    help: 'Requests answered by the model, by version, track, status code, whether they were mirrored and whether they carried the A/B cohort header.',
    labelNames: ['namespace', 'model', 'version', 'track', 'code', 'mirrored', 'cohort'],
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: 'model_request_duration_seconds',
    help: 'Time the model took to answer, by version and track.',
    labelNames: ['namespace', 'model', 'version', 'track', 'mirrored', 'cohort'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const shadowPredictions = new Counter({
    name: 'model_shadow_predictions_total',
    help: 'Mirrored requests both stable and the candidate answered, by candidate version.',
    labelNames: ['namespace', 'model', 'version'],
    registers: [registry],
  });
  const shadowDisagreements = new Counter({
    name: 'model_shadow_disagreements_total',
    help: "Mirrored requests whose candidate prediction differed from stable's, by candidate version.",
    labelNames: ['namespace', 'model', 'version'],
    registers: [registry],
  });
  const models = new Gauge({
    name: 'simulator_models',
    help: 'Models the simulator generates traffic for.',
    registers: [registry],
  });
  const tickLag = new Histogram({
    name: 'simulator_tick_lag_seconds',
    help: 'How late a generation tick ran compared to its schedule.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });

  // Label sets written per model (namespace/model), so they can be removed with the model.
  const written = new Map<string, Map<string, { metric: Counter | Histogram; labels: Labels }>>();
  const remember = (name: string, metric: Counter | Histogram, labels: Labels) => {
    const key = `${labels.namespace}/${labels.model}`;
    let series = written.get(key);
    if (!series) {
      series = new Map();
      written.set(key, series);
    }
    const id = `${name}|${JSON.stringify(labels)}`;
    if (!series.has(id)) series.set(id, { metric, labels });
  };
  const base = (l: RequestLabels): Labels => ({
    namespace: l.namespace,
    model: l.model,
    version: l.version,
    track: l.track,
    mirrored: String(l.mirrored),
    cohort: String(l.cohort),
  });

  return {
    registry,
    requests(l, code, count) {
      if (count <= 0) return;
      const labels = { ...base(l), code: String(code) };
      requestsTotal.inc(labels, count);
      remember('requests', requestsTotal, labels);
    },
    durations(l, seconds) {
      if (seconds.length === 0) return;
      const labels = base(l);
      const child = requestDuration.labels(labels);
      for (const s of seconds) child.observe(s);
      remember('duration', requestDuration, labels);
    },
    shadow(namespace, model, version, predictions, disagreements) {
      const labels = { namespace, model, version };
      // Both counters are written together so a ratio of them never lacks its denominator.
      shadowPredictions.inc(labels, predictions);
      shadowDisagreements.inc(labels, disagreements);
      remember('predictions', shadowPredictions, labels);
      remember('disagreements', shadowDisagreements, labels);
    },
    setModels(count) {
      models.set(count);
    },
    tick(lagSeconds) {
      tickLag.observe(lagSeconds);
    },
    removeModel(namespace, model) {
      const key = `${namespace}/${model}`;
      for (const { metric, labels } of written.get(key)?.values() ?? []) metric.remove(labels);
      written.delete(key);
    },
  };
}
