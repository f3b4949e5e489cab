// The status views' source on Temporal: DescribeWorkflowExecution (answered by Temporal from the
// run's state, no worker involved) for where a run is, the status query (through a worker) only
// when a read is needed, and GetWorkflowExecutionHistory long-polls (waitNewEvent) to learn of
// new events as they are written. Every call is counted in StatusCalls.
import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { ProblemError } from './errors.ts';
import { readDescribedRun } from './release-status.ts';
import type { StatusCalls } from './status-calls.ts';
import type { Position } from './status-position.ts';
import type { HistoryPage, StatusSource } from './status-source.ts';

/** Events per history page: a follower's first poll reads the run's history so far. */
const PAGE_SIZE = 1000;

type HistoryResponse = Awaited<ReturnType<Client['workflowService']['getWorkflowExecutionHistory']>>;
type HistoryEvent = NonNullable<NonNullable<HistoryResponse['history']>['events']>[number];

function positionOf(description: WorkflowExecutionDescription): Position {
  return {
    runId: description.runId,
    startMs: description.startTime.getTime(),
    length: description.historyLength,
    closed: description.status.name !== 'RUNNING',
  };
}

function closes(event: HistoryEvent): boolean {
  return Boolean(
    event.workflowExecutionCompletedEventAttributes ??
    event.workflowExecutionFailedEventAttributes ??
    event.workflowExecutionTimedOutEventAttributes ??
    event.workflowExecutionCanceledEventAttributes ??
    event.workflowExecutionTerminatedEventAttributes ??
    event.workflowExecutionContinuedAsNewEventAttributes,
  );
}

/** The state of a workflow changes only when a workflow task completes (queries never change it), or when the run closes. */
function changesState(event: HistoryEvent): boolean {
  return Boolean(event.workflowTaskCompletedEventAttributes) || closes(event);
}

function eventId(event: HistoryEvent): number {
  const id = event.eventId;
  return typeof id === 'number' ? id : id ? id.toNumber() : 0;
}

export function readHistoryPage(response: HistoryResponse): HistoryPage {
  const events = response.history?.events ?? [];
  let lastEventId = 0;
  let lastChangeId = 0;
  let closed = false;
  for (const event of events) {
    const id = eventId(event);
    lastEventId = Math.max(lastEventId, id);
    if (changesState(event)) lastChangeId = Math.max(lastChangeId, id);
    if (closes(event)) closed = true;
  }
  const token = response.nextPageToken;
  return { lastEventId, lastChangeId, closed, next: token && token.length > 0 ? token : undefined };
}

export function temporalStatusSource(client: Client, calls: StatusCalls): StatusSource {
  return {
    async describe(workflowId, name, runId, signal) {
      calls.count('describe');
      const handle = client.workflow.getHandle(workflowId, runId);
      let description: WorkflowExecutionDescription;
      try {
        description = await (signal
          ? client.connection.withAbortSignal(signal, () => handle.describe())
          : handle.describe());
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) throw new ProblemError(404, `no release of ${name}`);
        throw error;
      }
      return {
        position: positionOf(description),
        read: (signal) => readDescribedRun(client, description, name, signal, calls),
      };
    },
    async poll(workflowId, runId, from, signal) {
      calls.count('history');
      const response = await client.connection.withAbortSignal(signal, () =>
        client.workflowService.getWorkflowExecutionHistory({
          namespace: client.options.namespace,
          execution: { workflowId, runId },
          maximumPageSize: PAGE_SIZE,
          waitNewEvent: true,
          skipArchival: true,
          ...(from ? { nextPageToken: from } : {}),
        }),
      );
      return readHistoryPage(response);
    },
  };
}
