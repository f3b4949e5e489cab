// The messages a release workflow answers: updates (with validators) for humans and the API,
// signals of the same names for operators using the Temporal CLI, and the status query.
// Callers import these definitions; names here are the wire contract.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ReleaseStatus } from './status.ts';

/** Who acts (a subject from the API's auth, or an operator's name), and why. */
export interface Actor {
  actor: string;
  comment?: string | undefined;
}
/** A rejection says why. */
export interface RejectInput extends Actor {
  comment: string;
}

const ACTOR_MAX = 200;
const COMMENT_MAX = 2000;

/**
 * Why an update's payload is not an actor, or undefined. Checked by hand: the sandbox builds every
 * module a workflow imports once per workflow, and zod alone is megabytes (workflows/spec/reading.ts).
 */
export function actorProblem(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return 'expected an object with actor (and comment)';
  const unknown = Object.keys(input).filter((key) => key !== 'actor' && key !== 'comment');
  if (unknown.length > 0) return `unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`;
  const { actor, comment } = input as { actor?: unknown; comment?: unknown };
  if (typeof actor !== 'string' || actor.length === 0 || actor.length > ACTOR_MAX)
    return `actor: expected a name of 1 to ${ACTOR_MAX} characters`;
  if (comment !== undefined && (typeof comment !== 'string' || comment.length > COMMENT_MAX))
    return `comment: expected text of at most ${COMMENT_MAX} characters`;
  return undefined;
}

/** As actorProblem, and a rejection needs a comment. */
export function rejectionProblem(input: unknown): string | undefined {
  const problem = actorProblem(input);
  if (problem) return problem;
  const { comment } = input as { comment?: string };
  return comment ? undefined : 'comment: a rejection needs a comment';
}

export const approveUpdate = defineUpdate<ReleaseStatus, [Actor]>('approve');
export const rejectUpdate = defineUpdate<ReleaseStatus, [RejectInput]>('reject');
export const pauseUpdate = defineUpdate<ReleaseStatus, [Actor]>('pause');
export const resumeUpdate = defineUpdate<ReleaseStatus, [Actor]>('resume');
export const abortUpdate = defineUpdate<ReleaseStatus, [Actor]>('abort');
export const promoteUpdate = defineUpdate<ReleaseStatus, [Actor]>('promote');

export const approveSignal = defineSignal<[Actor]>('approve');
export const rejectSignal = defineSignal<[RejectInput]>('reject');
export const pauseSignal = defineSignal<[Actor]>('pause');
export const resumeSignal = defineSignal<[Actor]>('resume');
export const abortSignal = defineSignal<[Actor]>('abort');
export const promoteSignal = defineSignal<[Actor]>('promote');

export const statusQuery = defineQuery<ReleaseStatus>('status');
