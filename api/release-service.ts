// What the API does with Temporal and the cluster: start releases (one active per model) after the
// same preflight as a dry-run, retry a release that did not make it, read their status and history,
// send them updates. Temporal errors become ProblemErrors.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { KubernetesClients } from '../activities/kubernetes/clients.ts';
import { RELEASE_WORKFLOW_TYPE, releaseWorkflowId, searchAttributes } from '../workflows/ids.ts';
import {
  abortUpdate,
  approveUpdate,
  pauseUpdate,
  promoteUpdate,
  rejectUpdate,
  resumeUpdate,
} from '../workflows/messages.ts';
import type { release, ReleaseInput } from '../workflows/release.ts';
import { validateReleaseSpec, type ReleaseSpec } from '../workflows/spec/index.ts';
import type { ReleaseStatus } from '../workflows/status.ts';
import type { ReleaseAction } from '../workflows/vocabulary.ts';
import { ProblemError } from './errors.ts';
import { preflight, type PreflightReport } from './preflight.ts';
import { listReleases, type ReleaseList } from './release-list.ts';
import { readRunInput } from './release-runs.ts';
import { readReleaseStatus, type ReleaseView } from './release-status.ts';
import type { StatusCalls } from './status-calls.ts';
import { pollingFeed, type StatusFeed } from './status-feed.ts';
import type { StatusViews } from './status-views.ts';

export interface ReleaseServiceDeps {
  client: Client;
  taskQueue: string;
  kubernetes: KubernetesClients;
  /** Statuses shared by all readers; without them every read asks Temporal (SLIPWAY_STATUS_VIEW=off). */
  views?: StatusViews | undefined;
  calls?: StatusCalls | undefined;
  /** How long a preflight may take before the call answers 503 (default PREFLIGHT_DEADLINE_MS). */
  preflightDeadlineMs?: number;
}

export interface StartedRelease {
  releaseId: string;
  workflowId: string;
  runId: string;
  namespace: string;
  model: string;
  version: string;
  /** The run this one retries (`retry`). */
  retryOf?: string;
  links: { self: string; events: string; history: string };
}

export const ACTIONS = {
  approve: approveUpdate,
  reject: rejectUpdate,
  pause: pauseUpdate,
  resume: resumeUpdate,
  abort: abortUpdate,
  promote: promoteUpdate,
} as const satisfies Record<ReleaseAction, unknown>;

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
  return /workflow execution already completed|workflow is not running|already completed/i.test(
    rootMessage(error),
  );
}

export class ReleaseService {
  private readonly deps: ReleaseServiceDeps;

  constructor(deps: ReleaseServiceDeps) {
    this.deps = deps;
  }

  private preflight(spec: ReleaseSpec): Promise<PreflightReport> {
    return preflight(this.deps.kubernetes, spec, { deadlineMs: this.deps.preflightDeadlineMs });
  }

  private handle(namespace: string, model: string): WorkflowHandle<typeof release> {
    return this.deps.client.workflow.getHandle<typeof release>(releaseWorkflowId(namespace, model));
  }

  /** Renders the release's objects and server-side dry-runs them, with the RBAC and capacity checks. */
  async dryRun(spec: ReleaseSpec): Promise<{ dryRun: true; valid: true } & PreflightReport> {
    return { dryRun: true, valid: true, ...(await this.preflight(spec)) };
  }

  /** The running release of the model, if any (its version and id), for a 409. */
  private async running(
    namespace: string,
    model: string,
  ): Promise<{ version?: string; runId: string } | undefined> {
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

  private activeConflict(
    namespace: string,
    model: string,
    active: { version?: string; runId?: string } | undefined,
  ): ProblemError {
    return new ProblemError(
      409,
      `${namespace}/${model} already has an active release${active?.version ? ` (${active.version})` : ''}: wait for it, abort it, or start with ?supersede=true`,
      { extra: { activeRelease: { workflowId: releaseWorkflowId(namespace, model), ...(active ?? {}) } } },
    );
  }

  /** Aborts the active release of the model and waits for its rollback to end. */
  private async supersede(namespace: string, model: string, by: string, version: string): Promise<void> {
    const active = await this.running(namespace, model);
    if (!active) return;
    const handle = this.handle(namespace, model);
    await handle
      .executeUpdate(abortUpdate, { args: [{ actor: by, comment: `superseded by ${version}` }] })
      .catch((error: unknown) => {
        // Already rolling back or ended: waiting for the end is all that is left.
        if (!(error instanceof WorkflowUpdateFailedError) && !isClosedWorkflowError(error)) throw error;
      });
    const ended = await Promise.race([
      handle.result().then(
        () => true,
        () => true,
      ),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), SUPERSEDE_WAIT_MS)),
    ]);
    if (!ended) {
      throw new ProblemError(
        409,
        `the active release of ${namespace}/${model} (${active.version ?? 'unknown version'}) is still rolling back; try again shortly`,
      );
    }
  }

  /**
   * Starts a release after the preflight (422 with the cluster's reason when it fails, and then no
   * workflow starts). 409 when the model has an active release, unless `supersede` aborts it first.
   */
  async start(
    spec: ReleaseSpec,
    submittedBy: string,
    options: { supersede: boolean; retryOf?: string },
  ): Promise<StartedRelease> {
    const { namespace, model, version } = spec;
    if (!options.supersede) {
      const active = await this.running(namespace, model);
      if (active) throw this.activeConflict(namespace, model, active);
    }
    await this.preflight(spec);
    if (options.supersede) await this.supersede(namespace, model, submittedBy, version);
    const workflowId = releaseWorkflowId(namespace, model);
    const input: ReleaseInput = {
      spec,
      submittedBy,
      ...(options.retryOf ? { retryOf: options.retryOf } : {}),
    };
    try {
      const handle = await this.deps.client.workflow.start<typeof release>(RELEASE_WORKFLOW_TYPE, {
        taskQueue: this.deps.taskQueue,
        workflowId,
        workflowIdConflictPolicy: 'FAIL',
        args: [input],
        typedSearchAttributes: [
          { key: searchAttributes.model, value: model },
          { key: searchAttributes.namespace, value: namespace },
          { key: searchAttributes.version, value: version },
          { key: searchAttributes.stage, value: 'build' },
        ],
      });
      return {
        releaseId: workflowId,
        workflowId,
        runId: handle.firstExecutionRunId,
        namespace,
        model,
        version,
        ...(options.retryOf ? { retryOf: options.retryOf } : {}),
        links: linksFor(namespace, model),
      };
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        throw this.activeConflict(namespace, model, await this.running(namespace, model));
      }
      throw error;
    }
  }

  /**
   * Starts the model's latest release again, with the spec of its latest run, as a new run submitted
   * by `submittedBy`: for a release that rolled back or failed. 404 when there is none, 409 when one
   * is active or the latest was promoted.
   */
  async retry(namespace: string, model: string, submittedBy: string): Promise<StartedRelease> {
    const name = `${namespace}/${model}`;
    let description;
    try {
      description = await this.handle(namespace, model).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError)
        throw new ProblemError(404, `no release of ${name} to retry`);
      throw error;
    }
    const version = description.typedSearchAttributes.get(searchAttributes.version);
    const which = version ? ` (${version})` : '';
    if (description.status.name === 'RUNNING') {
      throw new ProblemError(
        409,
        `${name} has an active release${which}: it cannot be retried while it runs`,
        {
          extra: {
            activeRelease: {
              workflowId: description.workflowId,
              runId: description.runId,
              ...(version ? { version } : {}),
            },
          },
        },
      );
    }
    if (description.status.name === 'COMPLETED') {
      const outcome =
        description.typedSearchAttributes.get(searchAttributes.outcome) ??
        (
          await this.deps.client.workflow
            .getHandle<typeof release>(description.workflowId, description.runId)
            .result()
        ).outcome.result;
      if (outcome === 'Promoted')
        throw new ProblemError(409, `the latest release of ${name}${which} was promoted: nothing to retry`);
    }
    const input = await readRunInput(this.deps.client, description.workflowId, description.runId);
    if (!input) throw new ProblemError(422, `the latest run of ${name} has no release spec to retry`);
    const validated = validateReleaseSpec(input.spec);
    if (!validated.ok) {
      throw new ProblemError(
        422,
        `the latest release of ${name} has a spec that is not valid, so it cannot be retried: ${validated.summary}`,
        { issues: validated.issues },
      );
    }
    return this.start(validated.spec, submittedBy, { supersede: false, retryOf: description.runId });
  }

  /** The status of the model's current or latest release. */
  status(namespace: string, model: string): Promise<ReleaseView> {
    const name = `${namespace}/${model}`;
    if (this.deps.views) return this.deps.views.read(releaseWorkflowId(namespace, model), name);
    return readReleaseStatus(this.deps.client, this.handle(namespace, model), name, this.deps.calls);
  }

  /** The statuses of the model's release as they change, for an event stream (read `status` first). */
  feed(namespace: string, model: string): StatusFeed {
    const { views } = this.deps;
    if (!views) return pollingFeed(() => this.status(namespace, model));
    const workflowId = releaseWorkflowId(namespace, model);
    return (listener) => views.watch(workflowId, `${namespace}/${model}`, listener);
  }

  async act(
    namespace: string,
    model: string,
    action: ReleaseAction,
    actor: { actor: string; comment?: string | undefined },
  ): Promise<ReleaseStatus> {
    const handle = this.handle(namespace, model);
    const input = { actor: actor.actor, ...(actor.comment ? { comment: actor.comment } : {}) };
    try {
      // Each update's input type is Actor or RejectInput; reject's comment is checked by the route.
      return await handle.executeUpdate(ACTIONS[action] as typeof approveUpdate, { args: [input] });
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) {
        // Updates to a closed workflow answer "not found": tell an ended release from none at all.
        const ended = await handle.describe().then(
          (d) => d.status.name !== 'RUNNING',
          () => false,
        );
        throw ended
          ? new ProblemError(409, `the release of ${namespace}/${model} has ended`)
          : new ProblemError(404, `no release of ${namespace}/${model}`);
      }
      // The validator's reason, intact (separation of duties, nothing waiting for approval, …).
      if (error instanceof WorkflowUpdateFailedError)
        throw new ProblemError(422, `${action} refused: ${rootMessage(error)}`);
      if (isClosedWorkflowError(error))
        throw new ProblemError(409, `the release of ${namespace}/${model} has ended`);
      throw error;
    }
  }

  list(
    filters: {
      namespace?: string | undefined;
      model?: string | undefined;
      stage?: string | undefined;
      outcome?: string | undefined;
    },
    page: { pageSize: number; pageToken?: string | undefined },
  ): Promise<ReleaseList> {
    return listReleases(this.deps.client, filters, page);
  }

  history(
    namespace: string,
    model: string,
    page: { pageSize: number; pageToken?: string | undefined },
  ): Promise<ReleaseList> {
    return listReleases(this.deps.client, { workflowId: releaseWorkflowId(namespace, model) }, page);
  }
}
