// The release status: what the `status` query, the API and the CLI show. Built by the workflow only;
// phase, paused, waitingFor, pauseReasons and pendingDecision are derived (release-run.ts refresh).
import type { GateState, Measurement } from './gates/evaluation.ts';
import type { PauseCondition, PendingDecision, WaitingFor } from './state/pause-conditions.ts';
import type { Outcome, Phase, Stage, Strategy } from './vocabulary.ts';

export type { Outcome, Phase, Stage } from './vocabulary.ts';
export type { PauseCondition, PendingDecision, WaitingFor } from './state/pause-conditions.ts';

export interface ApprovalRecord {
  decision: 'approved' | 'rejected' | 'timed-out-approved' | 'timed-out-rejected' | 'promoted-now';
  actor: string;
  at: string;
  comment?: string;
  /** Where the approval was asked: `canary step 3`, `promotion`. */
  at_step: string;
}

export interface TimelineEntry {
  at: string;
  stage: Stage;
  message: string;
}

export interface ReleaseStatus {
  releaseId: string;
  model: string;
  namespace: string;
  version: string;
  submittedBy: string;
  /** The run this release retries (same spec), when it was started by `retry`. */
  retryOf?: string;
  /** The version serving before this release (absent on a model's first release). */
  stableVersion?: string;
  firstRelease: boolean;
  stage: Stage;
  phase: Phase;
  step?: { index: number; total: number; description: string };
  weights: { stable: number; canary: number };
  mirrorPercent: number | null;
  /** A person, a pause step or an undecided gate holds the release (derived from pauseReasons). */
  paused: boolean;
  /** Why the release is not moving, most urgent first (empty when it moves or has ended). */
  pauseReasons: PauseCondition[];
  /** The decision approve/reject take now, and what it decides. */
  pendingDecision?: PendingDecision;
  /** The first of pauseReasons, as a wait (for older clients). */
  waitingFor?: WaitingFor;
  /** promote-now was asked (by hand or by a schedule) and has not taken effect yet. */
  promoteNow?: { by: string; at: string };
  /** The rules this release runs under (the installation's and the namespace's). */
  policy: { separationOfDuties: boolean };
  gates: Record<string, GateState>;
  /** The latest measurements of every gate, newest last (bounded). */
  measurements: Measurement[];
  /** This release's build-gate scores (recorded on the stable Deployment when it is promoted). */
  qualityScores?: Record<string, number>;
  /** The scores recorded when the current stable version was released (what build gates compare with). */
  stableQualityScores?: Record<string, number>;
  approvals: ApprovalRecord[];
  timeline: TimelineEntry[];
  outcome?: {
    result: Outcome;
    reason: string;
    failureType?: string;
    /** The measurement that decided a gate failure, when one did. */
    decidingMeasurement?: Measurement;
    at: string;
  };
  /** How the release replaces the stable version (`strategy.type`; absent in older releases: canary). */
  strategy?: Strategy;
  /** A recreate is under way: no version serves until the new one is ready. */
  downtime?: { since: string; expectedSeconds: number; message: string };
  /** Blue-green after the switch: the old version still runs, unchanged, and a rollback is a route flip. */
  warmStandby?: { version: string; until: string };
  startedAt: string;
  updatedAt: string;
}
