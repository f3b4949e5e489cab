// Durations in release specs are strings such as `500ms`, `30s`, `10m`, `1h30m`, `2d`.
// Pure (imported inside the workflow sandbox).
import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(?:\d+(?:ms|s|m|h|d))+$/;
const PART_PATTERN = /(\d+)(ms|s|m|h|d)/g;
const DURATION_MESSAGE = 'must be a duration such as 500ms, 30s, 10m, 1h30m or 2d';

/** Milliseconds in a duration string, or `undefined` when the string is not a duration (or absurdly long). */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_PATTERN.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART_PATTERN)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

export interface DurationBounds {
  /** Inclusive lower bound, itself a duration string (e.g. `1s`). */
  min?: string;
  /** Inclusive upper bound, itself a duration string (e.g. `366d`). */
  max?: string;
}

/**
 * A zod schema for a duration string, optionally bounded. The parsed value stays a string (specs are
 * shown back as written); use `durationMs` to get milliseconds.
 */
export function duration(bounds: DurationBounds = {}): z.ZodString {
  const minMs = bounds.min === undefined ? undefined : durationMs(bounds.min);
  const maxMs = bounds.max === undefined ? undefined : durationMs(bounds.max);
  return z.string().superRefine((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) ctx.addIssue({ code: 'custom', message: DURATION_MESSAGE });
    else if (minMs !== undefined && ms < minMs)
      ctx.addIssue({ code: 'custom', message: `must be at least ${bounds.min}` });
    else if (maxMs !== undefined && ms > maxMs)
      ctx.addIssue({ code: 'custom', message: `must be at most ${bounds.max}` });
  });
}

/** A zod schema for any duration string (`0s` included). */
export const durationString = duration();

/** Milliseconds of a duration that has already passed validation. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new TypeError(`not a duration: ${JSON.stringify(text)}`);
  return ms;
}
