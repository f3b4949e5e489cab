// The state of one running release and the waiting primitives every stage uses: holds, pause steps,
// approvals, gate verdicts, promotion windows — all as pause conditions (state/pause-conditions.ts)
// from which the status' phase is derived. Deterministic: only workflow APIs, the sandbox clock.
//
// The rules (docs/concepts.md, "Pauses, decisions and promote-now"):
// - A person's pause (`human`) and an undecided gate (`inconclusive-gate`) stop the release: holds do
//   not count down and promote-now (by hand or by a schedule) waits until they are resolved.
// - promote-now skips the plan: remaining weight steps, pause steps, approval steps, the promotion
//   approval and windows (not freezes). Under separation of duties the submitter may not use it.
// - approve/reject decide the pending decision only: a gate verdict before an approval behind it.
import {
  ApplicationFailure,
  condition,
  log,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { events, waiting } from './activities.ts';
import { workflowIsoNow, workflowNow } from './clock.ts';
import { Compensations } from './compensations.ts';
import { FailureType } from './failures.ts';
import { searchAttributes } from './ids.ts';
import type { Actor } from './messages.ts';
import { observeStage } from './metrics.ts';
import type { ReleaseSpec } from './spec/index.ts';
import { derivePhase, PauseConditions, type PauseCondition } from './state/pause-conditions.ts';
import type { ApprovalRecord, ReleaseStatus } from './status.ts';
import type { Outcome, PauseReason, Stage, Strategy } from './vocabulary.ts';

const TIMELINE_LIMIT = 200;

type DecisionKind = 'approved' | 'rejected';
interface Decision {
  decides: 'approval' | 'gate-verdict';
  kind: DecisionKind;
  actor: Actor;
}

export interface ReleasePolicy {
  /** The submitter may not approve, reject or promote-now (nor schedule a promotion of) their release. */
  separationOfDuties: boolean;
}

function withComment(actor: Actor): string {
  return `${actor.actor}${actor.comment ? ` (${actor.comment})` : ''}`;
}

export class ReleaseRun {
  readonly spec: ReleaseSpec;
  readonly status: ReleaseStatus;
  readonly compensations: Compensations;
  readonly conditions = new PauseConditions();
  policy: ReleasePolicy;
  private eventSequence = 0;
  private measurementSequence = 0;
  /** When the current stage began (sandbox clock), for the stage-duration metric. */
  private stageStartedAt: number;
  /** When the traffic of the current step took effect (sandbox clock): what `{{window}}` spans. */
  trafficSince: number | undefined;
  /** The decision taken for the pending decision, until the wait that asked for it takes it. */
  private decision: Decision | undefined;
  /** The uid of the candidate Deployment this release created (watched during every hold). */
  candidateUid: string | undefined;
  /**
   * The candidate was seen serving up to now: a watch covered the wait that just ended (or its
   * rollout was just awaited), so moving traffic needs no extra read of it.
   */
  candidateVouched = false;
  /** The stage each gate's counts belong to (they run across the steps of a stage). */
  readonly gateCountedIn = new Map<string, Stage>();
  /** Candidate watches that could not run (their retries ran out). */
  candidateWatchFailures = 0;
  promoteNowBy: Actor | undefined;
  abortedBy: Actor | undefined;

  constructor(spec: ReleaseSpec, submittedBy: string, policy: ReleasePolicy) {
    this.spec = spec;
    this.policy = policy;
    this.compensations = new Compensations(spec, () =>
      waiting((spec.serving.progressDeadlineSeconds + 120) * 1000).waitForRollout({
        namespace: spec.namespace,
        model: spec.model,
        track: 'stable',
      }),
    );
    this.stageStartedAt = workflowNow();
    this.status = initialStatus(
      { model: spec.model, namespace: spec.namespace, version: spec.version, strategy: spec.strategy.type },
      submittedBy,
      policy,
    );
  }

  setPolicy(policy: ReleasePolicy): void {
    this.policy = policy;
    this.status.policy = { ...policy };
  }

  // ---- status -------------------------------------------------------------------------------

  note(message: string): void {
    const now = workflowIsoNow();
    this.status.timeline.push({ at: now, stage: this.status.stage, message });
    if (this.status.timeline.length > TIMELINE_LIMIT)
      this.status.timeline.splice(0, this.status.timeline.length - TIMELINE_LIMIT);
    this.status.updatedAt = now;
    log.info(message, { releaseId: this.status.releaseId, model: this.spec.model, stage: this.status.stage });
  }

  /** Derives phase, paused, waitingFor, pauseReasons, pendingDecision and promoteNow from the state. */
  refresh(): void {
    const s = this.status;
    s.phase = derivePhase(s.stage, s.outcome?.result, this.conditions);
    s.paused = s.outcome === undefined && this.conditions.paused;
    s.pauseReasons = s.outcome === undefined ? this.conditions.list() : [];
    const waitingFor = s.outcome === undefined ? this.conditions.waitingFor() : undefined;
    if (waitingFor) s.waitingFor = waitingFor;
    else delete s.waitingFor;
    const pending = s.outcome === undefined ? this.conditions.pendingDecision() : undefined;
    if (pending) s.pendingDecision = pending;
    else delete s.pendingDecision;
    if (this.promoteNowBy && s.outcome === undefined)
      s.promoteNow = { by: this.promoteNowBy.actor, at: s.promoteNow?.at ?? workflowIsoNow() };
    else delete s.promoteNow;
    s.updatedAt = workflowIsoNow();
  }

  private addCondition(condition: PauseCondition): void {
    this.conditions.add(condition);
    this.refresh();
  }

  private removeCondition(reason: PauseReason): void {
    this.conditions.remove(reason);
    this.refresh();
  }

  /** Moves the status to `stage`, recording how long the previous stage took. */
  switchStage(stage: Stage): void {
    const now = workflowNow();
    if (stage !== this.status.stage) {
      observeStage(
        { namespace: this.spec.namespace, model: this.spec.model },
        this.status.stage,
        (now - this.stageStartedAt) / 1000,
      );
      this.stageStartedAt = now;
    }
    this.status.stage = stage;
    this.refresh();
  }

  async enterStage(stage: Stage, message: string): Promise<void> {
    this.switchStage(stage);
    this.note(message);
    upsertSearchAttributes([{ key: searchAttributes.stage, value: stage }]);
    await this.event('Normal', `Release${stage[0]!.toUpperCase()}${stage.slice(1)}`, message);
  }

  /** The release ended: no pause or wait is left, the phase is the outcome. */
  end(result: Outcome, outcome: NonNullable<ReleaseStatus['outcome']>): void {
    this.switchStage('done');
    this.conditions.clear();
    this.status.outcome = { ...outcome, result };
    this.refresh();
  }

  /** A Kubernetes Event on the model's Deployment; best effort (never fails the release). */
  async event(type: 'Normal' | 'Warning', reason: string, note: string): Promise<void> {
    const key = `${this.status.releaseId}/${workflowInfo().runId}/${this.eventSequence++}`;
    try {
      await events.recordEvent({
        namespace: this.spec.namespace,
        // The stable track's Deployment: the adopted one when the spec names it.
        deployment: this.spec.serving.deploymentRef ?? this.spec.model,
        key,
        type,
        reason,
        note,
      });
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

  /** The traffic of a new step took effect now (weights set, mirror on, first version ready). */
  trafficTookEffect(): void {
    this.trafficSince = workflowNow();
  }

  // ---- abort, pause, resume, promote-now ----------------------------------------------------------

  get finished(): boolean {
    return this.status.outcome !== undefined || this.status.stage === 'rollback';
  }

  throwIfAborted(): void {
    if (this.abortedBy) {
      throw ApplicationFailure.nonRetryable(
        `aborted by ${withComment(this.abortedBy)}`,
        FailureType.ReleaseAborted,
      );
    }
  }

  /** promote-now was asked and nothing a person must resolve first stands in its way. */
  get promoteNowEffective(): boolean {
    return this.promoteNowBy !== undefined && !this.conditions.stopped;
  }

  pause(by: Actor, reason: string): void {
    if (this.conditions.has('human')) return;
    this.addCondition({ reason: 'human', message: reason, since: workflowIsoNow(), by: by.actor });
    this.note(`paused by ${by.actor}: ${reason}`);
  }

  /** Ends a person's pause and a pause step; an undecided gate goes on (it starts over). */
  resume(by: Actor): void {
    const resumable: PauseReason[] = ['human', 'pause-step', 'inconclusive-gate'];
    if (!resumable.some((r) => this.conditions.has(r))) return;
    for (const reason of resumable) this.conditions.remove(reason);
    this.refresh();
    this.note(`resumed by ${withComment(by)}`);
  }

  /** Why `actor` may not ask for promote-now, or undefined when they may. */
  promoteNowProblem(actor: Actor): string | undefined {
    if (this.finished) return `release ${this.status.releaseId} has ended or is rolling back`;
    const promote = this.spec.promote;
    if (this.status.firstRelease && !promote?.approval?.required && !promote?.windows?.length) {
      return 'a first release without a promotion approval or windows has nothing to skip';
    }
    if (this.policy.separationOfDuties && actor.actor === this.status.submittedBy) {
      return `separation of duties: ${actor.actor} submitted this release and may not promote it past its approvals`;
    }
    return undefined;
  }

  /** Records promote-now (from the API, a signal or a schedule); it takes effect once nothing stops the release. */
  requestPromoteNow(actor: Actor): void {
    const problem = this.promoteNowProblem(actor);
    if (problem) {
      this.note(`promote-now by ${actor.actor} refused: ${problem}`);
      return;
    }
    if (this.promoteNowBy) return;
    this.promoteNowBy = actor;
    this.refresh();
    const waits = this.conditions.stopped ? '; it waits until the release is resumed' : '';
    this.note(`promote-now requested by ${withComment(actor)}${waits}`);
  }

  /**
   * Holds for `ms` of running time: the clock stops while the release is stopped (paused by a person
   * or an undecided gate). Ends early on promote-now (unless `skippedByPromoteNow` is false: a
   * post-promotion verification) or when `endsEarly()` holds; abort ends it with a failure.
   */
  async hold(ms: number, endsEarly: () => boolean = () => false, skippedByPromoteNow = true): Promise<void> {
    const ended = () => (skippedByPromoteNow && this.promoteNowEffective) || endsEarly();
    let remaining = ms;
    while (remaining > 0 && !ended()) {
      if (this.conditions.stopped) {
        await condition(() => !this.conditions.stopped || this.abortedBy !== undefined);
        this.throwIfAborted();
        continue;
      }
      const started = workflowNow();
      await condition(() => this.conditions.stopped || this.abortedBy !== undefined || ended(), remaining);
      this.throwIfAborted();
      remaining -= workflowNow() - started;
    }
    this.throwIfAborted();
  }

  /** Waits while the release is stopped (between steps). */
  async waitWhileStopped(): Promise<void> {
    if (!this.conditions.stopped) return;
    this.candidateVouched = false; // nobody watches it while the release stands still between steps
    await condition(() => !this.conditions.stopped || this.abortedBy !== undefined);
    this.throwIfAborted();
  }

  /** A canary `pause` step: until resumed, or for `ms` of running time; promote-now skips it. */
  async pauseStep(label: string, ms: number | undefined): Promise<void> {
    const since = workflowIsoNow();
    const message =
      ms === undefined
        ? `${label}: paused until resumed`
        : `${label}: paused for ${Math.round(ms / 1000)}s (resume to go on now)`;
    this.addCondition({ reason: 'pause-step', message, since });
    this.note(message);
    const resumed = () => !this.conditions.has('pause-step');
    if (ms === undefined) {
      await condition(() => resumed() || this.promoteNowEffective || this.abortedBy !== undefined);
    } else {
      await this.hold(ms, resumed);
    }
    this.removeCondition('pause-step');
    this.throwIfAborted();
  }

  // ---- decisions ------------------------------------------------------------------------------

  /** Why `actor` may not decide now, or undefined when they may. */
  decisionProblem(actor: Actor): string | undefined {
    if (this.finished) return `release ${this.status.releaseId} has ended or is rolling back`;
    const pending = this.conditions.pendingDecision();
    if (!pending) {
      const approval = this.conditions.get('awaiting-approval');
      if (approval && this.conditions.has('human')) {
        return `release ${this.status.releaseId} is paused; resume it, then decide: ${approval.message}`;
      }
      return `release ${this.status.releaseId} is not waiting for an approval or a gate's verdict (stage ${this.status.stage}, phase ${this.status.phase})`;
    }
    if (this.decision?.decides === pending.decides) return 'this decision has already been taken';
    if (this.policy.separationOfDuties && actor.actor === this.status.submittedBy) {
      return `separation of duties: ${actor.actor} submitted this release and may not approve or reject it`;
    }
    return undefined;
  }

  /** Throws (rejecting the update) when `actor` may not decide now. */
  validateDecision(actor: Actor): void {
    const problem = this.decisionProblem(actor);
    if (problem) throw new Error(problem);
  }

  /** Records a decision for the pending decision; one that may not be taken (a late signal) is noted and ignored. */
  decide(kind: DecisionKind, actor: Actor): void {
    const problem = this.decisionProblem(actor);
    const pending = this.conditions.pendingDecision();
    if (problem || !pending) {
      this.note(
        `${kind === 'approved' ? 'approval' : 'rejection'} by ${actor.actor} ignored: ${problem ?? 'nothing to decide'}`,
      );
      return;
    }
    this.decision = { decides: pending.decides, kind, actor };
  }

  private takeDecision(decides: Decision['decides']): Decision | undefined {
    const decision = this.decision?.decides === decides ? this.decision : undefined;
    if (decision) this.decision = undefined;
    return decision;
  }

  private record(
    decision: ApprovalRecord['decision'],
    actor: string,
    what: string,
    comment?: string,
  ): ApprovalRecord {
    const record: ApprovalRecord = {
      decision,
      actor,
      at: workflowIsoNow(),
      at_step: what,
      ...(comment ? { comment } : {}),
    };
    this.status.approvals.push(record);
    this.note(`${what}: ${decision} by ${actor}${comment ? ` (${comment})` : ''}`);
    return record;
  }

  /**
   * A gate could not decide (no data, errors): the release stops for a human. `approve` or `resume`
   * goes on (the gate starts over), `reject` rolls back, `abort` aborts.
   */
  async awaitHumanVerdict(what: string): Promise<void> {
    const message = `${what} — approve (or resume) to go on, reject to roll back`;
    this.addCondition({ reason: 'inconclusive-gate', message, since: workflowIsoNow() });
    this.note(`paused: ${what}`);
    await this.event('Warning', 'GateInconclusive', what);
    await condition(
      () =>
        this.decision?.decides === 'gate-verdict' ||
        !this.conditions.has('inconclusive-gate') ||
        this.abortedBy !== undefined,
    );
    const decision = this.takeDecision('gate-verdict');
    this.removeCondition('inconclusive-gate');
    this.throwIfAborted();
    if (!decision) return; // resumed
    const record = this.record(decision.kind, decision.actor.actor, what, decision.actor.comment);
    if (decision.kind === 'rejected') {
      throw ApplicationFailure.nonRetryable(
        `rejected by ${withComment(decision.actor)} (${what})`,
        FailureType.ApprovalRejected,
        record,
      );
    }
  }

  /**
   * Waits for a human decision. `timeoutMs` undefined = no deadline; on timeout `onTimeout` decides.
   * promote-now also ends the wait, recorded as `promoted-now`.
   */
  async awaitApproval(
    what: string,
    timeoutMs: number | undefined,
    onTimeout: 'approve' | 'reject',
  ): Promise<ApprovalRecord> {
    const since = workflowIsoNow();
    const deadline = timeoutMs === undefined ? undefined : new Date(workflowNow() + timeoutMs).toISOString();
    this.addCondition({
      reason: 'awaiting-approval',
      message: what,
      since,
      ...(deadline ? { deadline } : {}),
    });
    this.note(`waiting for approval: ${what}`);
    await this.event('Normal', 'AwaitingApproval', `waiting for approval: ${what}`);
    const ended = () =>
      this.decision?.decides === 'approval' || this.abortedBy !== undefined || this.promoteNowEffective;
    const decided =
      timeoutMs === undefined ? (await condition(ended), true) : await condition(ended, timeoutMs);
    this.removeCondition('awaiting-approval');
    this.throwIfAborted();
    const decision = this.takeDecision('approval');
    let record: ApprovalRecord;
    if (decision) record = this.record(decision.kind, decision.actor.actor, what, decision.actor.comment);
    else if (decided && this.promoteNowBy)
      record = this.record('promoted-now', this.promoteNowBy.actor, what);
    else
      record = this.record(
        onTimeout === 'approve' ? 'timed-out-approved' : 'timed-out-rejected',
        'slipway',
        what,
      );
    if (record.decision === 'rejected') {
      throw ApplicationFailure.nonRetryable(
        `rejected by ${record.actor} at ${what}${record.comment ? `: ${record.comment}` : ''}`,
        FailureType.ApprovalRejected,
        record,
      );
    }
    if (record.decision === 'timed-out-rejected') {
      throw ApplicationFailure.nonRetryable(
        `approval for ${what} timed out`,
        FailureType.ApprovalTimedOut,
        record,
      );
    }
    return record;
  }

  /** Waits `waitMs` for a promotion window to open; promote-now ends the wait when `skippable`. */
  async awaitWindow(message: string, waitMs: number, skippable: boolean): Promise<void> {
    const deadline = new Date(workflowNow() + waitMs).toISOString();
    this.addCondition({ reason: 'awaiting-window', message, since: workflowIsoNow(), deadline });
    const promotedNow = () => skippable && this.promoteNowEffective;
    await condition(() => this.abortedBy !== undefined || promotedNow(), waitMs);
    this.removeCondition('awaiting-window');
    this.throwIfAborted();
  }
}

/** A release's status before anything has happened: at the start of build, all traffic on stable. */
export function initialStatus(
  ids: { model: string; namespace: string; version: string; strategy: Strategy },
  submittedBy: string,
  policy: ReleasePolicy,
): ReleaseStatus {
  const now = workflowIsoNow();
  return {
    releaseId: workflowInfo().workflowId,
    ...ids,
    submittedBy,
    firstRelease: false,
    stage: 'build',
    phase: 'Running',
    weights: { stable: 100, canary: 0 },
    mirrorPercent: null,
    paused: false,
    pauseReasons: [],
    policy: { ...policy },
    gates: {},
    measurements: [],
    approvals: [],
    timeline: [],
    startedAt: now,
    updatedAt: now,
  };
}
