// How traffic between the stable and the candidate version is controlled. One implementation per
// file (gateway-api.ts, istio.ts, replica-ratio.ts; the two with a route object share
// route-object-router.ts), chosen by the release spec's `traffic.router`.
export interface TrafficWeights {
  /** Percent of live traffic to the stable version (0..100). */
  stable: number;
  /** Percent of live traffic to the candidate (0..100); stable + canary = 100. */
  canary: number;
}

export interface TrafficState {
  weights: TrafficWeights;
  /** Percent of stable's traffic mirrored to the candidate, or null for no mirror. */
  mirrorPercent: number | null;
  /** The canary's A/B cohort (canary.cohort) goes to the candidate whatever the weights. */
  cohort?: boolean;
}

export interface TrafficRouter {
  /**
   * Sets live weights, and whether the spec's cohort goes to the candidate (routers with header
   * matches); keeps the mirror as it is. Idempotent.
   */
  setWeights(weights: TrafficWeights, options?: { cohort?: boolean }): Promise<void>;
  /** Sets or removes (null) the mirror; keeps the weights as they are. Idempotent. */
  setMirror(percent: number | null): Promise<void>;
  /** True when the routing layer has taken the weights (spec stored and, where reported, accepted). */
  verify(weights: TrafficWeights): Promise<boolean>;
  /** 100% to stable, no mirror. Idempotent; safe when nothing was set up. */
  reset(): Promise<void>;
  /** What is set now (for status and tests). */
  current(): Promise<TrafficState | undefined>;
}

export const ALL_STABLE: TrafficWeights = { stable: 100, canary: 0 };

export function weightsFor(canaryPercent: number): TrafficWeights {
  return { stable: 100 - canaryPercent, canary: canaryPercent };
}
