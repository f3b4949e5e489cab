// The words a release is described with, shared by the workflow, the API and the CLI: one list each
// of stages, phases, outcomes, pause reasons and the actions people take. Plain data, no I/O.

/**
 * The stages a release goes through, in order; `rollback` and `done` end it. `preview` is
 * blue-green's (the candidate behind its preview before the switch).
 */
export const STAGES = ['build', 'shadow', 'preview', 'canary', 'promote', 'rollback', 'done'] as const;
export type Stage = (typeof STAGES)[number];

/** The stages that move a canary release forward (what a progress bar shows). */
export const FORWARD_STAGES = ['build', 'shadow', 'canary', 'promote'] as const satisfies readonly Stage[];

/** The ways a release replaces the stable version (`strategy.type`). */
export const STRATEGIES = ['canary', 'rolling', 'recreate', 'blueGreen'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** The stages that move a release of each strategy forward. */
export const FORWARD_STAGES_OF: Readonly<Record<Strategy, readonly Stage[]>> = {
  canary: FORWARD_STAGES,
  blueGreen: ['build', 'shadow', 'preview', 'promote'],
  rolling: ['build', 'promote'],
  recreate: ['build', 'promote'],
};

/** How a release ended. `Failed`: it ended before it could change anything (e.g. an invalid spec). */
export const OUTCOMES = ['Promoted', 'RolledBack', 'Failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/**
 * What the release is doing right now, derived from its stage, pause reasons and outcome (never
 * stored on its own): see `derivePhase` in workflows/state/pause-reasons.ts.
 */
export const PHASES = [
  'Running',
  'Paused',
  'AwaitingApproval',
  'AwaitingPromotionWindow',
  'RollingBack',
  'Promoted',
  'RolledBack',
  'Failed',
] as const;
export type Phase = (typeof PHASES)[number];

/**
 * Why a release is not moving (the shape of Argo Rollouts' PauseCondition list). Several can hold at
 * once; the release moves when none does.
 * - `human`: someone paused it (resume ends it).
 * - `pause-step`: a canary `pause` step (resume, or its duration, ends it).
 * - `inconclusive-gate`: a gate could not decide (approve/resume goes on, reject rolls back).
 * - `awaiting-approval`: an approval step or the promotion approval.
 * - `awaiting-window`: promotion waits for an allowed window outside every freeze.
 */
export const PAUSE_REASONS = [
  'human',
  'pause-step',
  'inconclusive-gate',
  'awaiting-approval',
  'awaiting-window',
] as const;
export type PauseReason = (typeof PAUSE_REASONS)[number];

/** The actions people take on a running release (workflow updates of the same names). */
export const RELEASE_ACTIONS = ['approve', 'reject', 'pause', 'resume', 'abort', 'promote'] as const;
export type ReleaseAction = (typeof RELEASE_ACTIONS)[number];

/** The role each action needs in the API (`retry` starts a new run, so it needs what a start needs). */
export const ACTION_ROLE = {
  approve: 'approve',
  reject: 'approve',
  promote: 'approve',
  pause: 'deploy',
  resume: 'deploy',
  abort: 'deploy',
} as const satisfies Record<ReleaseAction, 'approve' | 'deploy'>;
