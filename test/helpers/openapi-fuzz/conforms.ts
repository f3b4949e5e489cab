// Does a value conform to a JSON Schema of the document? A small checker of the keywords in
// document.ts, lenient where JSON Schema and zod count differently (string lengths: code points
// for a maximum, UTF-16 units for a minimum), so that "does not conform" is certain under both.
import { resolve, typesOf, type JsonSchema, type OpenApiDocument } from './document.ts';

function typeOk(type: string, value: unknown): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return true;
  }
}

const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b);

/** Where and why `value` breaks `schema` (e.g. `serving.replicas: above 10000`), or undefined. */
export function violation(
  doc: OpenApiDocument,
  schema: JsonSchema,
  value: unknown,
  at = '',
): string | undefined {
  const s = resolve(doc, schema);
  const here = (why: string) => `${at || '(root)'}: ${why}`;
  for (const part of s.allOf ?? []) {
    const broken = violation(doc, part, value, at);
    if (broken) return broken;
  }
  if (s.anyOf && !s.anyOf.some((part) => !violation(doc, part, value, at)))
    return here('matches none of anyOf');
  if (s.oneOf && s.oneOf.filter((part) => !violation(doc, part, value, at)).length !== 1)
    return here('does not match exactly one of oneOf');
  if (s.not && !violation(doc, s.not, value, at)) return here('matches its `not`');
  if (s.enum && !s.enum.some((option) => same(option, value))) return here('not one of its enum');
  if ('const' in s && !same(s.const, value)) return here('not its const');
  const types = typesOf(s);
  if (types && !types.some((type) => typeOk(type, value))) return here(`not of type ${types.join('|')}`);
  if (typeof value === 'string') {
    if (s.minLength !== undefined && value.length < s.minLength) return here('shorter than minLength');
    if (s.maxLength !== undefined && [...value].length > s.maxLength) return here('longer than maxLength');
    if (s.pattern !== undefined && !new RegExp(s.pattern).test(value)) return here('does not match pattern');
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined && !(value >= s.minimum)) return here(`below ${s.minimum}`);
    if (s.maximum !== undefined && !(value <= s.maximum)) return here(`above ${s.maximum}`);
    if (s.exclusiveMinimum !== undefined && !(value > s.exclusiveMinimum)) return here('not above min');
    if (s.exclusiveMaximum !== undefined && !(value < s.exclusiveMaximum)) return here('not below max');
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) return here('fewer than minItems');
    if (s.maxItems !== undefined && value.length > s.maxItems) return here('more than maxItems');
    if (s.items) {
      for (const [index, item] of value.entries()) {
        const broken = violation(doc, s.items, item, `${at}[${index}]`);
        if (broken) return broken;
      }
    }
  } else if (typeof value === 'object' && value !== null) {
    return objectViolation(doc, s, value as Record<string, unknown>, at);
  }
  return undefined;
}

function objectViolation(
  doc: OpenApiDocument,
  s: JsonSchema,
  value: Record<string, unknown>,
  at: string,
): string | undefined {
  const child = (key: string) => (at ? `${at}.${key}` : key);
  for (const key of s.required ?? [])
    if (!Object.hasOwn(value, key) || value[key] === undefined) return `${child(key)}: required`;
  for (const key of Object.keys(value)) {
    const property = s.properties && Object.hasOwn(s.properties, key) ? s.properties[key] : undefined;
    if (value[key] === undefined) continue;
    if (property) {
      const broken = violation(doc, property, value[key], child(key));
      if (broken) return broken;
      continue;
    }
    if (s.propertyNames) {
      const broken = violation(doc, s.propertyNames, key, `${child(key)} (key)`);
      if (broken) return broken;
    }
    if (s.additionalProperties === false) return `${child(key)}: not allowed`;
    if (typeof s.additionalProperties === 'object') {
      const broken = violation(doc, s.additionalProperties, value[key], child(key));
      if (broken) return broken;
    }
  }
  return undefined;
}
