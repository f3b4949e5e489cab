// Scheduled promotions: a Temporal Schedule per model (`promotion/<namespace>/<model>`) whose action
// runs promoteOnSchedule, which asks the release to promote now. Removed by the release when it ends.
import {
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleSpec,
} from '@temporalio/client';
import { z } from 'zod';
import { promotionScheduleId } from '../workflows/schedule-ids.ts';
import { ProblemError } from './errors.ts';

const DAYS = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;

export const PromotionScheduleBody = z
  .union(
    [
      z.strictObject({
        /** One promotion at this instant. */
        at: z.iso.datetime({
          offset: true,
          error: 'must be an ISO 8601 date-time with a zone, such as 2026-12-01T09:00:00Z',
        }),
      }),
      z.strictObject({
        /** Promotion at the next matching wall-clock time (repeats until the release ends). */
        calendar: z.strictObject({
          dayOfWeek: z.enum(DAYS).optional(),
          hour: z.int().min(0).max(23),
          minute: z.int().min(0).max(59).default(0),
          timezone: z.string().min(1).default('UTC'),
        }),
      }),
    ],
    { error: 'give { at: <ISO date-time> } or { calendar: { dayOfWeek?, hour, minute?, timezone? } }' },
  )
  .meta({ id: 'PromotionScheduleBody' });
export type PromotionScheduleBody = z.infer<typeof PromotionScheduleBody>;

export const PromotionSchedule = z
  .object({
    scheduleId: z.string(),
    namespace: z.string(),
    model: z.string(),
    at: z.string().optional(),
    calendar: z.record(z.string(), z.unknown()).optional(),
    nextActionTimes: z.array(z.string()),
    paused: z.boolean(),
    createdBy: z.string().optional(),
  })
  .meta({ id: 'PromotionSchedule' });
export type PromotionSchedule = z.infer<typeof PromotionSchedule>;

export class PromotionSchedules {
  private readonly client: Client;
  private readonly taskQueue: string;

  constructor(client: Client, taskQueue: string) {
    this.client = client;
    this.taskQueue = taskQueue;
  }

  /** Throws the 400 of a body that cannot make a schedule (e.g. a time in the past). */
  validate(body: PromotionScheduleBody): void {
    this.specOf(body, new Date());
  }

  private specOf(body: PromotionScheduleBody, now: Date): ScheduleSpec {
    if ('at' in body) {
      const at = new Date(body.at);
      if (at.getTime() <= now.getTime())
        throw new ProblemError(400, `at (${body.at}) is in the past`, {
          issues: [{ path: 'at', message: 'must be in the future' }],
        });
      return {
        calendars: [
          {
            year: at.getUTCFullYear(),
            month: MONTHS[at.getUTCMonth()]!,
            dayOfMonth: at.getUTCDate(),
            hour: at.getUTCHours(),
            minute: at.getUTCMinutes(),
            second: at.getUTCSeconds(),
          },
        ],
        timezone: 'UTC',
      };
    }
    const { dayOfWeek, hour, minute, timezone } = body.calendar;
    return { calendars: [{ hour, minute, ...(dayOfWeek ? { dayOfWeek } : {}) }], timezone };
  }

  async put(
    namespace: string,
    model: string,
    body: PromotionScheduleBody,
    actor: string,
  ): Promise<PromotionSchedule> {
    const scheduleId = promotionScheduleId(namespace, model);
    const spec = this.specOf(body, new Date());
    await this.delete(namespace, model).catch(() => undefined); // a put replaces
    try {
      await this.client.schedule.create({
        scheduleId,
        spec,
        action: {
          type: 'startWorkflow',
          workflowType: 'promoteOnSchedule',
          workflowId: `${scheduleId}/run`,
          taskQueue: this.taskQueue,
          args: [{ namespace, model, actor }],
        },
        ...('at' in body ? { state: { remainingActions: 1 } } : {}),
        memo: { createdBy: actor, request: body },
      });
    } catch (error) {
      if (error instanceof Error && /timezone|time zone/i.test(error.message))
        throw new ProblemError(400, error.message, {
          issues: [{ path: 'calendar.timezone', message: 'unknown time zone' }],
        });
      throw error;
    }
    return this.get(namespace, model);
  }

  async get(namespace: string, model: string): Promise<PromotionSchedule> {
    const scheduleId = promotionScheduleId(namespace, model);
    let description: ScheduleDescription;
    try {
      description = await this.client.schedule.getHandle(scheduleId).describe();
    } catch (error) {
      if (error instanceof ScheduleNotFoundError)
        throw new ProblemError(404, `no promotion schedule for ${namespace}/${model}`);
      throw error;
    }
    const request = description.memo?.request as PromotionScheduleBody | undefined;
    const createdBy = description.memo?.createdBy;
    return {
      scheduleId,
      namespace,
      model,
      ...(request && 'at' in request ? { at: request.at } : {}),
      ...(request && 'calendar' in request ? { calendar: request.calendar } : {}),
      nextActionTimes: description.info.nextActionTimes.map((t) => t.toISOString()),
      paused: description.state.paused,
      ...(typeof createdBy === 'string' ? { createdBy } : {}),
    };
  }

  async delete(namespace: string, model: string): Promise<void> {
    try {
      await this.client.schedule.getHandle(promotionScheduleId(namespace, model)).delete();
    } catch (error) {
      if (error instanceof ScheduleNotFoundError)
        throw new ProblemError(404, `no promotion schedule for ${namespace}/${model}`);
      throw error;
    }
  }
}

const MONTHS = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
] as const;
