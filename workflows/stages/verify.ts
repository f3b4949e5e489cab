// verify (promote.verify): after the promotion the new stable is measured for a while longer. Its
// gates run for `duration` on the stable track; a failure (or an abort) rolls the stable back to
// the previous version — the `stable` compensation stays recorded until the verification passes —
// and the release ends RolledBack, never Promoted. Promote-now does not shorten it; a person's pause
// stops its clock.
import { patched } from '@temporalio/workflow';
import type { ReleaseRun } from '../release-run.ts';
import { whileWatched } from './gates.ts';

/** Whether this release verifies after its promotion. */
export function verifiesAfterPromotion(run: ReleaseRun): boolean {
  // Added after releases were running (only specs with promote.verify reach the patch).
  return run.spec.promote?.verify !== undefined && patched('post-promotion-verify');
}

export async function verifyStage(run: ReleaseRun, previous: string | undefined): Promise<void> {
  const verify = run.spec.promote?.verify;
  if (!verify) return;
  // The candidate is gone: there is nothing left to watch but the gates.
  run.candidateUid = undefined;
  const back = previous === undefined ? 'removes it' : `rolls back to ${previous}`;
  run.note(
    `verifying ${run.spec.version} on the stable track for ${verify.duration.text} (gates ${verify.gates.join(', ')}); a failure ${back}`,
  );
  await whileWatched(run, verify.gates, () => run.hold(verify.duration.ms, () => false, false), {
    holdMs: verify.duration.ms,
  });
  run.compensations.settled('stable');
  run.note(`${run.spec.version} verified for ${verify.duration.text}`);
}
