// Durations in release specs. Users write strings such as `500ms`, `30s`, `10m`, `1h30m`, `2d`;
// parsing the spec parses each of them once, into a `Duration`: `{ text, ms }`, the text as written
// (what status, timeline and CLI show: `weight 10% for 5m`) and its milliseconds (what timers,
// timeouts and queries use). Nothing parses a duration after validation.
//
// Why a plain `{ text, ms }` object (not a number, not a class): the parsed spec travels through
// Temporal's JSON converter (to activities; from the API to the workflow, which parses it again as
// every entry point does), so it must be plain JSON and parse again to itself. A number would lose the
// text users wrote (`90m` shown as `1h30m` or `5400000`), a class its prototype on the way. So the
// schema takes either form: the string form (what users write, and what workflow histories recorded
// before durations were parsed hold), or the parsed form, which is checked like the string (strict:
// exactly `text` and `ms`; `ms` must be the text's value; the text's bounds apply), so a forged
// `{ text: '1s', ms: 1e12 }` is refused. Either way the output is `{ text, ms }`. Only the string
// form is documented (the OpenAPI document shows a duration's input as a string).
// Pure (imported inside the workflow sandbox).
import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(?:\d+(?:ms|s|m|h|d))+$/;
const PART_PATTERN = /(\d+)(ms|s|m|h|d)/g;
const DURATION_MESSAGE = 'must be a duration such as 500ms, 30s, 10m, 1h30m or 2d';

/** A validated duration of a parsed spec: the text as the user wrote it, and its milliseconds. */
export interface Duration {
  readonly text: string;
  readonly ms: number;
}

/** What a duration field accepts: the text users write, or an already-parsed (and re-checked) duration. */
export type DurationInput = string | Duration;

/** Milliseconds in a duration string, or `undefined` when the string is not a duration (or absurdly long). */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_PATTERN.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART_PATTERN)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/** True for a plain object with exactly a string `text` and a number `ms` (the parsed form). */
function isParsedForm(value: unknown): value is Duration {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return (
    keys.length === 2 &&
    'text' in value &&
    'ms' in value &&
    typeof value.text === 'string' &&
    typeof value.ms === 'number'
  );
}

export interface DurationBounds {
  /** Inclusive lower bound, itself a duration string (e.g. `1s`). */
  min?: string;
  /** Inclusive upper bound, itself a duration string (e.g. `366d`). */
  max?: string;
}

/** Milliseconds of a bound written in this file's callers (a programming error when it is no duration). */
function boundMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) throw new TypeError(`duration bound is not a duration: ${JSON.stringify(text)}`);
  return ms;
}

/**
 * A zod schema for a duration, optionally bounded: input a duration string (or an already-parsed
 * `{ text, ms }`, checked again), output `{ text, ms }` (see the header). Defaults go in as text,
 * with `.prefault('30s')` (parsed like a user's value).
 */
export function duration(bounds: DurationBounds = {}): z.ZodType<Duration, DurationInput> {
  const minMs = boundMs(bounds.min);
  const maxMs = boundMs(bounds.max);
  const fromText = z.string().transform((text, ctx): Duration => {
    const ms = parseDuration(text);
    if (ms === undefined) ctx.addIssue({ code: 'custom', message: DURATION_MESSAGE });
    else if (minMs !== undefined && ms < minMs)
      ctx.addIssue({ code: 'custom', message: `must be at least ${bounds.min}` });
    else if (maxMs !== undefined && ms > maxMs)
      ctx.addIssue({ code: 'custom', message: `must be at most ${bounds.max}` });
    else return { text, ms };
    return z.NEVER;
  });
  // The parsed form becomes its text again (the string schema then checks it, bounds included), once
  // its `ms` is known to be the text's value. Anything else goes on unchanged, for the string schema
  // to refuse with its own message.
  const schema = z.preprocess((value: unknown, ctx) => {
    if (!isParsedForm(value)) return value;
    const ms = parseDuration(value.text);
    if (ms !== undefined && ms !== value.ms)
      ctx.addIssue({
        code: 'custom',
        path: ['ms'],
        message: `must be the milliseconds of ${JSON.stringify(value.text)} (${ms})`,
      });
    return value.text;
  }, fromText);
  // The preprocess step's input type is `unknown`; what it accepts is exactly DurationInput.
  return schema as unknown as z.ZodType<Duration, DurationInput>;
}
