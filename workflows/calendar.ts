// Promotion windows and freezes: deterministic calendar maths with time zones (Intl only), usable
// inside the workflow sandbox. A window `{days, from, to, timezone}` allows the local wall-clock times
// from `from` (inclusive) to `to` (exclusive) on the listed days; when `to` <= `from` the window
// crosses midnight and the day named is the day it starts. A freeze `[from, to)` forbids promotion.
import type { Freeze, PromotionWindow } from './spec.ts';

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const HORIZON_DAYS = 366;
const DAY_MS = 86_400_000;

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: string;
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
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function localParts(instant: number, timeZone: string): LocalParts {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instant))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: parts.weekday ?? '',
  };
}

/** The UTC instant of a local wall-clock time (in a DST gap: the instant after the gap). */
export function instantOfLocal(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  let guess = wall;
  for (let i = 0; i < 3; i++) {
    const p = localParts(guess, timeZone);
    const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    const offset = asUtc - guess;
    const next = wall - offset;
    if (next === guess) break;
    guess = next;
  }
  return guess;
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

function previousWeekday(weekday: string): string {
  const i = WEEKDAYS.indexOf(weekday as (typeof WEEKDAYS)[number]);
  return WEEKDAYS[(i + 6) % 7] ?? '';
}

export function windowContains(window: PromotionWindow, instant: number): boolean {
  const local = localParts(instant, window.timezone);
  const now = local.hour * 60 + local.minute;
  const from = minutes(window.from);
  const to = minutes(window.to);
  const days: readonly string[] = window.days;
  if (from < to) return days.includes(local.weekday) && now >= from && now < to;
  // Crosses midnight (or from == to: the whole day from `from` to the same time next day).
  return (days.includes(local.weekday) && now >= from) || (days.includes(previousWeekday(local.weekday)) && now < to);
}

function frozen(freezes: readonly Freeze[], instant: number): boolean {
  return freezes.some((f) => instant >= Date.parse(f.from) && instant < Date.parse(f.to));
}

export function isPromotionAllowed(now: Date, windows: readonly PromotionWindow[], freezes: readonly Freeze[]): boolean {
  const t = now.getTime();
  return (windows.length === 0 || windows.some((w) => windowContains(w, t))) && !frozen(freezes, t);
}

/**
 * The earliest instant >= now when promotion is allowed, or undefined when there is none within a
 * year. The allowed set is a union of intervals whose left ends are window starts or freeze ends,
 * so only those instants (and now) need checking.
 */
export function nextPromotionTime(now: Date, windows: readonly PromotionWindow[], freezes: readonly Freeze[]): Date | undefined {
  const start = now.getTime();
  const end = start + HORIZON_DAYS * DAY_MS;
  const candidates = new Set<number>([start]);
  for (const f of freezes) {
    const t = Date.parse(f.to);
    if (t > start && t <= end) candidates.add(t);
  }
  for (const w of windows) {
    const from = minutes(w.from);
    for (let d = -1; d <= HORIZON_DAYS; d++) {
      const local = localParts(start + d * DAY_MS, w.timezone);
      if (!(w.days as readonly string[]).includes(local.weekday)) continue;
      const t = instantOfLocal(local.year, local.month, local.day, Math.floor(from / 60), from % 60, w.timezone);
      if (t > start && t <= end) candidates.add(t);
    }
  }
  for (const t of [...candidates].sort((a, b) => a - b)) {
    if (isPromotionAllowed(new Date(t), windows, freezes)) return new Date(t);
  }
  return undefined;
}
