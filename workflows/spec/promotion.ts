// Promotion: its mode, the human approval, the calendar windows it may start in and the freezes it
// may not. Pure (time zones are checked with Intl, which the workflow sandbox has).
import { z } from 'zod';
import { dnsLabel } from './names.ts';
import { onTimeout } from './stages.ts';
import { positiveDuration } from './zod-shapes.ts';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const HHMM_OR_24 = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * When promotion may start, in local wall-clock time of `timezone`: from `from` (inclusive) to `to`
 * (exclusive) on each of `days`. When `to` ≤ `from` the window crosses midnight and `days` name the
 * day it starts (`{days: [Fri], from: '22:00', to: '02:00'}` = Friday 22:00 to Saturday 02:00);
 * `from` = `to` is a whole day from `from`. `to` may be `24:00`. See workflows/calendar.ts.
 */
const PromotionWindow = z.strictObject({
  days: z
    .array(z.enum(WEEKDAYS, 'must be one of Mon, Tue, Wed, Thu, Fri, Sat, Sun'))
    .min(1, 'name at least one day')
    .default([...WEEKDAYS]),
  from: z.string().regex(HHMM, 'must be a time HH:MM such as 09:00'),
  to: z.string().regex(HHMM_OR_24, 'must be a time HH:MM such as 16:00 (or 24:00)'),
  timezone: z
    .string()
    .refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin or UTC')
    .default('UTC'),
});
export type PromotionWindow = z.output<typeof PromotionWindow>;

const isoInstant = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time with a zone, such as 2026-12-20T00:00:00Z',
});

/** No promotion from `from` (inclusive) to `to` (exclusive). */
const Freeze = z
  .strictObject({ from: isoInstant, to: isoInstant, reason: z.string().optional() })
  .refine((f) => Date.parse(f.from) < Date.parse(f.to), {
    message: 'a freeze must end after it starts',
    path: ['to'],
  });
export type Freeze = z.output<typeof Freeze>;

const PromoteApproval = z.strictObject({
  required: z.boolean().default(true),
  timeout: positiveDuration().optional(),
  onTimeout,
});

/**
 * Post-promotion verification: the gates keep being measured on the new stable for `duration`; a
 * failure there rolls the stable back to the previous version and the release ends RolledBack.
 */
const VerifySpec = z.strictObject({
  duration: positiveDuration('7d'),
  gates: z.array(dnsLabel).min(1, 'verify needs at least one gate'),
});

export const PromoteSpec = z.strictObject({
  /**
   * `rolling` (default): roll stable to the candidate's template (needs only surge capacity).
   * `handoff`: scale the candidate to full size, route 100% to it, roll stable, route back.
   */
  mode: z.enum(['rolling', 'handoff']).default('rolling'),
  approval: PromoteApproval.optional(),
  windows: z.array(PromotionWindow).optional(),
  freezes: z.array(Freeze).optional(),
  verify: VerifySpec.optional(),
});
