// Listing releases from Temporal visibility (the Slipway* search attributes), one page at a time.
import type { Client } from '@temporalio/client';
import { RELEASE_WORKFLOW_TYPE, searchAttributes } from '../workflows/ids.ts';
import { ProblemError } from './errors.ts';
import { decodePageToken, encodePageToken } from './page-token.ts';
import { unavailableSentence } from './unavailable.ts';

export interface ReleaseListItem {
  releaseId: string;
  workflowId: string;
  runId: string;
  namespace?: string;
  model?: string;
  version?: string;
  stage?: string;
  outcome?: string;
  /** The workflow's execution status: Running, Completed, Failed, Terminated, … */
  status: string;
  startTime?: string;
  closeTime?: string;
}

export interface ReleaseList {
  items: ReleaseListItem[];
  nextPageToken?: string;
}

export interface ListFilters {
  namespace?: string | undefined;
  model?: string | undefined;
  stage?: string | undefined;
  outcome?: string | undefined;
  workflowId?: string | undefined;
}

const STATUS_NAMES: Record<number, string> = {
  1: 'Running',
  2: 'Completed',
  3: 'Failed',
  4: 'Canceled',
  5: 'Terminated',
  6: 'ContinuedAsNew',
  7: 'TimedOut',
};
/** Execution statuses of runs that ended without returning a ReleaseResult: their outcome is `Failed`. */
const ENDED_WITHOUT_RESULT = ['Failed', 'Canceled', 'Terminated', 'TimedOut'];

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A visibility query for the filters (values are validated by the routes and quoted here). */
export function visibilityQuery(filters: ListFilters): string {
  const clauses = [`WorkflowType = ${quote(RELEASE_WORKFLOW_TYPE)}`];
  if (filters.workflowId) clauses.push(`WorkflowId = ${quote(filters.workflowId)}`);
  if (filters.namespace) clauses.push(`${searchAttributes.namespace.name} = ${quote(filters.namespace)}`);
  if (filters.model) clauses.push(`${searchAttributes.model.name} = ${quote(filters.model)}`);
  // A run that ended without a result (failed before it could run, terminated, …) has stage `done`
  // and outcome `Failed`, whatever its search attributes still say.
  if (filters.stage === 'done') clauses.push(`ExecutionStatus != 'Running'`);
  else if (filters.stage)
    clauses.push(`${searchAttributes.stage.name} = ${quote(filters.stage)}`, `ExecutionStatus = 'Running'`);
  if (filters.outcome === 'Failed') {
    clauses.push(
      `(${searchAttributes.outcome.name} = 'Failed' OR ${ENDED_WITHOUT_RESULT.map((s) => `ExecutionStatus = ${quote(s)}`).join(' OR ')})`,
    );
  } else if (filters.outcome) clauses.push(`${searchAttributes.outcome.name} = ${quote(filters.outcome)}`);
  return clauses.join(' AND ');
}

function keyword(
  fields: Record<string, { data?: Uint8Array | null } | undefined> | null | undefined,
  name: string,
): string | undefined {
  const data = fields?.[name]?.data;
  if (!data) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(data).toString('utf8'));
    return typeof value === 'string'
      ? value
      : Array.isArray(value) && typeof value[0] === 'string'
        ? value[0]
        : undefined;
  } catch {
    return undefined;
  }
}

function isoTime(
  timestamp: { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined,
): string | undefined {
  if (!timestamp?.seconds) return undefined;
  return new Date(
    Number(timestamp.seconds.toString()) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6),
  ).toISOString();
}

export async function listReleases(
  client: Client,
  filters: ListFilters,
  page: { pageSize: number; pageToken?: string | undefined },
): Promise<ReleaseList> {
  const nextPageToken = page.pageToken ? decodePageToken(page.pageToken) : undefined;
  let response;
  try {
    response = await client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query: visibilityQuery(filters),
      pageSize: page.pageSize,
      ...(nextPageToken ? { nextPageToken } : {}),
    });
  } catch (error) {
    if (page.pageToken && !unavailableSentence(error))
      throw new ProblemError(400, 'pageToken is not a token this API gave out', {
        issues: [{ path: 'pageToken', message: 'invalid page token' }],
      });
    throw error;
  }
  const items = (response.executions ?? []).map((execution): ReleaseListItem => {
    const fields = execution.searchAttributes?.indexedFields;
    const workflowId = execution.execution?.workflowId ?? '';
    const item: ReleaseListItem = {
      releaseId: workflowId,
      workflowId,
      runId: execution.execution?.runId ?? '',
      status: STATUS_NAMES[execution.status ?? 0] ?? 'Unknown',
    };
    const values = {
      namespace: keyword(fields, searchAttributes.namespace.name),
      model: keyword(fields, searchAttributes.model.name),
      version: keyword(fields, searchAttributes.version.name),
      stage: keyword(fields, searchAttributes.stage.name),
      outcome: keyword(fields, searchAttributes.outcome.name),
      startTime: isoTime(execution.startTime),
      closeTime: isoTime(execution.closeTime),
    };
    if (ENDED_WITHOUT_RESULT.includes(item.status)) {
      values.stage = 'done';
      values.outcome = 'Failed';
    }
    // A run started without the search attributes still names its model in its workflow id.
    const [, idNamespace, idModel] = workflowId.split('/');
    values.namespace ??= idNamespace;
    values.model ??= idModel;
    for (const [key, value] of Object.entries(values))
      if (value !== undefined) (item as unknown as Record<string, string>)[key] = value;
    return item;
  });
  const token = encodePageToken(response.nextPageToken);
  return { items, ...(token ? { nextPageToken: token } : {}) };
}
