// The raw material of hostile input: absurd numbers, strings that break parsers, loggers and
// Kubernetes names, object keys that pollute prototypes, near misses of enum values, tokens and
// content types that are almost right. Plain data and small arbitraries; no schema knowledge.
import fc from 'fast-check';

/** Numbers at and past every edge (NaN and ±Infinity only survive a YAML body; JSON makes them null). */
export const ABSURD_NUMBERS: readonly number[] = [
  -1,
  0,
  -0,
  0.5,
  1.5,
  -2147483649,
  2147483648,
  4294967296,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER - 2,
  1e21,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  5e-324,
  NaN,
  Infinity,
  -Infinity,
];

/** Strings that look like numbers, booleans or nothing. */
export const NUMBER_LIKE_STRINGS: readonly string[] = [
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '0x10',
  '1_000',
  '00012',
  '-0',
  '12abc',
  ' 12',
  '',
  'null',
  'undefined',
  'true',
];

/** Strings that break parsers, templates, shells, logs and terminals. */
export const NASTY_STRINGS: readonly string[] = [
  ' ',
  '\t\n\r',
  '\u0000',
  'a\u0000b',
  '\r\nX-Injected: 1',
  '\u202Egnp.exe',
  '\u200B',
  'e\u0301\u0301\u0301\u0301',
  'Z̷̧̛̖͎̓̈́a̶̢̛͚̓l̷g̸o',
  '🦄🔥',
  '\uD800',
  '\uDFFF\uD800',
  '\uFEFF',
  'ﬀ',
  'İstanbul',
  'модель',
  '模型',
  '../../../../etc/passwd',
  '..',
  '.',
  '%2e%2e%2f',
  '%00',
  '%',
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  "'; DROP TABLE releases; --",
  "' OR ExecutionStatus = 'Running",
  '\\',
  '"',
  '%s%s%n',
  '$(reboot)',
  '`id`',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
];

/** Keys that pollute prototypes or shadow Object's own members. */
export const POLLUTING_KEYS: readonly string[] = [
  '__proto__',
  'constructor',
  'prototype',
  '__defineGetter__',
  'toString',
  'valueOf',
  'hasOwnProperty',
];

/** Names that are not DNS-1123 labels (or only just are), for path and query parameters. */
export const BAD_KUBERNETES_NAMES: readonly string[] = [
  'Upper',
  'under_score',
  '-leading',
  'trailing-',
  'a.b',
  'a b',
  'a/b',
  'a%2Fb',
  'a'.repeat(57),
  'a'.repeat(64),
  'a'.repeat(253),
  'a'.repeat(5000),
  'ünïcödé',
  'default\u0000',
  'xn--',
  '0',
  'kube-system',
];

/** Near misses of an enum value: case, whitespace, truncation, homoglyphs, prefixes. */
export function nearMisses(value: string): string[] {
  const misses = [
    value.toUpperCase(),
    value.charAt(0).toUpperCase() + value.slice(1),
    `${value} `,
    ` ${value}`,
    value.slice(0, -1),
    `${value}s`,
    value.replace(/a/, 'а').replace(/e/, 'е').replace(/o/, 'о'), // Cyrillic lookalikes
    `${value}\u0000`,
    `${value}\u200B`,
    encodeURIComponent(value) === value ? `%${value}` : encodeURIComponent(value),
  ];
  return [...new Set(misses)].filter((miss) => miss !== value);
}

/** A string of `length` characters built from a repeated unit (ASCII or not). */
export function hugeString(length: number, unit = 'x'): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/** Authorization headers that are no valid bearer token (but some look like one). */
export function garbledAuthorizations(validToken: string): string[] {
  return [
    '',
    'Bearer',
    'Bearer ',
    'Bearer  ',
    `Basic ${Buffer.from(`admin:${validToken}`).toString('base64')}`,
    `Token ${validToken}`,
    `Bearer ${validToken}x`,
    `Bearer ${validToken.slice(0, -1)}`,
    `Bearer ${validToken.toUpperCase()}`,
    `Bearer ${validToken} ${validToken}`,
    `Bearer ${validToken},Bearer ${validToken}`,
    `Bearer "${validToken}"`,
    `Bearer ${validToken}\u0000`,
    `Bearer ${hugeString(20_000)}`,
    'Bearer null',
    'Bearer undefined',
    'Bearer [object Object]',
    'Bearer ../../etc/passwd',
    `Bearer\t${validToken}x`,
    'Bearer 🦄',
    `${validToken}`,
  ];
}

/** Content types the API does not take (415), or takes only in part. */
export const WRONG_CONTENT_TYPES: readonly string[] = [
  'text/plain',
  'text/html',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'application/octet-stream',
  'application/jsonx',
  'application/json-patch+json',
  'image/png',
  ';',
  '*/*',
  'json',
];

/** Content types the API takes as JSON (or YAML), spelled in ways a client might. */
export const JSON_CONTENT_TYPES: readonly string[] = [
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/json;charset=UTF-8',
];
export const YAML_CONTENT_TYPES: readonly string[] = ['application/yaml', 'application/x-yaml', 'text/yaml'];

/** HTTP methods a route does not document. */
export const OTHER_METHODS: readonly string[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/** A short hostile string: one from the lists, or a random unicode one. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS, ...NUMBER_LIKE_STRINGS) },
  {
    weight: 2,
    // Any code points, lone surrogates and controls included (cheaper than fc.string's binary unit).
    arbitrary: fc
      .array(fc.integer({ min: 0, max: 0x10ffff }), { maxLength: 40 })
      .map((points) => String.fromCodePoint(...points)),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
);
