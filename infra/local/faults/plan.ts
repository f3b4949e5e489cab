// What the apiserver fault proxy injects, and how often: one rate per fault, each a probability per
// request (watch faults: per watch stream). Seeded, so a run can be repeated. Parsed with zod from
// JSON (the proxy's `--plan` or `SLIPWAY_FAULTS`); every field has a default of "never".
import { z } from 'zod';
import { seededRandom, type Random } from '../simulator/random.ts';

const rate = z.number().min(0).max(1).default(0);

export const FaultPlan = z.strictObject({
  seed: z.int().default(1),
  /** 429 Too Many Requests with `Retry-After: throttleRetryAfterSeconds` (not on watches). */
  throttle: rate,
  throttleRetryAfterSeconds: z.int().min(0).max(60).default(1),
  /** 500 or 503 (half each) with a Kubernetes Status body (not on watches). */
  serverError: rate,
  /** The connection is reset before any answer (not on watches). */
  reset: rate,
  /** The request is held for `slowMs` before it is forwarded. */
  slow: rate,
  slowMs: z.int().min(0).max(60_000).default(500),
  /** A watch stream is cut after a random 0.2–`dropWatchAfterMs` ms. */
  dropWatch: rate,
  dropWatchAfterMs: z.int().min(200).max(600_000).default(3_000),
  /** A watch that resumes from a resourceVersion gets an ERROR event 410 Gone (Expired) and ends. */
  goneOnResume: rate,
});
export type FaultPlan = z.output<typeof FaultPlan>;

export type FaultKind = 'throttle' | 'serverError' | 'reset' | 'slow' | 'dropWatch' | 'goneOnResume';

/** What happens to one request. */
export interface Decision {
  /** Answered by the proxy, never forwarded. */
  answer?: 'throttle' | 'serverError' | 'reset' | 'goneOnResume';
  /** Held this long before it is forwarded. */
  delayMs: number;
  /** A forwarded watch is cut after this long. */
  cutAfterMs?: number;
}

export interface RequestShape {
  watch: boolean;
  /** The watch resumes from a resourceVersion (`?resourceVersion=…` on a watch). */
  resumes: boolean;
}

/** Decides each request's faults from the plan's seed (one random stream for the whole proxy). */
export class FaultDecider {
  private readonly plan: FaultPlan;
  private readonly random: Random;

  constructor(plan: FaultPlan) {
    this.plan = plan;
    this.random = seededRandom(plan.seed, 'apiserver-faults');
  }

  private hit(probability: number): boolean {
    return probability > 0 && this.random.next() < probability;
  }

  decide(request: RequestShape): Decision {
    const { plan } = this;
    const delayMs = this.hit(plan.slow) ? plan.slowMs : 0;
    if (request.watch) {
      if (request.resumes && this.hit(plan.goneOnResume)) return { answer: 'goneOnResume', delayMs };
      if (this.hit(plan.dropWatch)) {
        const cutAfterMs = Math.round(200 + this.random.next() * (plan.dropWatchAfterMs - 200));
        return { delayMs, cutAfterMs };
      }
      return { delayMs };
    }
    if (this.hit(plan.throttle)) return { answer: 'throttle', delayMs };
    if (this.hit(plan.serverError)) return { answer: 'serverError', delayMs };
    if (this.hit(plan.reset)) return { answer: 'reset', delayMs };
    return { delayMs };
  }
}
