// Scheduled promotions: a Temporal Schedule per model (`promotion/<namespace>/<model>`) whose action
// runs promoteOnSchedule, which asks the release to promote now. Removed by the release when it ends.
// Puts and deletes of one model's schedule run one at a time (in this process): a put is a delete
// and a create, and Temporal answers a read of a schedule deleted a moment ago with an error.
import {
  isGrpcServiceError,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleSpec,
} from '@temporalio/client';
import { z } from 'zod';
import { promotionScheduleId } from '../workflows/schedule-ids.ts';
import { ProblemError } from './errors.ts';
import { KeyedQueue } from './keyed-queue.ts';

/** How often a put replaces a schedule that a concurrent put created meanwhile, before a 409. */
const PUT_ATTEMPTS = 5;

/** Temporal's calendar specs name years 2000 to 2100 only (a later one is refused as an invalid argument). */
const LAST_SCHEDULE_YEAR = 2100;

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

const FAILED_PRECONDITION = 9; // gRPC status code

/**
 * A schedule that is not there, or was deleted a moment ago: describing one whose workflow has just
 * closed answers FAILED_PRECONDITION "Workflow execution closed before WorkflowTaskStarted event".
 */
function isGone(error: unknown): boolean {
  if (error instanceof ScheduleNotFoundError) return true;
  const cause = error instanceof Error ? error.cause : undefined;
  return (
    isGrpcServiceError(cause) &&
    Number(cause.code) === FAILED_PRECONDITION &&
    /closed/i.test(cause.details ?? cause.message)
  );
}

export class PromotionSchedules {
  private readonly client: Client;
  private readonly taskQueue: string;
  private readonly writes = new KeyedQueue();

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
      if (at.getUTCFullYear() > LAST_SCHEDULE_YEAR)
        throw new ProblemError(
          400,
          `at (${body.at}) is after ${LAST_SCHEDULE_YEAR}, the last year a schedule can name`,
          {
            issues: [{ path: 'at', message: `must be in ${LAST_SCHEDULE_YEAR} or before` }],
          },
        );
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

  /** Replaces the model's schedule with one for `body`. */
  put(
    namespace: string,
    model: string,
    body: PromotionScheduleBody,
    actor: string,
  ): Promise<PromotionSchedule> {
    return this.writes.run(promotionScheduleId(namespace, model), () =>
      this.replace(namespace, model, body, actor),
    );
  }

  private async replace(
    namespace: string,
    model: string,
    body: PromotionScheduleBody,
    actor: string,
  ): Promise<PromotionSchedule> {
    const scheduleId = promotionScheduleId(namespace, model);
    const spec = this.specOf(body, new Date());
    const options = {
      scheduleId,
      spec,
      action: {
        type: 'startWorkflow' as const,
        workflowType: 'promoteOnSchedule',
        workflowId: `${scheduleId}/run`,
        taskQueue: this.taskQueue,
        args: [{ namespace, model, actor }],
      },
      ...('at' in body ? { state: { remainingActions: 1 } } : {}),
      memo: { createdBy: actor, request: body },
    };
    // A put replaces: delete, then create. Another API's put between the two makes the create find a
    // schedule again; replace that one too, a few times, then give up with a 409.
    for (let attempt = 1; ; attempt++) {
      await this.remove(namespace, model).catch(() => undefined);
      try {
        await this.client.schedule.create(options);
        break;
      } catch (error) {
        if (error instanceof ScheduleAlreadyRunning) {
          if (attempt < PUT_ATTEMPTS) continue;
          throw new ProblemError(
            409,
            `the promotion schedule of ${namespace}/${model} is being replaced by another request; try again`,
          );
        }
        if (error instanceof Error && /timezone|time zone/i.test(error.message))
          throw new ProblemError(400, error.message, {
            issues: [{ path: 'calendar.timezone', message: 'unknown time zone' }],
          });
        // The schedule client throws a TypeError for Temporal's INVALID_ARGUMENT: the schedule, not the server.
        if (error instanceof TypeError)
          throw new ProblemError(400, `Temporal refused this schedule: ${error.message}`);
        throw error;
      }
    }
    try {
      return await this.get(namespace, model);
    } catch (error) {
      // Another API's delete or put removed it between the create and this read.
      if (error instanceof ProblemError && error.status === 404)
        throw new ProblemError(
          409,
          `the promotion schedule of ${namespace}/${model} was replaced or removed by another request meanwhile`,
        );
      throw error;
    }
  }

  async get(namespace: string, model: string): Promise<PromotionSchedule> {
    const scheduleId = promotionScheduleId(namespace, model);
    let description: ScheduleDescription;
    try {
      description = await this.client.schedule.getHandle(scheduleId).describe();
    } catch (error) {
      if (isGone(error)) throw new ProblemError(404, `no promotion schedule for ${namespace}/${model}`);
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

  delete(namespace: string, model: string): Promise<void> {
    return this.writes.run(promotionScheduleId(namespace, model), () => this.remove(namespace, model));
  }

  private async remove(namespace: string, model: string): Promise<void> {
    try {
      await this.client.schedule.getHandle(promotionScheduleId(namespace, model)).delete();
    } catch (error) {
      if (isGone(error)) throw new ProblemError(404, `no promotion schedule for ${namespace}/${model}`);
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
