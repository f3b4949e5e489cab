// Values from a JSON Schema of the document, as fast-check arbitraries: values that conform (best
// effort: cross-field rules are not in the schema), values that break it at its edges (one past a
// bound, a near-miss of an enum or pattern, the wrong type, huge, deep, polluting keys), and
// mutations of a valid example at paths the schema names (so optional fields are fuzzed too).
import fc from 'fast-check';
import { resolve, typesOf, type JsonSchema, type OpenApiDocument } from './document.ts';
import {
  ABSURD_NUMBERS,
  BAD_KUBERNETES_NAMES,
  hostileString,
  hugeString,
  nearMisses,
  NUMBER_LIKE_STRINGS,
  POLLUTING_KEYS,
} from './hostile.ts';

const MAX_DEPTH = 7;

/** An object with an own (enumerable) property of any name, `__proto__` included. */
export function withOwn(target: object, key: string, value: unknown): object {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

/** A deep copy that keeps own `__proto__` keys as keys. */
export function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (value && typeof value === 'object') {
    const copy = {};
    for (const [key, item] of Object.entries(value)) withOwn(copy, key, clone(item));
    return copy;
  }
  return value;
}

/** `depth` levels of arrays or objects around `leaf`. */
export function nested(depth: number, kind: 'array' | 'object', leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = kind === 'array' ? [value] : { a: value };
  return value;
}

/** A fixed seed from a text (so that a pool made from it is the same every run). */
function seedOf(text: string): number {
  let hash = 0;
  for (const char of text) hash = (Math.imul(hash, 31) + char.codePointAt(0)!) | 0;
  return hash;
}

const patternPools = new Map<string, fc.Arbitrary<string>>();

/**
 * Strings matching a pattern, from a pool of 40 made once per pattern with a seed of its own:
 * fc.stringMatching is slow per value for patterns with negated classes (`[^\s]`, `.`).
 */
function matching(s: JsonSchema & { pattern: string }): fc.Arbitrary<string> {
  const key = `${s.pattern}\u0000${s.minLength ?? 0}\u0000${s.maxLength ?? ''}`;
  let pool = patternPools.get(key);
  if (!pool) {
    const fits = (v: string) => v.length <= (s.maxLength ?? Infinity) && v.length >= (s.minLength ?? 0);
    const values = fc
      .sample(fc.stringMatching(new RegExp(s.pattern), { size: 'xsmall' }), {
        seed: seedOf(key),
        numRuns: 200,
      })
      .filter(fits)
      .slice(0, 40);
    pool = values.length > 0 ? fc.constantFrom(...values) : fc.constant('');
    patternPools.set(key, pool);
  }
  return pool;
}

function stringValue(s: JsonSchema): fc.Arbitrary<string> {
  if (s.format === 'date-time')
    return fc
      .date({
        min: new Date('2000-01-01T00:00:00Z'),
        max: new Date('2200-01-01T00:00:00Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString());
  if (s.pattern !== undefined) return matching({ ...s, pattern: s.pattern });
  const max = Math.min(s.maxLength ?? 24, Math.max(24, s.minLength ?? 0));
  return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.max(max, s.minLength ?? 0) });
}

const validCache = new WeakMap<JsonSchema, fc.Arbitrary<unknown>>();

/** A value that conforms to `schema` (as far as its keywords tell). Made once per schema. */
export function validValue(doc: OpenApiDocument, schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(doc, schema);
  let arbitrary = validCache.get(s);
  if (!arbitrary) {
    arbitrary = validParts(doc, s, depth);
    validCache.set(s, arbitrary);
  }
  return arbitrary;
}

function validParts(doc: OpenApiDocument, s: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  if (s.enum) return fc.constantFrom(...s.enum);
  if ('const' in s) return fc.constant(s.const);
  const branches = s.anyOf ?? s.oneOf;
  if (branches) return fc.oneof(...branches.map((branch) => validValue(doc, branch, depth + 1)));
  if (s.allOf?.[0]) return validValue(doc, s.allOf[0], depth + 1);
  const types = typesOf(s) ?? (s.properties ? ['object'] : undefined);
  if (!types) return fc.jsonValue({ maxDepth: 2 });
  return fc.oneof(
    ...types.map((type): fc.Arbitrary<unknown> => {
      switch (type) {
        case 'string':
          return stringValue(s);
        case 'integer':
          return fc.integer({ min: s.minimum ?? -1000, max: s.maximum ?? 1000 });
        case 'number':
          return fc.double({
            min: s.minimum ?? -1000,
            max: s.maximum ?? 1000,
            noNaN: true,
            noDefaultInfinity: true,
          });
        case 'boolean':
          return fc.boolean();
        case 'null':
          return fc.constant(null);
        case 'array':
          return fc.array(s.items ? validValue(doc, s.items, depth + 1) : fc.jsonValue({ maxDepth: 1 }), {
            minLength: s.minItems ?? 0,
            maxLength: Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? 3, 3)),
          });
        default:
          return objectValue(doc, s, depth);
      }
    }),
  );
}

function objectValue(doc: OpenApiDocument, s: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  const required = new Set(s.required ?? []);
  const keys = Object.keys(s.properties ?? {}).filter((key) => depth < MAX_DEPTH || required.has(key));
  const model = Object.fromEntries(keys.map((key) => [key, validValue(doc, s.properties![key]!, depth + 1)]));
  const known = fc.record(model, { requiredKeys: keys.filter((key) => required.has(key)) });
  if (typeof s.additionalProperties !== 'object' || depth >= MAX_DEPTH) return known;
  const extra = fc.dictionary(
    s.propertyNames ? (validValue(doc, s.propertyNames, depth + 1) as fc.Arbitrary<string>) : fc.string(),
    validValue(doc, s.additionalProperties, depth + 1),
    { maxKeys: 2 },
  );
  return fc.tuple(known, extra).map(([a, b]) => ({ ...b, ...a }));
}

/** Values of the wrong type for a schema of `types`. */
function wrongTypes(types: readonly string[] | undefined): unknown[] {
  const all: Array<[string, unknown]> = [
    ['string', 'x'],
    ['integer', 7],
    ['number', 0.25],
    ['boolean', true],
    ['null', null],
    ['array', []],
    ['object', {}],
  ];
  return all
    .filter(([type]) => !types?.includes(type) && !(type === 'integer' && types?.includes('number')))
    .map(([, value]) => value);
}

/** Big hostile values, made once (a request that carries one shares it; nothing mutates them). */
let big: { long: unknown[]; deep: unknown[] } | undefined;
function bigValues(): { long: unknown[]; deep: unknown[] } {
  big ??= {
    long: [
      hugeString(50_000, '🦄'),
      Array.from({ length: 5_000 }, (_, i) => i),
      Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`k${i}`, i])),
    ],
    deep: [nested(2_000, 'array'), nested(2_000, 'object'), nested(50, 'object', nested(50, 'array'))],
  };
  return big;
}

const hostileCache = new WeakMap<JsonSchema, fc.Arbitrary<unknown>>();

/** Values that break `schema` at its edges, or are absurd for its type. */
export function hostileValue(doc: OpenApiDocument, schema: JsonSchema): fc.Arbitrary<unknown> {
  const s = resolve(doc, schema);
  let arbitrary = hostileCache.get(s);
  if (!arbitrary) {
    // Each kind of hostile value as likely as another; the big ones (slow to send and to check) less.
    const parts = hostileParts(doc, s);
    arbitrary = fc.oneof(...parts.map((part) => ({ weight: 4, arbitrary: part })), {
      weight: 1,
      arbitrary: fc.constantFrom(...bigValues().long, ...bigValues().deep),
    });
    hostileCache.set(s, arbitrary);
  }
  return arbitrary;
}

function hostileParts(doc: OpenApiDocument, s: JsonSchema): Array<fc.Arbitrary<unknown>> {
  const types = typesOf(s);
  const wrong = wrongTypes(types);
  const parts: Array<fc.Arbitrary<unknown>> = [fc.constantFrom(...(wrong.length > 0 ? wrong : [null]))];
  if (s.enum) {
    const misses = s.enum.flatMap((value) =>
      typeof value === 'string' ? nearMisses(value) : [String(value)],
    );
    parts.push(fc.constantFrom(...misses, 0, ''));
  }
  const branches = s.anyOf ?? s.oneOf;
  if (branches)
    parts.push(...branches.map((branch) => fc.constant(branch).chain((b) => hostileValue(doc, b))));
  if (types?.includes('integer') || types?.includes('number')) {
    const edges = [
      ...(s.minimum !== undefined ? [s.minimum - 1, s.minimum - 0.5] : []),
      ...(s.maximum !== undefined ? [s.maximum + 1, s.maximum + 0.5] : []),
    ];
    parts.push(fc.constantFrom(...edges, ...ABSURD_NUMBERS, ...NUMBER_LIKE_STRINGS));
  }
  if (types?.includes('string') || (types === undefined && !s.properties)) {
    const long = (s.maxLength ?? 4096) + 1;
    parts.push(
      fc.constantFrom('', hugeString(long), hugeString(long, 'é'), ...BAD_KUBERNETES_NAMES),
      hostileString,
    );
    if (s.pattern !== undefined) parts.push(patternMiss(s));
  }
  if (types?.includes('array')) {
    parts.push(
      fc.constantFrom(
        Array.from({ length: (s.maxItems ?? 1000) + 1 }, () => null),
        { 0: 'not', length: 1 },
      ),
    );
    if (s.items) {
      const items = s.items;
      parts.push(fc.constant(items).chain((i) => hostileValue(doc, i).map((item) => [item])));
    }
  }
  if (types?.includes('object') || s.properties) parts.push(hostileObject(doc, s));
  return parts;
}

/** A near miss of a string pattern: a valid value made upper case, prefixed, suffixed or spaced. */
function patternMiss(s: JsonSchema): fc.Arbitrary<string> {
  return fc
    .tuple(stringValue({ ...s, maxLength: Math.min(s.maxLength ?? 20, 20) }), fc.integer({ min: 0, max: 5 }))
    .map(([valid, how]) => {
      switch (how) {
        case 0:
          return valid.toUpperCase() === valid ? `${valid}_` : valid.toUpperCase();
        case 1:
          return `-${valid}`;
        case 2:
          return `${valid}-`;
        case 3:
          return `${valid} ${valid}`;
        case 4:
          return `${valid}\n`;
        default:
          return `${valid}.${valid}_`;
      }
    });
}

function hostileObject(doc: OpenApiDocument, s: JsonSchema): fc.Arbitrary<unknown> {
  const valid = validValue(doc, s);
  return fc.oneof(
    fc.constant({}),
    fc
      .tuple(valid, fc.constantFrom(...POLLUTING_KEYS, 'unknownField', ''), fc.jsonValue({ maxDepth: 2 }))
      .map(([base, key, junk]) =>
        withOwn(
          clone(base && typeof base === 'object' ? base : {}) as object,
          key,
          key === '__proto__' || key === 'constructor'
            ? { polluted: 'yes', prototype: { polluted: 'yes' } }
            : junk,
        ),
      ),
    fc.tuple(valid, fc.constantFrom(...POLLUTING_KEYS)).map(([base, key]) => withOwn({}, key, base)),
  );
}

/** A place in a value that a schema describes: the path to it and its schema there. */
export interface SchemaPath {
  segments: Array<string | number>;
  schema: JsonSchema;
}

/** Every path the schema describes (through properties, items, map values and union branches). */
export function schemaPaths(doc: OpenApiDocument, schema: JsonSchema, limit = MAX_DEPTH): SchemaPath[] {
  const found: SchemaPath[] = [];
  const walk = (raw: JsonSchema, segments: Array<string | number>, depth: number): void => {
    const s = resolve(doc, raw);
    if (depth > limit) return;
    for (const branch of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])])
      walk(branch, segments, depth + 1);
    for (const [key, child] of Object.entries(s.properties ?? {})) {
      found.push({ segments: [...segments, key], schema: child });
      walk(child, [...segments, key], depth + 1);
    }
    if (s.items) {
      found.push({ segments: [...segments, 0], schema: s.items });
      walk(s.items, [...segments, 0], depth + 1);
    }
    if (typeof s.additionalProperties === 'object') {
      found.push({ segments: [...segments, 'fuzz.example/key'], schema: s.additionalProperties });
    }
  };
  found.push({ segments: [], schema });
  walk(schema, [], 0);
  return found;
}

/** Sets (or with `remove`, deletes) the value at `segments` of `root` in place, creating containers on the way. */
export function setAt(
  root: unknown,
  segments: ReadonlyArray<string | number>,
  value: unknown,
  remove = false,
): unknown {
  if (segments.length === 0) return remove ? undefined : value;
  const top: unknown = root && typeof root === 'object' ? root : typeof segments[0] === 'number' ? [] : {};
  let container = top as Record<string, unknown>;
  for (const [index, segment] of segments.entries()) {
    const key = String(segment);
    if (index === segments.length - 1) {
      if (!remove) withOwn(container, key, value);
      else if (Array.isArray(container) && typeof segment === 'number') container.splice(segment, 1);
      else delete container[key];
      break;
    }
    let next = Object.hasOwn(container, key) ? container[key] : undefined;
    if (!next || typeof next !== 'object') {
      next = typeof segments[index + 1] === 'number' ? [] : {};
      withOwn(container, key, next);
    }
    container = next as Record<string, unknown>;
  }
  return top;
}

/** What one mutation did, for a failure message. */
export interface Mutation {
  path: string;
  kind: 'hostile' | 'valid' | 'removed';
}

interface Change {
  path: SchemaPath;
  kind: Mutation['kind'];
  value: unknown;
}

const changesCache = new WeakMap<JsonSchema, fc.Arbitrary<Change[]>>();

/** 1 to 3 changes at the schema's paths: hostile values, other valid values, removals (made once per schema). */
function changesOf(doc: OpenApiDocument, schema: JsonSchema): fc.Arbitrary<Change[]> {
  let arbitrary = changesCache.get(schema);
  if (!arbitrary) {
    const one = schemaPaths(doc, schema).map((path) =>
      fc
        .oneof(
          {
            weight: 14,
            arbitrary: hostileValue(doc, path.schema).map((value) => ({ kind: 'hostile' as const, value })),
          },
          {
            weight: 4,
            arbitrary: validValue(doc, path.schema).map((value) => ({ kind: 'valid' as const, value })),
          },
          { weight: 1, arbitrary: fc.constant({ kind: 'removed' as const, value: undefined }) },
        )
        .map((change): Change => ({ path, ...change })),
    );
    arbitrary = fc.array(fc.oneof(...one), { minLength: 1, maxLength: 3 });
    changesCache.set(schema, arbitrary);
  }
  return arbitrary;
}

/** `base` with 1 to 3 mutations at schema paths: hostile values, other valid values, removals. */
export function mutatedValue(
  doc: OpenApiDocument,
  schema: JsonSchema,
  base: unknown,
): fc.Arbitrary<{ value: unknown; mutations: Mutation[] }> {
  return changesOf(doc, schema).map((picked) => {
    let value = clone(base);
    for (const change of picked)
      value = setAt(value, change.path.segments, clone(change.value), change.kind === 'removed');
    return {
      value,
      mutations: picked.map((c) => ({ path: c.path.segments.join('.') || '(root)', kind: c.kind })),
    };
  });
}
