// Heartbeating while an activity waits: the latest details are sent at a steady pace even when
// nothing changes (so the heartbeat timeout only trips when the worker is really gone), and the
// activity's cancellation reaches the wait through an AbortSignal.
import { Context } from '@temporalio/activity';

export interface Heartbeat {
  /** Records progress details; they are sent with the next beat. */
  update(details: unknown): void;
  signal: AbortSignal;
}

export async function whileHeartbeating<T>(
  fn: (heartbeat: Heartbeat) => Promise<T>,
  everyMs = 2_000,
): Promise<T> {
  const context = Context.current();
  let details: unknown = undefined;
  context.heartbeat(details);
  const timer = setInterval(() => context.heartbeat(details), everyMs);
  try {
    return await fn({
      update(next) {
        details = next;
        context.heartbeat(details);
      },
      signal: context.cancellationSignal,
    });
  } finally {
    clearInterval(timer);
  }
}
