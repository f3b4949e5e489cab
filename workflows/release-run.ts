// The state of one running release and the waiting primitives every stage uses (pausable holds,
// approvals, abort). Deterministic: only workflow APIs, time from the sandbox clock.
import { ApplicationFailure, condition, log, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { events } from './activities.ts';
import { workflowIsoNow, workflowNow } from './clock.ts';
import { FailureType } from './failures.ts';
import { searchAttributes } from './ids.ts';
import type { Actor } from './messages.ts';
import { observeStage } from './metrics.ts';
import { Saga } from './saga.ts';
import type { ReleaseSpec } from './spec/index.ts';
import type { ApprovalRecord, Phase, ReleaseStatus, Stage, WaitingFor } from './status.ts';

const TIMELINE_LIMIT = 200;

type Decision = { kind: 'approved' | 'rejected'; actor: Actor };

export class ReleaseRun {
  readonly spec: ReleaseSpec;
  readonly status: ReleaseStatus;
  readonly saga = new Saga();
  readonly separationOfDuties: boolean;
  private eventSequence = 0;
  private measurementSequence = 0;
  /** When the current stage began (sandbox clock), for the stage-duration metric. */
  private stageStartedAt: number;
  /** The wait (approval, promotion window) a pause or a gate's verdict wait hides, shown again after it. */
  private hiddenWait: { phase: Phase; waitingFor: WaitingFor } | undefined;
  /** A gate is inconclusive and waits for a human verdict: decisions are for it, not for an approval step. */
  private verdictPending = false;
  /** The pending decision for the approval being waited on. */
  private decision: Decision | undefined;
  promoteNowBy: Actor | undefined;
  abortedBy: Actor | undefined;

  constructor(spec: ReleaseSpec, submittedBy: string, separationOfDuties: boolean) {
    this.spec = spec;
    this.separationOfDuties = separationOfDuties;
    this.stageStartedAt = workflowNow();
    const now = workflowIsoNow();
    this.status = {
      releaseId: workflowInfo().workflowId,
      model: spec.model,
      namespace: spec.namespace,
      version: spec.version,
      submittedBy,
      firstRelease: false,
      stage: 'build',
      phase: 'Running',
      weights: { stable: 100, canary: 0 },
      mirrorPercent: null,
      paused: false,
      gates: {},
      measurements: [],
      approvals: [],
      timeline: [],
      startedAt: now,
      updatedAt: now,
    };
  }

  // ---- status -------------------------------------------------------------------------------

  note(message: string): void {
    const now = workflowIsoNow();
    this.status.timeline.push({ at: now, stage: this.status.stage, message });
    if (this.status.timeline.length > TIMELINE_LIMIT) this.status.timeline.splice(0, this.status.timeline.length - TIMELINE_LIMIT);
    this.status.updatedAt = now;
    log.info(message, { releaseId: this.status.releaseId, model: this.spec.model, stage: this.status.stage });
  }

  setPhase(phase: Phase): void {
    this.status.phase = phase;
    this.status.updatedAt = workflowIsoNow();
  }

  /** Moves the status to `stage`, recording how long the previous stage took. */
  switchStage(stage: Stage): void {
    const now = workflowNow();
    if (stage !== this.status.stage) {
      observeStage({ namespace: this.spec.namespace, model: this.spec.model }, this.status.stage, (now - this.stageStartedAt) / 1000);
      this.stageStartedAt = now;
    }
    this.status.stage = stage;
  }

  async enterStage(stage: Stage, message: string): Promise<void> {
    this.switchStage(stage);
    this.note(message);
    upsertSearchAttributes([{ key: searchAttributes.stage, value: stage }]);
    await this.event('Normal', `Release${stage[0]!.toUpperCase()}${stage.slice(1)}`, message);
  }

  /** A Kubernetes Event on the model's Deployment; best effort (never fails the release). */
  async event(type: 'Normal' | 'Warning', reason: string, note: string): Promise<void> {
    const key = `${this.status.releaseId}/${workflowInfo().runId}/${this.eventSequence++}`;
    try {
      await events.recordEvent({ namespace: this.spec.namespace, deployment: this.spec.model, key, type, reason, note });
    } catch (error) {
      log.warn('could not record a Kubernetes event', { reason, error: String(error) });
    }
  }

  /** A measurement's id, unique in this run and the same on replay (names a gate's Job). */
  nextMeasurementId(gate: string): string {
    return `${workflowInfo().runId}-${gate}-${this.measurementSequence++}`;
  }

  /** A Job name unique to this run and within the 63-character limit. */
  jobName(kind: string): string {
    return `${this.spec.model.slice(0, 40)}-${kind}-${workflowInfo().runId.slice(0, 8)}`;
  }

  // ---- abort, pause, promote-now --------------------------------------------------------------

  throwIfAborted(): void {
    if (this.abortedBy) {
      throw ApplicationFailure.nonRetryable(
        `aborted by ${this.abortedBy.actor}${this.abortedBy.comment ? `: ${this.abortedBy.comment}` : ''}`,
        FailureType.ReleaseAborted,
      );
    }
  }

  /**
   * Holds for `ms` of unpaused time. Returns early when `until()` becomes true (e.g. promote-now).
   * While paused, the clock stops; abort ends the hold with a failure.
   */
  async hold(ms: number, until: () => boolean = () => false): Promise<void> {
    let remaining = ms;
    while (remaining > 0 && !until()) {
      if (this.status.paused) {
        await condition(() => !this.status.paused || this.abortedBy !== undefined || until());
        this.throwIfAborted();
        continue;
      }
      const started = workflowNow();
      await condition(() => this.status.paused || this.abortedBy !== undefined || until(), remaining);
      this.throwIfAborted();
      remaining -= workflowNow() - started;
    }
    this.throwIfAborted();
  }

  /** Waits while paused (between steps). */
  async waitWhilePaused(): Promise<void> {
    if (!this.status.paused) return;
    await condition(() => !this.status.paused || this.abortedBy !== undefined);
    this.throwIfAborted();
  }

  /** Shows a wait in the status (approval, promotion window); under a pause it shows after resume. */
  showWait(phase: Phase, waitingFor: WaitingFor): void {
    if (this.status.paused) {
      this.hiddenWait = { phase, waitingFor };
      return;
    }
    this.status.waitingFor = waitingFor;
    this.setPhase(phase);
  }

  /** The wait shown by showWait ended. */
  endWait(): void {
    if (this.status.paused) {
      this.hiddenWait = undefined;
      return;
    }
    delete this.status.waitingFor;
    this.setPhase('Running');
  }

  /** Paused (by a human, a pause step, or an inconclusive gate): the current wait is hidden meanwhile. */
  private enterPaused(waitingFor: WaitingFor): void {
    if (!this.status.paused && this.status.waitingFor) this.hiddenWait = { phase: this.status.phase, waitingFor: this.status.waitingFor };
    this.status.paused = true;
    this.status.waitingFor = waitingFor;
    this.setPhase('Paused');
  }

  private leavePaused(): void {
    this.status.paused = false;
    const hidden = this.hiddenWait;
    this.hiddenWait = undefined;
    if (hidden) {
      this.status.waitingFor = hidden.waitingFor;
      this.setPhase(hidden.phase);
    } else {
      delete this.status.waitingFor;
      this.setPhase('Running');
    }
  }

  pause(by: Actor, reason: string): void {
    if (this.status.paused) return;
    this.enterPaused({ kind: 'resume', what: reason, since: workflowIsoNow() });
    this.note(`paused by ${by.actor}: ${reason}`);
  }

  resume(by: Actor): void {
    if (!this.status.paused) return;
    this.leavePaused();
    this.note(`resumed by ${by.actor}${by.comment ? `: ${by.comment}` : ''}`);
  }

  /**
   * A gate could not decide (no data, evaluator down): the release pauses for a human. `approve` or
   * `resume` goes on (the gate starts over), `reject` rolls back, `abort` aborts.
   */
  async awaitHumanVerdict(what: string): Promise<void> {
    this.decision = undefined;
    this.verdictPending = true;
    this.enterPaused({ kind: 'approval', what: `${what} — approve (or resume) to go on, reject to roll back`, since: workflowIsoNow() });
    this.note(`paused: ${what}`);
    await this.event('Warning', 'GateInconclusive', what);
    await condition(() => this.decision !== undefined || !this.status.paused || this.abortedBy !== undefined);
    // Set by an update or signal handler while the condition above waited.
    const decision = this.decision as Decision | undefined;
    this.decision = undefined;
    this.verdictPending = false;
    if (this.status.paused) this.leavePaused();
    this.throwIfAborted();
    if (!decision) return; // resumed
    const { kind, actor } = decision;
    const record: ApprovalRecord = { decision: kind, actor: actor.actor, at: workflowIsoNow(), at_step: what, ...(actor.comment ? { comment: actor.comment } : {}) };
    this.status.approvals.push(record);
    this.note(`${what}: ${kind} by ${actor.actor}${actor.comment ? ` (${actor.comment})` : ''}`);
    if (kind === 'rejected') {
      throw ApplicationFailure.nonRetryable(`rejected by ${actor.actor} (${what})${actor.comment ? `: ${actor.comment}` : ''}`, FailureType.ApprovalRejected, record);
    }
  }

  // ---- approvals ------------------------------------------------------------------------------

  isAwaitingApproval(): boolean {
    return this.status.waitingFor?.kind === 'approval';
  }

  /** Why `actor` may not decide now, or undefined when they may. */
  private decisionProblem(actor: Actor): string | undefined {
    if (this.status.paused && this.hiddenWait?.waitingFor.kind === 'approval' && !this.verdictPending) {
      return `release ${this.status.releaseId} is paused; resume it, then decide: ${this.hiddenWait.waitingFor.what}`;
    }
    if (!this.isAwaitingApproval()) {
      return `release ${this.status.releaseId} is not waiting for an approval (stage ${this.status.stage}, phase ${this.status.phase})`;
    }
    if (this.decision) return 'this approval has already been decided';
    if (this.separationOfDuties && actor.actor === this.status.submittedBy) {
      return `separation of duties: ${actor.actor} submitted this release and may not approve or reject it`;
    }
    return undefined;
  }

  /** Throws (rejecting the update) when `actor` may not decide now. */
  validateDecision(actor: Actor): void {
    const problem = this.decisionProblem(actor);
    if (problem) throw new Error(problem);
  }

  /** Records a decision; one that may not be taken (a late or unvalidated signal) is ignored. */
  decide(kind: 'approved' | 'rejected', actor: Actor): void {
    if (this.decisionProblem(actor) === undefined) this.decision = { kind, actor };
  }

  /**
   * Waits for a human decision. `timeoutMs` undefined = no deadline. On timeout `onTimeout` decides.
   * promote-now also ends the wait, recorded as `promoted-now`.
   */
  async awaitApproval(what: string, timeoutMs: number | undefined, onTimeout: 'approve' | 'reject'): Promise<ApprovalRecord> {
    this.decision = undefined;
    const waitingFor: WaitingFor = { kind: 'approval', what, since: workflowIsoNow() };
    if (timeoutMs !== undefined) waitingFor.deadline = new Date(workflowNow() + timeoutMs).toISOString();
    this.showWait('AwaitingApproval', waitingFor);
    this.note(`waiting for approval: ${what}`);
    await this.event('Normal', 'AwaitingApproval', `waiting for approval: ${what}`);
    // A decision taken while a gate's verdict is pending is that verdict, not this approval.
    const ended = () => (this.decision !== undefined && !this.verdictPending) || this.abortedBy !== undefined || this.promoteNowBy !== undefined;
    const decided = timeoutMs === undefined ? (await condition(ended), true) : await condition(ended, timeoutMs);
    this.endWait();
    this.throwIfAborted();
    let record: ApprovalRecord;
    // Set by an update or signal handler while the condition above waited.
    const decision = this.decision as Decision | undefined;
    if (decision) {
      const { kind, actor } = decision;
      record = { decision: kind, actor: actor.actor, at: workflowIsoNow(), at_step: what, ...(actor.comment ? { comment: actor.comment } : {}) };
    } else if (decided && this.promoteNowBy) {
      record = { decision: 'promoted-now', actor: this.promoteNowBy.actor, at: workflowIsoNow(), at_step: what };
    } else {
      record = { decision: onTimeout === 'approve' ? 'timed-out-approved' : 'timed-out-rejected', actor: 'slipway', at: workflowIsoNow(), at_step: what };
    }
    this.decision = undefined;
    this.status.approvals.push(record);
    this.note(`${what}: ${record.decision} by ${record.actor}${record.comment ? ` (${record.comment})` : ''}`);
    if (record.decision === 'rejected') {
      throw ApplicationFailure.nonRetryable(
        `rejected by ${record.actor} at ${what}${record.comment ? `: ${record.comment}` : ''}`,
        FailureType.ApprovalRejected,
        record,
      );
    }
    if (record.decision === 'timed-out-rejected') {
      throw ApplicationFailure.nonRetryable(`approval for ${what} timed out`, FailureType.ApprovalTimedOut, record);
    }
    return record;
  }
}
