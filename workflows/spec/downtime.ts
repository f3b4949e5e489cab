// The downtime a recreate should cost at most, from what the spec says about the pods: the old ones
// stop (at most terminationGracePeriodSeconds), then a new one must start (its startup probe's
// budget) and pass its readiness probe (one period after its initial delay), then stay ready for
// minReadySeconds. Image pulls and model loads are not in the spec: a startup probe is how a model
// server says how long it may take. Pure (the workflow says it in the status while it happens).
import type { ReleaseSpec } from './release-spec.ts';
import { servingContainerIndex } from './serving-lookup.ts';

/** Kubernetes' defaults for what the spec leaves out. */
const DEFAULT_GRACE_SECONDS = 30;
const DEFAULT_PERIOD_SECONDS = 10;
const DEFAULT_FAILURE_THRESHOLD = 3;

interface ProbeTiming {
  initialDelaySeconds?: number | undefined;
  periodSeconds?: number | undefined;
  failureThreshold?: number | undefined;
}

export interface ExpectedDowntime {
  /** The upper bound, in whole seconds. */
  seconds: number;
  /** What it is made of, in words. */
  because: string;
}

export function expectedDowntime(spec: ReleaseSpec): ExpectedDowntime {
  const { serving } = spec;
  const template = serving.template;
  const container = template?.spec?.containers?.[servingContainerIndex(serving)];
  const startup: ProbeTiming | undefined = serving.probes?.startup ?? container?.startupProbe;
  const readiness: ProbeTiming | undefined = serving.probes?.readiness ?? container?.readinessProbe;
  const grace = template?.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
  const startupBudget = startup
    ? (startup.initialDelaySeconds ?? 0) +
      (startup.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD) *
        (startup.periodSeconds ?? DEFAULT_PERIOD_SECONDS)
    : 0;
  const firstReady = readiness
    ? (readiness.initialDelaySeconds ?? 0) + (readiness.periodSeconds ?? DEFAULT_PERIOD_SECONDS)
    : 0;
  const minReady = serving.minReadySeconds ?? 0;
  const parts = [
    `the old pods stop (terminationGracePeriodSeconds ${grace})`,
    ...(startupBudget > 0 ? [`the new pod starts (startup probe up to ${startupBudget}s)`] : []),
    ...(firstReady > 0 ? [`passes readiness (${firstReady}s)`] : []),
    ...(minReady > 0 ? [`stays ready for minReadySeconds ${minReady}`] : []),
  ];
  return {
    seconds: grace + startupBudget + firstReady + minReady,
    because: `${parts.join(', then ')}; pulling the image and loading the model add to it unless the startup probe covers them`,
  };
}
