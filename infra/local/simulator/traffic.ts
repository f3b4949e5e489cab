// The request stream: every tick, each model receives its share of requests (rate × elapsed time),
// split between the tracks by the current route weights or ready replicas (smooth weighted
// round-robin, so an 80/20 route gives exactly 4 stable requests for each canary one), answered
// as each version's annotations say, and recorded in the metrics. Stable's requests are mirrored to
// the canary at the route's mirror fraction, counted as mirrored="true". While the route has a rule
// matching by header (an A/B cohort), `cohortFraction` of the requests carry those headers: they
// take that rule (counted as cohort="true"), the others the weighted rule.
import type { Logger } from 'pino';
import type { Behaviour } from './behaviour.ts';
import type { RequestLabels, SimulatorMetrics } from './metrics.ts';
import { TRACKS, type DeploymentView, type ModelObjects, type Track } from './objects.ts';
import { seededRandom, type Random } from './random.ts';
import { computeSplit, splitKey, type Split } from './traffic-split.ts';

/** A tick never makes up for more than this much lost time (a stalled event loop). */
const MAX_CATCH_UP_SECONDS = 2;

export interface TrafficOptions {
  requestsPerSecond: number;
  /** Share of requests that carry the cohort's headers while a route matches by header (0..1). */
  cohortFraction: number;
  seed: number;
  metrics: SimulatorMetrics;
  logger: Logger;
}

interface Counts {
  requests: number;
  errors: number;
  unavailable: number;
}

interface ModelState {
  random: Random;
  /** Fractional requests carried over to the next tick. */
  due: number;
  /** Smooth weighted round-robin credit per track. */
  credit: Record<Track, number>;
  /** Credit towards the next mirrored request. */
  mirrorCredit: number;
  /** Credit towards the next cohort request, and the cohort's round-robin credit per track. */
  cohortCredit: number;
  cohortTrackCredit: Record<Track, number>;
  split: Split;
  key: string;
  /** Wall-clock time (ms) since which the current split applies. */
  since: number;
  /** Requests since the current split applied. */
  counts: Record<Track, Counts> & { mirrored: Counts };
}

export interface ModelReport {
  namespace: string;
  model: string;
  requestsPerSecond: number;
  split: {
    source: Split['source'];
    /** Percent of the primary stream per track. */
    stable: number;
    canary: number;
    /** Percent of stable's requests mirrored to the canary. */
    mirror: number;
    since: string;
  };
  route: { name: string; generation: number; resourceVersion: string } | null;
  tracks: Partial<
    Record<Track, { deployment: string; version: string; readyReplicas: number; behaviour: Behaviour }>
  >;
  countsSinceSplit: ModelState['counts'];
  warnings: string[];
}

const emptyCounts = (): ModelState['counts'] => ({
  stable: { requests: 0, errors: 0, unavailable: 0 },
  canary: { requests: 0, errors: 0, unavailable: 0 },
  mirrored: { requests: 0, errors: 0, unavailable: 0 },
});

/** Per-tick batch of one label set: codes counted, durations collected. */
class Batch {
  readonly codes = new Map<number, number>();
  readonly durations: number[] = [];
  readonly labels: RequestLabels;
  constructor(labels: RequestLabels) {
    this.labels = labels;
  }
  add(code: number, seconds: number | undefined): void {
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    if (seconds !== undefined) this.durations.push(seconds);
  }
}

interface Answer {
  code: number;
  /** Undefined when no pod answered (503 for want of ready replicas). */
  seconds: number | undefined;
}

function answer(deployment: DeploymentView | undefined, random: Random): Answer {
  if (!deployment || deployment.readyReplicas <= 0) return { code: 503, seconds: undefined };
  const b = deployment.behaviour;
  const code = b.errorRate > 0 && random.next() < b.errorRate ? 500 : 200;
  const ms = b.latencySigma > 0 ? random.logNormal(b.latencyMedianMs, b.latencySigma) : b.latencyMedianMs;
  return { code, seconds: Math.max(ms, 0.01) / 1000 };
}

function count(counts: Counts, a: Answer): void {
  counts.requests++;
  if (a.code === 503 && a.seconds === undefined) counts.unavailable++;
  else if (a.code >= 500) counts.errors++;
}

export interface TrafficGenerator {
  /** Generates the requests due at `nowMs` (a monotonic clock) for the given models. */
  tick(models: readonly ModelObjects[], nowMs: number): void;
  report(): ModelReport[];
}

export function createTrafficGenerator(options: TrafficOptions): TrafficGenerator {
  const { metrics, logger } = options;
  const states = new Map<string, ModelState>();
  let latest: readonly ModelObjects[] = [];
  let lastTick: number | undefined;

  const rateOf = (m: ModelObjects): number =>
    m.deployments.stable?.requestsPerSecond ??
    m.deployments.canary?.requestsPerSecond ??
    options.requestsPerSecond;

  function stateFor(m: ModelObjects, split: Split, key: string): ModelState {
    let state = states.get(m.key);
    if (!state) {
      state = {
        random: seededRandom(options.seed, m.key),
        due: 0,
        credit: { stable: 0, canary: 0 },
        mirrorCredit: 0,
        cohortCredit: 0,
        cohortTrackCredit: { stable: 0, canary: 0 },
        split,
        key,
        since: Date.now(),
        counts: emptyCounts(),
      };
      states.set(m.key, state);
      logger.info({ model: m.key, split: describe(split) }, 'model appeared');
    } else if (state.key !== key) {
      logger.info({ model: m.key, from: describe(state.split), to: describe(split) }, 'split changed');
      Object.assign(state, {
        split,
        key,
        since: Date.now(),
        credit: { stable: 0, canary: 0 },
        mirrorCredit: 0,
        cohortCredit: 0,
        cohortTrackCredit: { stable: 0, canary: 0 },
        counts: emptyCounts(),
      });
    }
    return state;
  }

  function generate(m: ModelObjects, state: ModelState, requests: number): void {
    const { shares, mirror, cohort } = state.split;
    const labels = (track: Track, mirrored: boolean, inCohort = false): RequestLabels => ({
      namespace: m.namespace,
      model: m.model,
      version: m.deployments[track]?.version ?? 'none',
      track,
      mirrored,
      cohort: inCohort,
    });
    const batches = {
      stable: new Batch(labels('stable', false)),
      canary: new Batch(labels('canary', false)),
      mirrored: new Batch(labels('canary', true)),
      cohortStable: new Batch(labels('stable', false, true)),
      cohortCanary: new Batch(labels('canary', false, true)),
    };
    let predictions = 0;
    let disagreements = 0;
    for (let i = 0; i < requests; i++) {
      if (cohort && options.cohortFraction > 0) {
        state.cohortCredit += options.cohortFraction;
        if (state.cohortCredit >= 1) {
          state.cohortCredit -= 1;
          for (const t of TRACKS) state.cohortTrackCredit[t] += cohort[t];
          const track: Track =
            state.cohortTrackCredit.stable >= state.cohortTrackCredit.canary ? 'stable' : 'canary';
          state.cohortTrackCredit[track] -= 1;
          const answered = answer(m.deployments[track], state.random);
          batches[track === 'stable' ? 'cohortStable' : 'cohortCanary'].add(answered.code, answered.seconds);
          count(state.counts[track], answered);
          continue;
        }
      }
      // Smooth weighted round-robin: every track earns its share, the richest one serves.
      for (const t of TRACKS) state.credit[t] += shares[t];
      const track: Track = state.credit.stable >= state.credit.canary ? 'stable' : 'canary';
      state.credit[track] -= 1;
      const primary = answer(m.deployments[track], state.random);
      batches[track].add(primary.code, primary.seconds);
      count(state.counts[track], primary);

      if (track !== 'stable' || mirror <= 0) continue;
      state.mirrorCredit += mirror;
      if (state.mirrorCredit < 1) continue;
      state.mirrorCredit -= 1;
      const canary = m.deployments.canary;
      const shadow = answer(canary, state.random);
      batches.mirrored.add(shadow.code, shadow.seconds);
      count(state.counts.mirrored, shadow);
      if (primary.code === 200 && shadow.code === 200 && canary) {
        predictions++;
        if (canary.behaviour.disagreement > 0 && state.random.next() < canary.behaviour.disagreement)
          disagreements++;
      }
    }
    for (const batch of Object.values(batches)) {
      for (const [code, n] of batch.codes) metrics.requests(batch.labels, code, n);
      if (m.deployments[batch.labels.track]?.behaviour.latencyHistogram !== false)
        metrics.durations(batch.labels, batch.durations);
    }
    const canaryVersion = m.deployments.canary?.version;
    if (predictions > 0 && canaryVersion)
      metrics.shadow(m.namespace, m.model, canaryVersion, predictions, disagreements);
  }

  return {
    tick(models, nowMs) {
      const elapsed = lastTick === undefined ? 0 : Math.min((nowMs - lastTick) / 1000, MAX_CATCH_UP_SECONDS);
      lastTick = nowMs;
      latest = models;
      const present = new Set<string>();
      for (const m of models) {
        present.add(m.key);
        const split = computeSplit(m);
        const state = stateFor(m, split, splitKey(split));
        state.due += rateOf(m) * elapsed;
        const requests = Math.floor(state.due);
        state.due -= requests;
        if (requests > 0) generate(m, state, requests);
      }
      for (const [key, state] of states) {
        if (present.has(key)) continue;
        states.delete(key);
        const [namespace = '', model = ''] = key.split('/');
        metrics.removeModel(namespace, model);
        logger.info({ model: key, lastSplit: describe(state.split) }, 'model gone');
      }
      metrics.setModels(states.size);
    },
    report() {
      return latest.flatMap((m): ModelReport[] => {
        const state = states.get(m.key);
        if (!state) return [];
        const split = state.split;
        const tracks: ModelReport['tracks'] = {};
        const problems: string[] = [];
        for (const t of TRACKS) {
          const d = m.deployments[t];
          if (!d) continue;
          tracks[t] = {
            deployment: d.name,
            version: d.version,
            readyReplicas: d.readyReplicas,
            behaviour: d.behaviour,
          };
          problems.push(...d.problems.map((p) => `${d.name}: ${p}`));
        }
        return [
          {
            namespace: m.namespace,
            model: m.model,
            requestsPerSecond: rateOf(m),
            split: {
              source: split.source,
              stable: round(split.shares.stable * 100),
              canary: round(split.shares.canary * 100),
              mirror: round(split.mirror * 100),
              since: new Date(state.since).toISOString(),
            },
            route: m.route
              ? {
                  name: m.route.name,
                  generation: m.route.generation,
                  resourceVersion: m.route.resourceVersion,
                }
              : null,
            tracks,
            countsSinceSplit: state.counts,
            warnings: [...split.warnings, ...problems],
          },
        ];
      });
    },
  };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

function describe(split: Split): string {
  const pct = (x: number) => `${round(x * 100)}%`;
  return `${split.source} stable ${pct(split.shares.stable)} canary ${pct(split.shares.canary)} mirror ${pct(split.mirror)}`;
}
