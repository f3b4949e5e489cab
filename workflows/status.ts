// The release status: what the `status` query, the API and the CLI show. Built by the workflow only.
import type { GateState, Measurement } from './gates/evaluation.ts';

export type Stage = 'build' | 'shadow' | 'canary' | 'promote' | 'rollback' | 'done';

export type Phase =
  | 'Running'
  | 'Paused'
  | 'AwaitingApproval'
  | 'AwaitingPromotionWindow'
  | 'RollingBack'
  | 'Promoted'
  | 'RolledBack'
  | 'Failed';

export type Outcome = 'Promoted' | 'RolledBack' | 'Failed';

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

export interface WaitingFor {
  kind: 'approval' | 'promotion-window' | 'resume';
  what: string;
  since: string;
  deadline?: string;
}

export interface ReleaseStatus {
  releaseId: string;
  model: string;
  namespace: string;
  version: string;
  submittedBy: string;
  /** The version serving before this release (absent on a model's first release). */
  stableVersion?: string;
  firstRelease: boolean;
  stage: Stage;
  phase: Phase;
  step?: { index: number; total: number; description: string };
  weights: { stable: number; canary: number };
  mirrorPercent: number | null;
  paused: boolean;
  waitingFor?: WaitingFor;
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
  startedAt: string;
  updatedAt: string;
}
