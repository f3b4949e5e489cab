// Stub activities for workflow unit tests: a tiny model of the cluster (which version runs on which
// track, the traffic weights and mirror) and the list of calls made, in order.
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Activities } from '../../activities/index.ts';
import type { StableSnapshot } from '../../activities/kubernetes/deployments.ts';
import { createSpecActivities } from '../../activities/release-spec.ts';
import { FailureType } from '../../workflows/failures.ts';
import { routerOf } from '../../workflows/spec/index.ts';

export interface StubOptions {
  /** The version serving before the release, or null for a first release. */
  stableVersion: string | null;
  /** Gate values by gate name: a function of the measurement's index (0, 1, …). null = no data. */
  gateValues?: Record<string, (index: number) => number | null>;
  /** Make a rollout fail, by track. */
  rolloutFails?: Partial<Record<'stable' | 'canary', string>>;
  preflightFails?: string;
  jobFails?: string;
  /** Milliseconds a rollout takes (real time). */
  rolloutMs?: number;
  /** Milliseconds a Job takes (real time; heartbeats meanwhile). */
  jobMs?: number;
  /** What a provider reports beyond a value (a judge's or failed Job's own verdict), by gate; overrides gateValues. */
  gateResults?: Record<string, (index: number) => StubMeasurement>;
  /** Provider errors by gate (thrown by the activity: Temporal retries, then the gate is inconclusive). */
  gateErrors?: Record<string, (index: number) => string | undefined>;
  /** Build-gate scores recorded on the stable Deployment. */
  stableQualityScores?: Record<string, number>;
  /** What the installation and namespace say (releasePolicy). */
  separationOfDuties?: boolean;
  /** Which of the release's Services (and the route) existed before it. Default: all of them when a stable exists. */
  objectsBefore?: { services: string[]; route: boolean };
  /**
   * Run candidate watches (real time: the time-skipping server does not skip while an activity
   * runs). Off by default: the watch then fails at once and the workflow goes on without it.
   */
  watchCandidate?: boolean;
  /** The promotion's capacity re-check refuses, with this reason. */
  promotionDoesNotFit?: string;
  /** How many times removing the candidate fails (retryably) before it works. */
  removeCandidateFailures?: number;
  /** Provider misconfiguration by gate (a non-retryable GateMisconfigured from the activity). */
  gateMisconfigured?: Record<string, string>;
  /** The stable's template changed outside Slipway (the drift captureStableState reports). */
  stableDrift?: string;
  /** The stable is an adopted Deployment; `unchanged`: the spec changes nothing in it. */
  adopted?: { unchanged: boolean };
}

export interface StubMeasurement {
  value: number | null;
  verdict?: 'pass' | 'fail' | 'inconclusive';
  reason?: string;
  details?: Record<string, unknown>;
}

export interface FakeCluster {
  stable: string | null;
  candidate: string | null;
  weights: { stable: number; canary: number };
  mirror: number | null;
  /** The scores annotation the stable Deployment carries. */
  stableQualityScores?: Record<string, number>;
  /** The candidate Deployment's uid (a new one on each deploy). */
  candidateUid?: string;
  /** The candidate's available pods. */
  candidateAvailable: number;
  /** Services and route of the release that exist. */
  objects: { services: string[]; route: boolean };
  /** Build Jobs that exist, by name. */
  jobs: string[];
  /** The route sends the spec's header matches (cohort, preview) to the candidate. */
  headerRoute?: boolean;
}

export function stubActivities(options: StubOptions) {
  const calls: string[] = [];
  /** The reasons of the Kubernetes Events recorded, in order. */
  const events: string[] = [];
  const measurements: Record<string, number> = {};
  const cluster: FakeCluster = {
    stable: options.stableVersion,
    candidate: null,
    weights: { stable: 100, canary: 0 },
    mirror: null,
    candidateAvailable: 0,
    objects:
      options.objectsBefore ??
      (options.stableVersion === null
        ? { services: [], route: false }
        : { services: ['fraud-detector', 'fraud-detector-stable', 'fraud-detector-canary'], route: true }),
    jobs: [],
    ...(options.stableQualityScores ? { stableQualityScores: options.stableQualityScores } : {}),
  };
  const recordScores = (scores: Record<string, number> | undefined) => {
    if (scores) cluster.stableQualityScores = scores;
    else delete cluster.stableQualityScores;
  };
  /** Every measurement, by gate, in order (as the workflow asked for them). */
  const measurementIds: string[] = [];
  /** The `windowSeconds` each measurement was asked with, in order. */
  const windows: Array<number | undefined> = [];
  const measureStub = ({
    gate,
    measurementId,
    windowSeconds,
  }: {
    gate: string;
    measurementId: string;
    windowSeconds?: number | undefined;
  }) => {
    measurementIds.push(measurementId);
    windows.push(windowSeconds);
    const index = measurements[gate] ?? 0;
    measurements[gate] = index + 1;
    const error = options.gateErrors?.[gate]?.(index);
    if (error) throw new Error(error);
    const misconfigured = options.gateMisconfigured?.[gate];
    if (misconfigured) throw ApplicationFailure.nonRetryable(misconfigured, FailureType.GateMisconfigured);
    const result = options.gateResults?.[gate]?.(index) ?? {
      value: options.gateValues?.[gate]?.(index) ?? null,
    };
    return {
      gate,
      at: new Date().toISOString(),
      provider: 'prometheus' as const,
      query: `stub(${gate})`,
      ...result,
    };
  };
  const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  let deploys = 0;
  /** Wakes candidate watches: the test changed the candidate. */
  let candidateChanged: () => void = () => undefined;
  const candidateLoss = (uid: string, minAvailable: number): string | undefined => {
    if (cluster.candidate === null || cluster.candidateUid === undefined) return 'was deleted';
    if (cluster.candidateUid !== uid) return 'was replaced';
    if (cluster.candidateAvailable < minAvailable) return `has ${cluster.candidateAvailable} available pods`;
    return undefined;
  };
  /** What a person does to the candidate by hand: delete it, or scale it to `available` pods. */
  const touchCandidate = (change: { delete?: boolean; available?: number }) => {
    if (change.delete) {
      cluster.candidate = null;
      delete cluster.candidateUid;
    }
    if (change.available !== undefined) cluster.candidateAvailable = change.available;
    candidateChanged();
  };

  const activities: Partial<Activities> = {
    // Parsing the spec is pure: the real one (not a call on the cluster, so not in `calls`).
    ...createSpecActivities(),
    async preflight() {
      calls.push('preflight');
      if (options.preflightFails)
        throw ApplicationFailure.nonRetryable(options.preflightFails, FailureType.DryRunFailed);
      return { objects: ['Deployment/x'], capacity: { fits: true, reasons: [], placeablePods: 1 } };
    },
    async checkCapacity({ phase }) {
      calls.push(`checkCapacity:${phase}`);
      if (options.promotionDoesNotFit && phase === 'promotion') {
        throw ApplicationFailure.nonRetryable(
          `the promotion does not fit: ${options.promotionDoesNotFit}`,
          FailureType.InsufficientCapacity,
        );
      }
      return { fits: true, reasons: [], placeablePods: 1, wantedPods: 1 };
    },
    async captureStableState(): Promise<StableSnapshot> {
      calls.push('captureStableState');
      if (cluster.stable === null) return { exists: false, autoscaled: false };
      return {
        exists: true,
        version: cluster.stable,
        replicas: 2,
        autoscaled: false,
        template: { metadata: { labels: { v: cluster.stable } } },
        ...(cluster.stableQualityScores ? { qualityScores: cluster.stableQualityScores } : {}),
        ...(options.stableDrift ? { drift: { changedBy: 'helm', message: options.stableDrift } } : {}),
        ...(options.adopted
          ? { adopted: { name: 'fraud', selector: { app: 'fraud' }, unchanged: options.adopted.unchanged } }
          : {}),
      };
    },
    async ensureServices({ spec }) {
      calls.push('ensureServices');
      cluster.objects.services = [spec.model, `${spec.model}-stable`, `${spec.model}-canary`];
    },
    async deployCandidate({ spec }) {
      calls.push('deployCandidate');
      if (cluster.candidate === null) cluster.candidateUid = `uid-${++deploys}`;
      cluster.candidate = spec.version;
      cluster.candidateAvailable = 2;
      return { uid: cluster.candidateUid ?? '' };
    },
    async observeCandidate() {
      calls.push('observeCandidate');
      if (cluster.candidate === null || cluster.candidateUid === undefined) return { exists: false };
      const n = cluster.candidateAvailable;
      return {
        exists: true,
        uid: cluster.candidateUid,
        replicas: 2,
        readyReplicas: n,
        availableReplicas: n,
        deleting: false,
      };
    },
    async watchCandidate({ uid, minAvailable }) {
      calls.push('watchCandidate');
      if (!options.watchCandidate)
        throw ApplicationFailure.nonRetryable('candidate watches are off in this test', 'WatchUnavailable');
      const signal = Context.current().cancellationSignal;
      for (;;) {
        const lost = candidateLoss(uid, minAvailable);
        if (lost) return { reason: `the candidate Deployment fraud-detector-canary ${lost}` };
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1_000);
          candidateChanged = () => (clearTimeout(timer), resolve());
          signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
        if (signal.aborted) throw new CancelledFailure('candidate watch cancelled');
        Context.current().heartbeat();
      }
    },
    async releasePolicy() {
      calls.push('releasePolicy');
      return { separationOfDuties: options.separationOfDuties ?? false };
    },
    async releaseObjectsPresent() {
      calls.push('releaseObjectsPresent');
      return { services: [...cluster.objects.services], route: cluster.objects.route };
    },
    async removeReleaseObjects({ services, route }) {
      calls.push(`removeReleaseObjects:${[...services, ...(route ? ['route'] : [])].join(',')}`);
      cluster.objects = {
        services: cluster.objects.services.filter((s) => !services.includes(s)),
        route: cluster.objects.route && !route,
      };
    },
    async deleteJob({ name }) {
      calls.push('deleteJob');
      cluster.jobs = cluster.jobs.filter((j) => j !== name);
    },
    async adoptStable({ spec }) {
      calls.push('adoptStable');
      cluster.stable = spec.version;
    },
    async deployStable({ spec, qualityScores }) {
      calls.push('deployStable');
      cluster.stable = spec.version;
      recordScores(qualityScores);
    },
    async waitForRollout({ track }) {
      calls.push(`waitForRollout:${track}`);
      if (options.rolloutMs) await delay(options.rolloutMs);
      const failure = options.rolloutFails?.[track];
      if (failure) throw ApplicationFailure.nonRetryable(failure, FailureType.RolloutFailed);
      return `${track} rolled out`;
    },
    async restoreStable({ snapshot, options: how }) {
      const named = Object.keys(how ?? {}).filter((k) => how?.[k as keyof typeof how]);
      calls.push(named.length ? `restoreStable:${named.join(',')}` : 'restoreStable');
      cluster.stable = snapshot.exists ? (snapshot.version ?? null) : null;
      recordScores(snapshot.qualityScores);
    },
    async removeCandidate() {
      calls.push('removeCandidate');
      if ((options.removeCandidateFailures ?? 0) > calls.filter((c) => c === 'removeCandidate').length - 1) {
        throw ApplicationFailure.retryable('the apiserver answered 503', FailureType.ClusterUnavailable);
      }
      cluster.candidate = null;
    },
    async runJob(request) {
      calls.push('runJob');
      if (!cluster.jobs.includes(request.name)) cluster.jobs.push(request.name);
      for (let waited = 0; waited < (options.jobMs ?? 0); waited += 200) {
        Context.current().heartbeat();
        await delay(200);
        if (Context.current().cancellationSignal.aborted) throw new CancelledFailure('job wait cancelled');
      }
      if (options.jobFails) throw ApplicationFailure.nonRetryable(options.jobFails, FailureType.JobFailed);
      return { succeeded: true, reason: 'Complete', terminationMessage: `{"job":"${request.name}"}` };
    },
    async recordEvent({ reason }: { reason: string }) {
      events.push(reason);
    },
    async setTrafficWeights({ spec, weights, cohort }) {
      calls.push(`setTrafficWeights:${weights.canary}`);
      if (routerOf(spec).routeObject) cluster.objects.route = true;
      cluster.weights = weights;
      cluster.headerRoute = cohort ?? false;
    },
    async verifyTrafficWeights({ weights }) {
      return cluster.weights.canary === weights.canary;
    },
    async setMirror({ percent }) {
      calls.push(`setMirror:${percent ?? 'off'}`);
      cluster.mirror = percent;
    },
    async resetTraffic() {
      calls.push('resetTraffic');
      cluster.weights = { stable: 100, canary: 0 };
      cluster.mirror = null;
      cluster.headerRoute = false;
    },
    async currentTraffic() {
      return { weights: cluster.weights, mirrorPercent: cluster.mirror };
    },
    async measureGate(input) {
      return measureStub(input);
    },
    async deletePromotionSchedule() {
      return false;
    },
    async runJobGate(input) {
      calls.push(`runJobGate:${input.gate}`);
      return measureStub(input);
    },
  };
  return { activities, calls, events, cluster, measurementIds, windows, measurements, touchCandidate };
}
