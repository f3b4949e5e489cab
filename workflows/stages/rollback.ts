// rollback: what happens when something fails. In a non-cancellable scope, the compensations the
// stages recorded (compensations.ts) run by rank: traffic to 100% stable, the stable Deployment
// restored, the candidate removed, a build Job deleted, created Services and route removed. Their
// activities retry until they succeed, and Temporal replays the workflow on another worker if this
// one dies, so a rollback always finishes.
import { CancellationScope } from '@temporalio/workflow';
import type { ReleaseRun } from '../release-run.ts';

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
