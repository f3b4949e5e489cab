// What the API does with Temporal and the cluster: start releases (one active per model), dry-run
// them, read their status and history, send them updates. Temporal errors become ProblemErrors.
import { ApplicationFailure } from '@temporalio/common';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { createKubernetesActivities } from '../activities/kubernetes/activities.ts';
import type { KubernetesClients } from '../activities/kubernetes/clients.ts';
import { RELEASE_WORKFLOW_TYPE, releaseWorkflowId, searchAttributes } from '../workflows/ids.ts';
import { abortUpdate, approveUpdate, pauseUpdate, promoteUpdate, rejectUpdate, resumeUpdate, statusQuery } from '../workflows/messages.ts';
import type { release, ReleaseResult } from '../workflows/release.ts';
import type { ReleaseSpec } from '../workflows/spec/index.ts';
import type { ReleaseStatus } from '../workflows/status.ts';
import { ProblemError } from './errors.ts';
import { listReleases, type ReleaseList } from './release-list.ts';

export interface ReleaseServiceDeps {
  client: Client;
  taskQueue: string;
  separationOfDuties: boolean;
  kubernetes: KubernetesClients;
}

export interface StartedRelease {
  releaseId: string;
  workflowId: string;
  runId: string;
  namespace: string;
  model: string;
  version: string;
  links: { self: string; events: string; history: string };
}

export const ACTIONS = { approve: approveUpdate, reject: rejectUpdate, pause: pauseUpdate, resume: resumeUpdate, abort: abortUpdate, promote: promoteUpdate } as const;
export type Action = keyof typeof ACTIONS;

const SUPERSEDE_WAIT_MS = 120_000;

function linksFor(namespace: string, model: string) {
  const self = `/v1/releases/${namespace}/${model}`;
  return { self, events: `${self}/events`, history: `${self}/history` };
}

/** The message of the deepest cause (an update validator's reason, an activity's failure). */
function rootMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

function isClosedWorkflowError(error: unknown): boolean {
  return /workflow execution already completed|workflow is not running|already completed/i.test(rootMessage(error));
}

export class ReleaseService {
  private readonly deps: ReleaseServiceDeps;

  constructor(deps: ReleaseServiceDeps) {
    this.deps = deps;
  }

  private handle(namespace: string, model: string): WorkflowHandle<typeof release> {
    return this.deps.client.workflow.getHandle<typeof release>(releaseWorkflowId(namespace, model));
  }

  /** Renders the release's objects and server-side dry-runs them, with the capacity check. */
  async dryRun(spec: ReleaseSpec): Promise<{ dryRun: true; valid: true; objects: Array<{ kind: string; name: string; namespace: string }>; capacity: unknown }> {
    const kube = createKubernetesActivities(this.deps.kubernetes);
    try {
      const result = await kube.preflight({ releaseId: 'dry-run', spec });
      const objects = result.objects.map((ref) => {
        const [kind = '', name = ''] = ref.split('/');
        return { kind, name, namespace: spec.namespace };
      });
      return { dryRun: true, valid: true, objects, capacity: result.capacity };
    } catch (error) {
      if (error instanceof ApplicationFailure) throw new ProblemError(422, `the cluster refuses this release: ${error.message}`, { extra: { failureType: error.type } });
      throw new ProblemError(503, `the cluster could not be asked: ${rootMessage(error)}`);
    }
  }

  /** The running release of the model, if any (its version and id), for a 409. */
  private async running(namespace: string, model: string): Promise<{ version?: string; runId: string } | undefined> {
    try {
      const description = await this.handle(namespace, model).describe();
      if (description.status.name !== 'RUNNING') return undefined;
      const version = description.typedSearchAttributes.get(searchAttributes.version);
      return { runId: description.runId, ...(version ? { version } : {}) };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  async start(spec: ReleaseSpec, submittedBy: string, options: { supersede: boolean }): Promise<StartedRelease> {
    const { namespace, model, version } = spec;
    if (options.supersede) {
      const active = await this.running(namespace, model);
      if (active) {
        const handle = this.handle(namespace, model);
        await handle
          .executeUpdate(abortUpdate, { args: [{ actor: submittedBy, comment: `superseded by ${version}` }] })
          .catch((error: unknown) => {
            // Already rolling back or ended: waiting for the end is all that is left.
            if (!(error instanceof WorkflowUpdateFailedError) && !isClosedWorkflowError(error)) throw error;
          });
        const ended = await Promise.race([
          handle.result().then(() => true, () => true),
          new Promise<false>((resolve) => setTimeout(() => resolve(false), SUPERSEDE_WAIT_MS)),
        ]);
        if (!ended) throw new ProblemError(409, `the active release of ${namespace}/${model} (${active.version ?? 'unknown version'}) is still rolling back; try again shortly`);
      }
    }
    const workflowId = releaseWorkflowId(namespace, model);
    try {
      const handle = await this.deps.client.workflow.start<typeof release>(RELEASE_WORKFLOW_TYPE, {
        taskQueue: this.deps.taskQueue,
        workflowId,
        workflowIdConflictPolicy: 'FAIL',
        args: [{ spec, submittedBy, separationOfDuties: this.deps.separationOfDuties }],
        typedSearchAttributes: [
          { key: searchAttributes.model, value: model },
          { key: searchAttributes.namespace, value: namespace },
          { key: searchAttributes.version, value: version },
          { key: searchAttributes.stage, value: 'build' },
        ],
      });
      return { releaseId: workflowId, workflowId, runId: handle.firstExecutionRunId, namespace, model, version, links: linksFor(namespace, model) };
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        const active = await this.running(namespace, model);
        throw new ProblemError(409, `${namespace}/${model} already has an active release${active?.version ? ` (${active.version})` : ''}: wait for it, abort it, or start with ?supersede=true`, {
          extra: { activeRelease: { workflowId, ...(active ?? {}) } },
        });
      }
      throw error;
    }
  }

  /** The status of the model's current or latest release. */
  async status(namespace: string, model: string): Promise<ReleaseStatus | (ReleaseResult & { stage: 'done' })> {
    const handle = this.handle(namespace, model);
    try {
      return await handle.query(statusQuery);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new ProblemError(404, `no release of ${namespace}/${model}`);
      // A closed release with no worker to answer queries: its result is the record.
      const description = await handle.describe().catch(() => undefined);
      if (!description) throw new ProblemError(404, `no release of ${namespace}/${model}`);
      if (description.status.name === 'COMPLETED') return { ...(await handle.result()), stage: 'done' };
      throw new ProblemError(503, `the release's status cannot be read right now: ${rootMessage(error)}`);
    }
  }

  async act(namespace: string, model: string, action: Action, actor: { actor: string; comment?: string | undefined }): Promise<ReleaseStatus> {
    const handle = this.handle(namespace, model);
    const input = { actor: actor.actor, ...(actor.comment ? { comment: actor.comment } : {}) };
    try {
      // Each update's input type is Actor or RejectInput; reject's comment is checked by the route.
      return await handle.executeUpdate(ACTIONS[action] as typeof approveUpdate, { args: [input] });
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) {
        // Updates to a closed workflow answer "not found": tell an ended release from none at all.
        const ended = await handle.describe().then((d) => d.status.name !== 'RUNNING', () => false);
        throw ended ? new ProblemError(409, `the release of ${namespace}/${model} has ended`) : new ProblemError(404, `no release of ${namespace}/${model}`);
      }
      if (error instanceof WorkflowUpdateFailedError) throw new ProblemError(422, `${action} refused: ${rootMessage(error)}`);
      if (isClosedWorkflowError(error)) throw new ProblemError(409, `the release of ${namespace}/${model} has ended`);
      throw error;
    }
  }

  list(filters: { namespace?: string | undefined; model?: string | undefined; stage?: string | undefined; outcome?: string | undefined }, page: { pageSize: number; pageToken?: string | undefined }): Promise<ReleaseList> {
    return listReleases(this.deps.client, filters, page);
  }

  history(namespace: string, model: string, page: { pageSize: number; pageToken?: string | undefined }): Promise<ReleaseList> {
    return listReleases(this.deps.client, { workflowId: releaseWorkflowId(namespace, model) }, page);
  }
}
