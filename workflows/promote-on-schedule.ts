// The action of a promotion schedule (api/promotion-schedules.ts): at its time, asks the model's
// release to promote now, by the `promote` signal. No release running = nothing to do.
import { getExternalWorkflowHandle, log } from '@temporalio/workflow';
import { releaseWorkflowId } from './ids.ts';
import { promoteSignal } from './messages.ts';

export interface PromoteOnScheduleInput {
  namespace: string;
  model: string;
  /** Who scheduled the promotion (recorded by the release). */
  actor: string;
}

export async function promoteOnSchedule(
  input: PromoteOnScheduleInput,
): Promise<'signalled' | 'no-active-release'> {
  const handle = getExternalWorkflowHandle(releaseWorkflowId(input.namespace, input.model));
  try {
    await handle.signal(promoteSignal, { actor: input.actor, comment: 'scheduled promotion' });
    return 'signalled';
  } catch (error) {
    log.warn('no active release to promote', {
      namespace: input.namespace,
      model: input.model,
      error: String(error),
    });
    return 'no-active-release';
  }
}
