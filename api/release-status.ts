// Reading the status of a model's current or latest release: the workflow's status query while it
// runs or after it completed; for a run that ended without a result (failed before its query
// existed, terminated, timed out, cancelled) a `Failed` status built from Temporal's record.
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../workflows/messages.ts';
import type { release } from '../workflows/release.ts';
import type { ReleaseStatus } from '../workflows/status.ts';
import { endedReleaseView, type ReleaseView } from './ended-release.ts';
import { ProblemError } from './errors.ts';
import { endedWithoutResult, readRunFailure, readRunInput, runIdentity } from './release-runs.ts';
import { temporalUnreachable } from './unavailable.ts';

/** How long a status query of an ended run may take (a worker replays the run to answer it). */
const ENDED_QUERY_MS = 3_000;

export async function readReleaseStatus(
  client: Client,
  handle: WorkflowHandle<typeof release>,
  name: string,
): Promise<ReleaseView> {
  let description;
  try {
    description = await handle.describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new ProblemError(404, `no release of ${name}`);
    throw error;
  }
  if (endedWithoutResult(description)) {
    const run = client.workflow.getHandle<typeof release>(description.workflowId, description.runId);
    const [input, failure, queried] = await Promise.all([
      readRunInput(client, description.workflowId, description.runId).catch(() => undefined),
      readRunFailure(run),
      // A run that failed after its handlers were registered still knows its timeline.
      client.withDeadline(Date.now() + ENDED_QUERY_MS, () => run.query(statusQuery)).catch(() => undefined),
    ]);
    return endedReleaseView({
      description,
      identity: runIdentity(description, input),
      input,
      failure,
      queried,
    });
  }
  const run = client.workflow.getHandle<typeof release>(description.workflowId, description.runId);
  try {
    return await run.query(statusQuery);
  } catch (error) {
    if (description.status.name === 'COMPLETED') {
      // A completed release with no worker to answer queries: its result is the record.
      const result = await run.result();
      return { ...result, stage: 'done', phase: result.outcome.result } satisfies ReleaseView;
    }
    throw new ProblemError(
      503,
      temporalUnreachable(error) ??
        `the status of ${name} cannot be read right now (no worker answered its status query); try again shortly`,
    );
  }
}

export type { ReleaseStatus, ReleaseView };
