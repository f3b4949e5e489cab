// What every router that applies one route object (an HTTPRoute, a VirtualService) does the same
// way: weights, mirror and the header route are parts of one state; changing one part reads the
// object and applies it again with the other parts as they are. A router says only how it reads
// (`current`), writes (`apply`) and verifies its object.
import { ALL_STABLE, type TrafficRouter, type TrafficState, type TrafficWeights } from './router.ts';

export abstract class RouteObjectRouter implements TrafficRouter {
  abstract current(): Promise<TrafficState | undefined>;
  abstract verify(weights: TrafficWeights): Promise<boolean>;
  /** Applies the whole state (server-side apply of the route object). */
  protected abstract apply(state: TrafficState): Promise<void>;

  async setWeights(weights: TrafficWeights, options: { cohort?: boolean } = {}): Promise<void> {
    const now = await this.current();
    await this.apply({ weights, mirrorPercent: now?.mirrorPercent ?? null, cohort: options.cohort ?? false });
  }

  async setMirror(percent: number | null): Promise<void> {
    const now = await this.current();
    await this.apply({
      weights: now?.weights ?? ALL_STABLE,
      mirrorPercent: percent,
      cohort: now?.cohort ?? false,
    });
  }

  async reset(): Promise<void> {
    await this.apply({ weights: ALL_STABLE, mirrorPercent: null });
  }
}
