// Why a release is not moving: a list of pause conditions (the shape of Argo Rollouts'
// PauseCondition list) and the one pending decision they imply. The phase, `paused` and
// `waitingFor` of the status are derived from them, never stored apart. Pure: runs in the workflow
// sandbox and in unit tests.
import type { Phase, PauseReason, Stage } from '../vocabulary.ts';

export interface PauseCondition {
  reason: PauseReason;
  /** What it waits for, in a sentence. */
  message: string;
  /** ISO time it began. */
  since: string;
  /** Who paused (for `human`). */
  by?: string;
  /** ISO time it ends by itself (a timed approval, a timed pause step, a window). */
  deadline?: string;
}

/** The one decision a person can take now, and what it decides. */
export interface PendingDecision {
  decides: 'approval' | 'gate-verdict';
  what: string;
  since: string;
  deadline?: string;
}

/** The status view of a wait (kept for clients that read `waitingFor`). */
export interface WaitingFor {
  kind: 'approval' | 'promotion-window' | 'resume';
  what: string;
  since: string;
  deadline?: string;
}

/** Reasons that stop the release's clock: a hold does not count down and promote-now waits. */
const STOPPING: readonly PauseReason[] = ['human', 'inconclusive-gate'];
/** Reasons shown as phase `Paused`. */
const PAUSING: readonly PauseReason[] = ['human', 'pause-step', 'inconclusive-gate'];

/** Which condition the status shows first: what a person must act on before anything else. */
const PRECEDENCE: readonly PauseReason[] = [
  'human',
  'inconclusive-gate',
  'pause-step',
  'awaiting-approval',
  'awaiting-window',
];

export class PauseConditions {
  private conditions: PauseCondition[] = [];

  /** Adds a condition (one per reason: adding again replaces it). */
  add(condition: PauseCondition): void {
    this.conditions = [...this.conditions.filter((c) => c.reason !== condition.reason), condition];
  }

  remove(reason: PauseReason): PauseCondition | undefined {
    const found = this.get(reason);
    this.conditions = this.conditions.filter((c) => c.reason !== reason);
    return found;
  }

  clear(): void {
    this.conditions = [];
  }

  get(reason: PauseReason): PauseCondition | undefined {
    return this.conditions.find((c) => c.reason === reason);
  }

  has(reason: PauseReason): boolean {
    return this.get(reason) !== undefined;
  }

  /** The conditions in the order a person should read them. */
  list(): PauseCondition[] {
    return [...this.conditions].sort((a, b) => PRECEDENCE.indexOf(a.reason) - PRECEDENCE.indexOf(b.reason));
  }

  /** Shown as paused: a person, a pause step or an undecided gate holds it. */
  get paused(): boolean {
    return this.conditions.some((c) => PAUSING.includes(c.reason));
  }

  /** The release's clock is stopped: holds do not count down, promote-now waits (a person must act). */
  get stopped(): boolean {
    return this.conditions.some((c) => STOPPING.includes(c.reason));
  }

  /**
   * The decision a person can take now. An undecided gate comes first (its verdict is asked while
   * an approval step waits behind it); an approval is open only while nobody has paused the release.
   */
  pendingDecision(): PendingDecision | undefined {
    const gate = this.get('inconclusive-gate');
    if (gate) return { decides: 'gate-verdict', what: gate.message, since: gate.since };
    const approval = this.get('awaiting-approval');
    if (!approval || this.has('human')) return undefined;
    return {
      decides: 'approval',
      what: approval.message,
      since: approval.since,
      ...(approval.deadline ? { deadline: approval.deadline } : {}),
    };
  }

  /** The `waitingFor` of the status: the first condition, as a wait. */
  waitingFor(): WaitingFor | undefined {
    const first = this.list()[0];
    if (!first) return undefined;
    const kind: WaitingFor['kind'] =
      first.reason === 'awaiting-window'
        ? 'promotion-window'
        : first.reason === 'awaiting-approval' || first.reason === 'inconclusive-gate'
          ? 'approval'
          : 'resume';
    return {
      kind,
      what: first.message,
      since: first.since,
      ...(first.deadline ? { deadline: first.deadline } : {}),
    };
  }
}

/** The phase shown for a release: from its outcome, its stage and its pause conditions. */
export function derivePhase(stage: Stage, outcome: Phase | undefined, conditions: PauseConditions): Phase {
  if (outcome) return outcome;
  if (stage === 'rollback') return 'RollingBack';
  if (conditions.paused) return 'Paused';
  if (conditions.has('awaiting-approval')) return 'AwaitingApproval';
  if (conditions.has('awaiting-window')) return 'AwaitingPromotionWindow';
  return 'Running';
}
