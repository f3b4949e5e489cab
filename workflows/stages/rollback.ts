// rollback: runs the saga's compensations (traffic → stable → candidate) in a non-cancellable
// scope. Their activities retry until they succeed, and Temporal replays the workflow on another
// worker if this one dies, so a rollback always finishes.
import { CancellationScope } from '@temporalio/workflow';
import type { ReleaseRun } from '../release-run.ts';

export async function rollbackStage(run: ReleaseRun, reason: string): Promise<string[]> {
  return CancellationScope.nonCancellable(async () => {
    run.switchStage('rollback');
    run.setPhase('RollingBack');
    run.note(`rolling back: ${reason}`);
    const errors = await run.saga.compensate((name) => {
      if (name === 'traffic') {
        run.status.weights = { stable: 100, canary: 0 };
        run.status.mirrorPercent = null;
      }
      run.note(`rollback: ${name}`);
    });
    await run.event('Warning', 'ReleaseRolledBack', `rolled back: ${reason}`);
    return errors;
  });
}
