// Durations in release specs are strings such as `500ms`, `30s`, `10m`, `1h30m`, `2d`.
import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(?:\d+(?:ms|s|m|h|d))+$/;
const PART_PATTERN = /(\d+)(ms|s|m|h|d)/g;

/** Milliseconds in a duration string, or `undefined` when the string is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_PATTERN.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART_PATTERN)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return total;
}

/** A zod schema for a duration string; the parsed value stays a string (specs are shown back as written). */
export const durationString = z.string().refine((text) => parseDuration(text) !== undefined, {
  message: 'must be a duration such as 500ms, 30s, 10m, 1h30m or 2d',
});

/** Milliseconds of a duration that has already passed validation. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new TypeError(`not a duration: ${JSON.stringify(text)}`);
  return ms;
}
