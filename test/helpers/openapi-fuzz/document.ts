// The part of an OpenAPI 3.1 document a schema-driven fuzzer reads: its operations (method, path,
// parameters, request body) and JSON Schemas, with `$ref`s resolved — a `$ref` that points at
// nothing is an error, never silently an empty schema. Pure data, no HTTP.

/** The JSON Schema keywords the fuzzer understands (zod's JSON Schema output uses these). */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: readonly unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
  anyOf?: readonly JsonSchema[];
  oneOf?: readonly JsonSchema[];
  allOf?: readonly JsonSchema[];
  not?: JsonSchema;
}

export interface Parameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}

interface RawOperation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, unknown>;
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, RawOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

export interface Operation {
  /** `post /v1/releases`: method (lower case) and the documented path. */
  key: string;
  method: string;
  path: string;
  parameters: Parameter[];
  body: { required: boolean; contentTypes: string[]; schema: JsonSchema } | undefined;
  /** The documented response statuses. */
  responses: string[];
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** Every operation of the document, in document order. */
export function operations(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => METHODS.has(method))
      .map(([method, raw]): Operation => {
        const content = raw.requestBody?.content ?? {};
        const contentTypes = Object.keys(content);
        const first = contentTypes[0];
        return {
          key: `${method} ${path}`,
          method,
          path,
          parameters: raw.parameters ?? [],
          body:
            first === undefined
              ? undefined
              : {
                  required: raw.requestBody?.required ?? false,
                  contentTypes,
                  schema: content[first]?.schema ?? {},
                },
          responses: Object.keys(raw.responses ?? {}),
        };
      }),
  );
}

/** The schema a `$ref` chain ends at; throws for a `$ref` that points at nothing. */
export function resolve(doc: OpenApiDocument, schema: JsonSchema): JsonSchema {
  let current = schema;
  for (let hops = 0; current.$ref !== undefined; hops++) {
    const match = /^#\/components\/schemas\/(.+)$/.exec(current.$ref);
    const target = match ? doc.components?.schemas?.[match[1]!] : undefined;
    if (!target || hops > 32)
      throw new Error(`the OpenAPI document's $ref ${current.$ref} points at nothing`);
    current = target;
  }
  return current;
}

/** Every `$ref` in the document that does not resolve (empty for a self-contained document). */
export function danglingRefs(doc: OpenApiDocument): string[] {
  const dangling = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') {
          try {
            resolve(doc, { $ref: value });
          } catch {
            dangling.add(value);
          }
        } else visit(value);
      }
    }
  };
  visit(doc);
  return [...dangling].sort();
}

/** The types a schema allows (`undefined`: any). */
export function typesOf(schema: JsonSchema): string[] | undefined {
  if (schema.type === undefined) return undefined;
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

/** Percent-encodes a URL component (a lone surrogate, which URLs cannot carry, becomes U+FFFD). */
export function encodeComponent(value: string): string {
  return encodeURIComponent(value.toWellFormed());
}

/** The path of an operation with its parameters filled in (values percent-encoded). */
export function fillPath(path: string, params: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_whole, name: string) => encodeComponent(params[name] ?? ''));
}
