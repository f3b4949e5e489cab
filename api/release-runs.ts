// Reading one run of a release workflow from Temporal's record rather than from the workflow: its
// input (the first history event, decoded with the client's data converter) and, for a run that
// ended without a result of its own (failed, terminated, timed out, cancelled), why it ended.
import {
  WorkflowFailedError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { z } from 'zod';
import { searchAttributes } from '../workflows/ids.ts';

/** The parts of a release workflow's input the API reads back (see ReleaseInput in workflows/release.ts). */
export const RecordedReleaseInput = z.looseObject({
  spec: z.unknown(),
  submittedBy: z.string().optional(),
  retryOf: z.string().optional(),
});
export type RecordedReleaseInput = z.infer<typeof RecordedReleaseInput>;

/** Execution states of a run that ended without returning a ReleaseResult. */
export const ENDED_WITHOUT_RESULT = ['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED'] as const;

export function endedWithoutResult(description: WorkflowExecutionDescription): boolean {
  return (ENDED_WITHOUT_RESULT as readonly string[]).includes(description.status.name);
}

/** The input a run was started with, or undefined when it is not a release input. */
export async function readRunInput(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<RecordedReleaseInput | undefined> {
  const response = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const payloads = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
  if (!payloads || payloads.length === 0) return undefined;
  const decoded = await decodeFromPayloadsAtIndex<unknown>(client.options.loadedDataConverter, 0, payloads);
  const parsed = RecordedReleaseInput.safeParse(decoded);
  return parsed.success ? parsed.data : undefined;
}

export interface RunFailure {
  reason: string;
  failureType: string;
}

/** Why a run that ended without a result ended: the failure's own message and type. */
export async function readRunFailure(handle: WorkflowHandle): Promise<RunFailure> {
  try {
    await handle.result();
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    const cause = error.cause;
    if (cause instanceof ApplicationFailure)
      return { reason: cause.message, failureType: cause.type ?? 'WorkflowFailed' };
    if (cause instanceof TerminatedFailure)
      return { reason: `the workflow was terminated: ${cause.message}`, failureType: 'WorkflowTerminated' };
    if (cause instanceof TimeoutFailure)
      return { reason: 'the workflow timed out', failureType: 'WorkflowTimedOut' };
    if (cause instanceof CancelledFailure)
      return { reason: 'the workflow was cancelled', failureType: 'WorkflowCancelled' };
    return { reason: cause?.message ?? error.message, failureType: 'WorkflowFailed' };
  }
  return { reason: 'the workflow ended', failureType: 'WorkflowFailed' };
}

export interface RunIdentity {
  namespace: string;
  model: string;
  version: string;
}

/** Model, namespace and version of a run: its search attributes, else its input, else its id. */
export function runIdentity(
  description: WorkflowExecutionDescription,
  input: RecordedReleaseInput | undefined,
): RunIdentity {
  const spec = z
    .looseObject({
      namespace: z.string().optional(),
      model: z.string().optional(),
      version: z.string().optional(),
    })
    .safeParse(input?.spec);
  const fromSpec = spec.success ? spec.data : {};
  const [, idNamespace, idModel] = description.workflowId.split('/');
  const attributes = description.typedSearchAttributes;
  return {
    namespace: attributes.get(searchAttributes.namespace) ?? fromSpec.namespace ?? idNamespace ?? 'unknown',
    model: attributes.get(searchAttributes.model) ?? fromSpec.model ?? idModel ?? 'unknown',
    version: attributes.get(searchAttributes.version) ?? fromSpec.version ?? 'unknown',
  };
}
