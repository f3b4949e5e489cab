// Reading the status of a model's current or latest release: the workflow's status query while it
// runs or after it completed; for a run that ended without a result (failed before its query
// existed, terminated, timed out, cancelled) a `Failed` status built from Temporal's record.
// `readReleaseStatus` is one reader's read (describe and query at once); `readDescribedRun` reads a
// run already described, for the shared status views (status-views.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import {
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { statusQuery } from '../workflows/messages.ts';
import type { release } from '../workflows/release.ts';
import type { ReleaseStatus } from '../workflows/status.ts';
import { endedReleaseView, type ReleaseView } from './ended-release.ts';
import { ProblemError } from './errors.ts';
import { endedWithoutResult, readRunFailure, readRunInput, runIdentity } from './release-runs.ts';
import type { StatusCalls } from './status-calls.ts';
import { temporalUnreachable } from './unavailable.ts';

/** How long a status query of an ended run may take (a worker replays the run to answer it). */
const ENDED_QUERY_MS = 3_000;

type Queried = { status: ReleaseStatus } | { error: unknown };

function query(
  client: Client,
  handle: WorkflowHandle<typeof release>,
  signal: AbortSignal,
  calls: StatusCalls | undefined,
): Promise<Queried> {
  calls?.count('query');
  return client.connection
    .withAbortSignal(signal, () => handle.query(statusQuery))
    .then(
      (status) => ({ status }),
      (error: unknown) => ({ error }),
    );
}

export async function readReleaseStatus(
  client: Client,
  handle: WorkflowHandle<typeof release>,
  name: string,
  calls?: StatusCalls,
): Promise<ReleaseView> {
  // A query this read stops waiting for (an ended run's answer is late) is cancelled when the read
  // ends, not left running after the response went out.
  const abandon = new AbortController();
  try {
    return await readStatus(client, handle, name, abandon.signal, calls);
  } finally {
    abandon.abort();
  }
}

async function readStatus(
  client: Client,
  handle: WorkflowHandle<typeof release>,
  name: string,
  signal: AbortSignal,
  calls: StatusCalls | undefined,
): Promise<ReleaseView> {
  // The query and the description at once: one round trip for a running release.
  const querying = query(client, handle, signal, calls);
  let description;
  try {
    calls?.count('describe');
    description = await handle.describe();
  } catch (error) {
    // The query is let finish (it fails as the description did): a call still retrying after the
    // response would outlive the request, and a connection closed meanwhile throws from its retry timer.
    await querying;
    if (error instanceof WorkflowNotFoundError) throw new ProblemError(404, `no release of ${name}`);
    throw error;
  }
  return statusOfRun(client, description, name, querying, calls);
}

/**
 * The status of the described run, by its status query issued now (so it answers for the run at
 * least as far along as described); `signal` cancels a query still running when the caller stops.
 */
export function readDescribedRun(
  client: Client,
  description: WorkflowExecutionDescription,
  name: string,
  signal: AbortSignal,
  calls?: StatusCalls,
): Promise<ReleaseView> {
  const run = client.workflow.getHandle<typeof release>(description.workflowId, description.runId);
  return statusOfRun(client, description, name, query(client, run, signal, calls), calls);
}

async function statusOfRun(
  client: Client,
  description: WorkflowExecutionDescription,
  name: string,
  querying: Promise<Queried>,
  calls: StatusCalls | undefined,
): Promise<ReleaseView> {
  const run = client.workflow.getHandle<typeof release>(description.workflowId, description.runId);
  if (endedWithoutResult(description)) {
    calls?.count('history'); // the input
    calls?.count('history'); // the failure
    const [input, failure, queried] = await Promise.all([
      readRunInput(client, description.workflowId, description.runId).catch(() => undefined),
      readRunFailure(run),
      // A run that failed after its handlers were registered still knows its timeline; one that
      // failed before has no status query, and a worker may not be there to say so quickly.
      Promise.race([querying, sleep(ENDED_QUERY_MS, { error: 'no answer' }, { ref: false })]),
    ]);
    return endedReleaseView({
      description,
      identity: runIdentity(description, input),
      input,
      failure,
      queried: 'status' in queried ? queried.status : undefined,
    });
  }
  const queried = await querying;
  if ('status' in queried) return queried.status;
  if (description.status.name === 'COMPLETED') {
    // A completed release with no worker to answer queries: its result is the record.
    calls?.count('history');
    const result = await run.result();
    return { ...result, stage: 'done', phase: result.outcome.result } satisfies ReleaseView;
  }
  throw new ProblemError(
    503,
    temporalUnreachable(queried.error) ??
      `the status of ${name} cannot be read right now (no worker answered its status query); try again shortly`,
  );
}

export type { ReleaseStatus, ReleaseView };
