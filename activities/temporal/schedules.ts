// Temporal-side activities: removing a release's promotion schedule when the release ends.
import { ApplicationFailure, ScheduleNotFoundError, type Client } from '@temporalio/client';
import { promotionScheduleId } from '../../workflows/schedule-ids.ts';

export function createScheduleActivities(client: Client | undefined) {
  return {
    /** Deletes the model's promotion schedule; none (or already deleted) is fine. */
    async deletePromotionSchedule({
      namespace,
      model,
    }: {
      namespace: string;
      model: string;
    }): Promise<boolean> {
      if (!client)
        throw ApplicationFailure.nonRetryable(
          'this worker has no Temporal client: promotion schedules are not cleaned up',
          'NoTemporalClient',
        );
      try {
        await client.schedule.getHandle(promotionScheduleId(namespace, model)).delete();
        return true;
      } catch (error) {
        if (error instanceof ScheduleNotFoundError) return false;
        throw error;
      }
    },
  };
}

export type ScheduleActivities = ReturnType<typeof createScheduleActivities>;
