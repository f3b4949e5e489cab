// How a body value goes on the wire: JSON or YAML in the documented ways, and every way a client
// gets it wrong — duplicate keys, a `__proto__` key, truncated or trailing text, a BOM, nothing,
// nesting deeper than a parser's stack, more than the body limit, YAML aliases and tags, the wrong
// content type. Each encoding says what the API will parse out of it (when it parses at all).
import fc from 'fast-check';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { JSON_CONTENT_TYPES, WRONG_CONTENT_TYPES, YAML_CONTENT_TYPES, hugeString } from './hostile.ts';

export interface EncodedBody {
  /** Absent: no body at all. */
  payload: string | undefined;
  contentType: string | undefined;
  /** The value the API parses out of the payload; absent when there is none or it does not parse. */
  parsed: { value: unknown } | undefined;
  /** Why no documented parser can read it (certain: the request is invalid by the document). */
  defect: string | undefined;
  note: string;
}

/** The largest value (as JSON text) sent as YAML. */
const MAX_YAML = 16_384;

/** More than the API's 1 MiB body limit. */
export const OVER_BODY_LIMIT = 1024 * 1024 + 4096;

function parsedJson(payload: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(payload) };
  } catch {
    return undefined;
  }
}

function parsedYaml(payload: string): { value: unknown } | undefined {
  try {
    return { value: parseYaml(payload) as unknown };
  } catch {
    return undefined;
  }
}

function json(payload: string, contentType: string, note: string): EncodedBody {
  const parsed = payload.trim() === '' ? undefined : parsedJson(payload);
  return { payload, contentType, parsed, defect: parsed ? undefined : 'the body is not JSON', note };
}

function yaml(payload: string, contentType: string, note: string): EncodedBody {
  const parsed = parsedYaml(payload);
  return { payload, contentType, parsed, defect: parsed ? undefined : 'the body is not YAML', note };
}

/** JSON for a value; nothing (undefined, a removed root) is `null`. */
const textOf = (value: unknown) => JSON.stringify(value) ?? 'null';

/** YAML for a value; nothing (undefined, a removed root) is an empty document, which reads as null. */
function toYaml(value: unknown): string {
  if (value === undefined) return '';
  try {
    return stringifyYaml(value);
  } catch {
    return textOf(value); // JSON is YAML too (a value too deep for the YAML writer)
  }
}

/** A JSON text with `insert` placed right after the first `{` (or the text itself without one). */
function afterFirstBrace(text: string, insert: string): string {
  const at = text.indexOf('{');
  if (at < 0) return text;
  const rest = text.slice(at + 1);
  return `${text.slice(0, at + 1)}${insert}${rest.trimStart().startsWith('}') ? '' : ','}${rest}`;
}

let bigText: Record<string, string> | undefined;
/** Texts nested past any parser's stack (200,000 levels), or just within it (8,000), and one over the body limit. */
function bigTexts(): Record<string, string> {
  const deep = (depth: number, open: string, leaf: string, close: string) =>
    `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;
  bigText ??= {
    'deep arrays (200,000)': deep(200_000, '[', '', ']'),
    'deep objects (50,000)': deep(50_000, '{"a":', '1', '}'),
    'deep arrays (8,000)': deep(8_000, '[', '1', ']'),
    'deep objects (8,000)': deep(8_000, '{"a":', '{}', '}'),
    'deep mixed (3,000)': deep(3_000, '{"a":[', '0', ']}'),
    oversized: JSON.stringify({ blob: hugeString(OVER_BODY_LIMIT) }),
  };
  return bigText;
}

const YAML_TRICKS: ReadonlyArray<[string, string]> = [
  [
    'alias bomb',
    'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
  ],
  ['two documents', 'model: a\n---\nmodel: b\n'],
  [
    'NaN and infinity',
    'model: .nan\nnamespace: .inf\nversion: -.inf\nserving: { replicas: .nan, port: .inf }\n',
  ],
  ['binary tag', 'model: !!binary aGVsbG8=\nserving: !!binary aGVsbG8=\n'],
  ['unknown tag', 'model: !fuzz x\ncomment: !!python/object:os.system ls\n'],
  ['merge keys', 'base: &b { replicas: 2 }\nserving: { <<: *b, image: x }\n<<: { model: merged }\n'],
  ['duplicate keys', 'model: a\nmodel: b\n'],
  ['complex key', '? [a, b]\n: 1\n? { c: d }\n: 2\n'],
  ['tabs', 'model:\tx\n\tnamespace: y\n'],
  ['proto key', '__proto__: { polluted: yes }\nconstructor: { prototype: { polluted: yes } }\ncomment: hi\n'],
  ['deep flow', `${'['.repeat(2_000)}${']'.repeat(2_000)}`],
  ['only a comment', '# nothing here\n'],
  ['a scalar', 'just a string'],
  ['hex and octal', 'hour: 0x0A\nminute: 0o17\nweight: 1_0\n'],
];

const constantBodies = new Map<string, EncodedBody>();

/** A body that does not depend on the value, parsed once. */
function once(key: string, make: () => EncodedBody): Encoding {
  return () => {
    let body = constantBodies.get(key);
    if (!body) {
      body = make();
      constantBodies.set(key, body);
    }
    return body;
  };
}

/** One way to send a value as a body. */
export type Encoding = (value: unknown) => EncodedBody;

const wrongType =
  (type: string): Encoding =>
  (value) => ({
    payload: textOf(value),
    contentType: type,
    parsed: undefined,
    defect: `content type ${type} is not documented`,
    note: `JSON as ${type}`,
  });

/** The ways a value (valid or not) is sent as a body (made once: encodings are chosen, then applied). */
export const encodings: fc.Arbitrary<Encoding> = fc.oneof(
  {
    weight: 55,
    arbitrary: fc.constantFrom(...JSON_CONTENT_TYPES).map(
      (type): Encoding =>
        (value) =>
          json(textOf(value), type, `JSON as ${type}`),
    ),
  },
  {
    weight: 10,
    // YAML is slow to write and to read: a big value goes as JSON instead.
    arbitrary: fc.constantFrom(...YAML_CONTENT_TYPES).map((type): Encoding => (value) => {
      const text = textOf(value);
      return text.length > MAX_YAML
        ? json(text, 'application/json', 'JSON (too big for YAML)')
        : yaml(toYaml(value), type, `YAML as ${type}`);
    }),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom('model', 'comment', 'at', 'namespace', 'serving'), fc.jsonValue({ maxDepth: 1 }))
      .map(([key, junk]): Encoding => (value) => {
        const text = textOf(value);
        const last = text.lastIndexOf('}');
        const payload =
          last > 0 ? `${text.slice(0, last)},${JSON.stringify(key)}:${JSON.stringify(junk)}}` : text;
        return json(payload, 'application/json', `duplicate key ${key} (last wins)`);
      }),
  },
  {
    weight: 4,
    arbitrary: fc
      .constantFrom('"__proto__":{"polluted":"yes"}', '"constructor":{"prototype":{"polluted":"yes"}}')
      .map(
        (insert): Encoding =>
          (value) =>
            json(afterFirstBrace(textOf(value), insert), 'application/json', `inserted ${insert}`),
      ),
  },
  {
    weight: 3,
    arbitrary: fc
      .double({ min: 0, max: 1, maxExcluded: true, noNaN: true })
      .map((fraction): Encoding => (value) => {
        const text = textOf(value);
        const at = Math.floor(fraction * text.length);
        return json(text.slice(0, at), 'application/json', `truncated at ${at}`);
      }),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom('}', ',', ' trailing', '\u0000', '// comment', '{}').map(
      (tail): Encoding =>
        (value) =>
          json(`${textOf(value)}${tail}`, 'application/json', `trailing ${JSON.stringify(tail)}`),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constant<Encoding>((value) =>
      json(`\uFEFF${textOf(value)}`, 'application/json', 'byte order mark'),
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        '',
        '   ',
        'null',
        'true',
        '0',
        '-0',
        '1e999',
        '"a string"',
        '[]',
        '{}',
        'undefined',
        'NaN',
      )
      .map((literal) =>
        once(`literal ${literal}`, () =>
          json(literal, 'application/json', `literal ${JSON.stringify(literal)}`),
        ),
      ),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(...Object.keys(bigTexts()))
      .map((which) => once(which, () => json(bigTexts()[which]!, 'application/json', which))),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(...YAML_TRICKS), fc.constantFrom(...YAML_CONTENT_TYPES))
      .map(([[name, payload], type]) =>
        once(`${name} ${type}`, () => yaml(payload, type, `YAML trick: ${name}`)),
      ),
  },
  { weight: 5, arbitrary: fc.constantFrom(...WRONG_CONTENT_TYPES).map(wrongType) },
  {
    weight: 1,
    arbitrary: fc.constant<Encoding>((value) => ({
      payload: textOf(value),
      contentType: undefined,
      parsed: undefined,
      defect: undefined,
      note: 'a body without a content type',
    })),
  },
  {
    weight: 2,
    arbitrary: fc.constant<Encoding>(() => ({
      payload: undefined,
      contentType: undefined,
      parsed: undefined,
      defect: undefined,
      note: 'no body',
    })),
  },
);

/** The body is over the limit: certain 413 (for a method whose body is read). */
export function oversized(encoded: EncodedBody): boolean {
  return encoded.payload !== undefined && Buffer.byteLength(encoded.payload) > 1024 * 1024;
}
