// Promotion windows and freezes: deterministic calendar maths with time zones (Intl only, no
// libraries), usable inside the workflow sandbox.
//
// Semantics:
// - A window `{days, from, to, timezone}` allows the local wall-clock times of `timezone` from `from`
//   (inclusive) to `to` (exclusive) on the listed local days. `to` may be `24:00` (end of day).
// - When `to` <= `from` the window crosses midnight and `days` name the day it STARTS:
//   `{days: [Fri], from: '22:00', to: '02:00'}` allows Friday 22:00 to Saturday 02:00 (and not
//   Friday 00:00-02:00). `from` = `to` allows a whole day starting at `from`.
// - Windows are wall-clock: on a DST day a window lasts an hour more or less. A `from` that falls in
//   a spring-forward gap opens the window at the end of the gap (Berlin 02:30 → 03:00 CEST); wall
//   times that occur twice on a fall-back day are inside the window both times.
// - No windows = always allowed. Several windows = their union.
// - A freeze `[from, to)` forbids promotion; `to` is exclusive. Freezes win over windows.
// - `nextPromotionTime` searches a bounded horizon (366 days) and returns `undefined` beyond it.
import type { Freeze, PromotionWindow, Weekday } from './spec/index.ts';

export const PROMOTION_HORIZON_DAYS = 366;

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Date.prototype.getUTCDay() order. */
const WEEKDAY_BY_INDEX: readonly Weekday[] = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export type WindowSpec = Pick<PromotionWindow, 'days' | 'from' | 'to' | 'timezone'>;
export type FreezeSpec = Pick<Freeze, 'from' | 'to'> & { reason?: string | undefined };

export interface LocalParts {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: Weekday;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function weekdayOf(year: number, month: number, day: number): Weekday {
  return WEEKDAY_BY_INDEX[new Date(Date.UTC(year, month - 1, day)).getUTCDay()] as Weekday;
}

/** The local wall-clock reading of `instant` (ms since the epoch) in `timeZone`. */
export function localParts(instant: number, timeZone: string): LocalParts {
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instant))) parts[p.type] = p.value;
  const year = Number(parts.year);
  const month = Number(parts.month);
  const day = Number(parts.day);
  return {
    year,
    month,
    day,
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: weekdayOf(year, month, day),
  };
}

/** The zone's offset from UTC at `instant`, in ms (Berlin in summer: +7 200 000). */
export function offsetMs(instant: number, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const wholeSeconds = Math.floor(instant / 1000) * 1000;
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - wholeSeconds;
}

/**
 * Every instant at which the local clock of `timeZone` reads the given date and minute of the day:
 * none in a spring-forward gap, two in a fall-back overlap, one otherwise. Ascending.
 */
export function localInstants(
  year: number,
  month: number,
  day: number,
  minuteOfDay: number,
  timeZone: string,
): number[] {
  const wall = Date.UTC(year, month - 1, day, 0, minuteOfDay);
  // Offsets in force around that wall time (assumes at most one transition within a day of it).
  const offsets = new Set([
    offsetMs(wall - DAY_MS, timeZone),
    offsetMs(wall, timeZone),
    offsetMs(wall + DAY_MS, timeZone),
  ]);
  const found = new Set<number>();
  for (const offset of offsets) {
    const instant = wall - offset;
    if (offsetMs(instant, timeZone) === offset) found.add(instant);
  }
  return [...found].sort((a, b) => a - b);
}

/** The instants in (start, end] at which the zone's UTC offset changes (DST transitions). */
export function offsetTransitions(timeZone: string, start: number, end: number): number[] {
  const result: number[] = [];
  let lo = Math.floor(start / MINUTE_MS) * MINUTE_MS;
  let loOffset = offsetMs(lo, timeZone);
  // Sample every 6 hours (no zone changes its offset twice within that), then bisect to the minute.
  const stride = 6 * 3_600_000;
  while (lo < end) {
    const hi = Math.min(lo + stride, Math.ceil(end / MINUTE_MS) * MINUTE_MS);
    const hiOffset = offsetMs(hi, timeZone);
    if (hiOffset !== loOffset) {
      let a = lo;
      let b = hi;
      while (b - a > MINUTE_MS) {
        const mid = a + Math.floor((b - a) / 2 / MINUTE_MS) * MINUTE_MS;
        if (offsetMs(mid, timeZone) === loOffset) a = mid;
        else b = mid;
      }
      if (b > start && b <= end) result.push(b);
    }
    lo = hi;
    loOffset = hiOffset;
  }
  return result;
}

/** Minutes since local midnight of `HH:MM` (`24:00` = 1440). */
export function minuteOfDay(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

function previousDay(day: Weekday): Weekday {
  const i = WEEKDAY_BY_INDEX.indexOf(day);
  return WEEKDAY_BY_INDEX[(i + 6) % 7] as Weekday;
}

/** Whether `instant` lies inside `window`. */
export function windowContains(window: WindowSpec, instant: number): boolean {
  const local = localParts(instant, window.timezone);
  const now = local.hour * 60 + local.minute;
  const from = minuteOfDay(window.from);
  const to = minuteOfDay(window.to);
  const days: readonly Weekday[] = window.days;
  if (from < to) return days.includes(local.weekday) && now >= from && now < to;
  // Crosses midnight (or from = to: a whole day from `from`): the day named is the starting day.
  return (
    (days.includes(local.weekday) && now >= from) || (days.includes(previousDay(local.weekday)) && now < to)
  );
}

/** The freeze in force at `instant`, if any (the first listed when several overlap). */
export function activeFreeze<F extends FreezeSpec>(instant: number, freezes: readonly F[]): F | undefined {
  return freezes.find((f) => instant >= Date.parse(f.from) && instant < Date.parse(f.to));
}

function allowedAt(instant: number, windows: readonly WindowSpec[], freezes: readonly FreezeSpec[]): boolean {
  if (activeFreeze(instant, freezes)) return false;
  return windows.length === 0 || windows.some((w) => windowContains(w, instant));
}

export function isPromotionAllowed(
  now: Date,
  windows: readonly WindowSpec[],
  freezes: readonly FreezeSpec[],
): boolean {
  return allowedAt(now.getTime(), windows, freezes);
}

/** Every instant in (start, end] at which `window` opens by its wall clock. */
function windowOpenings(window: WindowSpec, start: number, end: number): number[] {
  const from = minuteOfDay(window.from);
  const first = localParts(start, window.timezone);
  const days: readonly Weekday[] = window.days;
  const openings: number[] = [];
  const spanDays = Math.ceil((end - start) / DAY_MS) + 2;
  for (let k = -1; k <= spanDays; k++) {
    const date = new Date(Date.UTC(first.year, first.month - 1, first.day + k));
    const [y, m, d] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    if (!days.includes(weekdayOf(y, m, d))) continue;
    for (const t of localInstants(y, m, d, from, window.timezone))
      if (t > start && t <= end) openings.push(t);
  }
  return openings;
}

/**
 * The earliest instant >= `now` inside an allowed window (any, when none are given) and outside
 * every freeze; `undefined` when there is none within `horizonDays`.
 *
 * The allowed set is a union of intervals closed on the left. Its left ends are window openings
 * (each local occurrence of `from` on a listed day), UTC-offset transitions (a window can open by a
 * clock jump) and freeze ends, so checking `now` and those instants in order is exact.
 */
export function nextPromotionTime(
  now: Date,
  windows: readonly WindowSpec[],
  freezes: readonly FreezeSpec[],
  horizonDays: number = PROMOTION_HORIZON_DAYS,
): Date | undefined {
  const start = now.getTime();
  if (allowedAt(start, windows, freezes)) return new Date(start);
  const end = start + horizonDays * DAY_MS;
  const candidates = new Set<number>();
  for (const f of freezes) {
    const t = Date.parse(f.to);
    if (t > start && t <= end) candidates.add(t);
  }
  for (const w of windows) for (const t of windowOpenings(w, start, end)) candidates.add(t);
  for (const zone of new Set(windows.map((w) => w.timezone))) {
    for (const t of offsetTransitions(zone, start, end)) candidates.add(t);
  }
  for (const t of [...candidates].sort((a, b) => a - b)) {
    if (allowedAt(t, windows, freezes)) return new Date(t);
  }
  return undefined;
}
