// Who may schedule a release's promotion, beyond the `approve` permission: a schedule promotes past
// the release's approvals, so it is an approval. Under separation of duties (the installation's or
// the namespace's policy, which the release reports in `status.policy`) the release's submitter may
// not set one; and there must be a running release to promote.
import { ProblemError } from './errors.ts';
import type { ReleaseView } from './ended-release.ts';

/** Throws the ProblemError (403, 409) that forbids `subject` to schedule this release's promotion. */
export function assertMaySchedulePromotion(status: ReleaseView, subject: string): void {
  const name = `${status.namespace}/${status.model}`;
  if (status.outcome || status.stage === 'done') {
    throw new ProblemError(
      409,
      `the release of ${name} has ended: there is no release to schedule a promotion for`,
    );
  }
  if (status.stage === 'rollback')
    throw new ProblemError(409, `the release of ${name} is rolling back: it will not be promoted`);
  if (status.policy?.separationOfDuties === true && status.submittedBy === subject) {
    throw new ProblemError(
      403,
      `separation of duties: ${subject} submitted the release of ${name} (${status.version}) and may not schedule its promotion, which skips its approvals`,
    );
  }
}
