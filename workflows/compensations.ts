// What happens when something fails, in one place. Each stage records here what it changed, as it
// changes it; when a stage throws, release.ts calls `rollbackStage` (at the end of this file), which
// runs the recorded compensations by rank in a non-cancellable scope — users off the candidate
// first, then the stable Deployment as it was, then what the release created removed:
//
//   rank 10  traffic          100% to stable, no mirror          (status: weights 100/0, no mirror)
//   rank 20  stable           the stable Deployment restored exactly, its rollout awaited
//   rank 30  candidate        the candidate Deployment deleted
//   rank 40  build-job        the build Job deleted (an abort during build)
//   rank 50  created-objects  Services and route object that did not exist before the release, deleted
//
// Their activities retry until they succeed (see `compensation` in activities.ts), so a rollback
// always finishes, also on another worker after a crash (Temporal replays the records).
import { CancellationScope, log } from '@temporalio/workflow';
import type { RestoreOptions, StableSnapshot } from '../activities/kubernetes/deployments.ts';
import { compensation } from './activities.ts';
import type { ReleaseRun } from './release-run.ts';
import type { ReleaseSpec } from './spec/index.ts';
import { routeKind, routeName, routerOf } from './spec/reading.ts';
import type { ReleaseStatus } from './status.ts';

export type CompensationName = 'traffic' | 'stable' | 'candidate' | 'build-job' | 'created-objects';

const RANK: Record<CompensationName, number> = {
  traffic: 10,
  stable: 20,
  candidate: 30,
  'build-job': 40,
  'created-objects': 50,
};

interface Compensation {
  name: CompensationName;
  /** What it does, for the timeline. */
  says: string;
  undo: () => Promise<void>;
  /** What it changes in the status once done. */
  effect?: (status: ReleaseStatus) => void;
}

/** The objects of a release that existed before it started (the rest it created). */
export interface ObjectsBefore {
  services: string[];
  route: boolean;
}

export class Compensations {
  private readonly recorded = new Map<CompensationName, Compensation>();
  private readonly spec: ReleaseSpec;
  private readonly awaitStableRollout: () => Promise<unknown>;

  constructor(spec: ReleaseSpec, awaitStableRollout: () => Promise<unknown>) {
    this.spec = spec;
    this.awaitStableRollout = awaitStableRollout;
  }

  // ---- what the stages record ----------------------------------------------------------------

  /** The route (or replica ratio) may move traffic to the candidate from now on. */
  trafficMayMove(): void {
    const { spec } = this;
    this.record({
      name: 'traffic',
      says: 'traffic back to 100% stable, no mirror',
      undo: () => compensation.resetTraffic({ spec }),
      effect: (status) => {
        status.weights = { stable: 100, canary: 0 };
        status.mirrorPercent = null;
      },
    });
  }

  /**
   * The stable Deployment is about to change: put it back as `snapshot` recorded it. A rolling
   * update (`pauseFirst`) is paused before it is restored; a recreate (`oneVersionAtATime`) is
   * restored with strategy Recreate, then given its recorded strategy back once the old version runs.
   */
  stableMayChange(snapshot: StableSnapshot, options: RestoreOptions = {}): void {
    const { spec } = this;
    const how = options.oneVersionAtATime
      ? ' (re-created: one version at a time, no version serves until it is ready)'
      : options.pauseFirst
        ? ' (rollout paused, then the previous template restored)'
        : '';
    const restore = () =>
      options.pauseFirst || options.oneVersionAtATime
        ? compensation.restoreStable({ spec, snapshot, options })
        : compensation.restoreStable({ spec, snapshot });
    this.record({
      name: 'stable',
      says: snapshot.exists
        ? `stable Deployment restored to ${snapshot.version ?? 'its previous template'}${how}`
        : 'stable Deployment deleted (there was none before)',
      undo: async () => {
        await restore();
        if (!snapshot.exists) return;
        await this.awaitStableRollout().catch(() => undefined);
        // The same template again: only the strategy changes, no pod restarts.
        if (options.oneVersionAtATime && snapshot.strategy?.type !== 'Recreate')
          await compensation.restoreStable({ spec, snapshot });
      },
    });
  }

  /** The candidate Deployment exists (or is about to). */
  candidateMayExist(): void {
    const { spec } = this;
    this.record({
      name: 'candidate',
      says: 'candidate Deployment removed',
      undo: () => compensation.removeCandidate({ spec }),
    });
  }

  /** A build Job is about to run. */
  buildJobMayRun(name: string): void {
    const { namespace } = this.spec;
    this.record({
      name: 'build-job',
      says: `build Job ${name} deleted`,
      undo: () => compensation.deleteJob({ namespace, name }),
    });
  }

  /** The release may create its Services and route: those absent in `before` go on rollback. */
  objectsMayBeCreated(before: ObjectsBefore): void {
    const { spec } = this;
    // An adopted Deployment's release makes no `<model>` Service (that name may be the user's own).
    const names = spec.serving.deploymentRef === undefined ? [spec.model] : [];
    const services = [...names, `${spec.model}-stable`, `${spec.model}-canary`].filter(
      (name) => !before.services.includes(name),
    );
    const route = routerOf(spec).routeObject && !before.route;
    if (services.length === 0 && !route) return;
    const routeObject = `${routeKind(spec) ?? 'route'} ${routeName(spec) ?? spec.model}`;
    const what = [...services.map((s) => `Service ${s}`), ...(route ? [routeObject] : [])].join(', ');
    this.record({
      name: 'created-objects',
      says: `removed what this release created: ${what}`,
      undo: () => compensation.removeReleaseObjects({ spec, services, route }),
    });
  }

  /** Nothing to undo any more for `name` (e.g. the build Job finished, the promotion took). */
  settled(...names: CompensationName[]): void {
    for (const name of names) this.recorded.delete(name);
  }

  // ---- what the rollback runs ----------------------------------------------------------------

  /**
   * Runs every recorded compensation by rank. A failing one is logged and the rest still run; the
   * errors are returned (their activities retry until they succeed, so this is the exception).
   */
  async undoAll(status: ReleaseStatus, note: (message: string) => void): Promise<string[]> {
    const errors: string[] = [];
    for (const c of this.ordered()) {
      try {
        await c.undo();
        c.effect?.(status);
        note(`rollback: ${c.says}`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log.error('compensation failed', { compensation: c.name, error: message });
        errors.push(`${c.name}: ${message}`);
      }
    }
    this.recorded.clear();
    return errors;
  }

  private record(c: Compensation): void {
    this.recorded.set(c.name, c);
  }

  private ordered(): Compensation[] {
    return [...this.recorded.values()].sort((a, b) => RANK[a.name] - RANK[b.name]);
  }
}

/**
 * The rollback stage: in a non-cancellable scope (an abort cannot interrupt it), every recorded
 * compensation runs by rank; if the worker dies meanwhile, Temporal replays the workflow on another
 * worker and the rollback goes on. Returns the compensations' errors (reported in the outcome).
 */
export async function rollbackStage(run: ReleaseRun, reason: string): Promise<string[]> {
  return CancellationScope.nonCancellable(async () => {
    run.conditions.clear();
    run.switchStage('rollback');
    run.note(`rolling back: ${reason}`);
    const errors = await run.compensations.undoAll(run.status, (message) => run.note(message));
    await run.event('Warning', 'ReleaseRolledBack', `rolled back: ${reason}`);
    return errors;
  });
}
