// Zod building blocks the release spec is made of: records whose bad keys say what a key must be,
// "one of" shapes told apart by the key present, and durations of at least a second. Pure.
import { z } from 'zod';
import { duration } from '../duration.ts';

/** The largest integer Kubernetes stores in an int32 field (replicas, ports, seconds …). */
export const INT32_MAX = 2_147_483_647;

/**
 * A whole number from `min` to `max` (inclusive). Every integer that reaches Kubernetes has a `max`
 * no larger than `INT32_MAX` (the apiserver answers 500 to a larger int32).
 */
export function intIn(min: number, max: number, message = `must be a whole number from ${min} to ${max}`) {
  if (max > INT32_MAX) throw new RangeError(`intIn: ${max} exceeds int32`);
  return z.int(message).min(min, message).max(max, message);
}

/** The longest a release may wait for anything: a hold, a pause, an approval, a shadow stage. */
export const LONGEST_WAIT = '366d';

/** A duration from one second up to `max` (default `LONGEST_WAIT`): `30s`, `10m`, `1h30m`. */
export function positiveDuration(max: string = LONGEST_WAIT) {
  return duration({ min: '1s', max });
}

/**
 * A record whose invalid keys are reported with `keyMessage` (zod's own says only "Invalid key").
 * A `__proto__` key (JSON.parse makes it an own key) is refused too: zod would drop it silently.
 */
export function recordOf<K extends z.ZodType<string>, V extends z.ZodType>(
  key: K,
  value: V,
  keyMessage: string,
): z.ZodType<z.output<z.ZodRecord<K, V>>, z.input<z.ZodRecord<K, V>>> {
  const record = z.record(key, value, {
    error: (issue) => (issue.code === 'invalid_key' ? keyMessage : undefined),
  });
  return z.preprocess((input, ctx) => {
    if (typeof input === 'object' && input !== null && Object.hasOwn(input, '__proto__'))
      ctx.addIssue({ code: 'custom', path: ['__proto__'], message: keyMessage });
    return input;
  }, record);
}

type KeyedOptions = Record<string, z.ZodType>;
type KeyedUnion<O extends KeyedOptions, Extra extends z.ZodType> = z.ZodType<
  z.output<O[keyof O]> | z.output<Extra>,
  z.input<O[keyof O]> | z.input<Extra>
>;

/**
 * A union whose object members are told apart by which of their keys is present (`weight`,
 * `approval`, `pause`; `prometheus`, `http` …). The member chosen by the key validates the value,
 * so its errors keep their precise paths. `scalar` optionally admits a non-object form (a string).
 */
export function keyedUnion<const O extends KeyedOptions, Extra extends z.ZodType = z.ZodNever>(
  options: O,
  describe: { what: string; keys: string; scalar?: Extra },
): KeyedUnion<O, Extra> {
  const keys = Object.keys(options);
  const members = [...Object.values(options), ...(describe.scalar ? [describe.scalar] : [])] as [
    z.ZodType,
    ...z.ZodType[],
  ];
  const union = z.union(members);
  const checked = z.preprocess((value, ctx) => {
    const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
    if (!isObject) {
      if (describe.scalar) {
        const scalar = describe.scalar.safeParse(value);
        if (scalar.success) return value;
      }
      ctx.addIssue({ code: 'custom', message: `${describe.what} must be ${describe.keys}`, continue: false });
      return value;
    }
    const present = keys.filter((key) => key in value);
    if (present.length !== 1) {
      const found = present.length === 0 ? '' : ` (found ${present.join(' and ')})`;
      ctx.addIssue({
        code: 'custom',
        message: `${describe.what} must be ${describe.keys}${found}`,
        continue: false,
      });
      return value;
    }
    const parsed = options[present[0] as string]!.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, continue: false });
    }
    return value;
  }, union);
  // The preprocess step only validates (the value passes through unchanged), so the schema's input
  // and output types are those of the union.
  return checked as unknown as KeyedUnion<O, Extra>;
}
