// The messages a release workflow answers: updates (with validators) for humans and the API,
// signals of the same names for operators using the Temporal CLI, and the status query.
// Callers import these definitions; names here are the wire contract.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { ReleaseStatus } from './status.ts';

export const Actor = z.strictObject({
  /** Who acts (a subject from the API's auth, or an operator's name). */
  actor: z.string().min(1).max(200),
  comment: z.string().max(2000).optional(),
});
export type Actor = z.infer<typeof Actor>;

export const RejectInput = Actor.extend({
  comment: z.string().min(1, 'a rejection needs a comment').max(2000),
});
export type RejectInput = z.infer<typeof RejectInput>;

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
