// Requests for one operation of an OpenAPI document, as a fast-check arbitrary: path parameters
// (known, valid, or bad), query strings (valid, out of range, repeated, unknown, broken escapes),
// bodies (a valid example mutated at schema paths, in every encoding of encodings.ts), another
// method now and then, and the caller's Authorization header. Each request lists its certain
// defects: what makes it invalid by the document, so the API must refuse it.
import fc from 'fast-check';
import { violation } from './conforms.ts';
import {
  encodeComponent,
  fillPath,
  resolve,
  typesOf,
  type Operation,
  type OpenApiDocument,
  type Parameter,
} from './document.ts';
import { encodings, oversized, type EncodedBody } from './encodings.ts';
import { BAD_KUBERNETES_NAMES, hostileString, hugeString, nearMisses, OTHER_METHODS } from './hostile.ts';
import { hostileValue, mutatedValue, validValue } from './values.ts';

export interface FuzzContext {
  doc: OpenApiDocument;
  /** Values of path parameters the app knows (an existing release, a token's namespace), by name. */
  knownParams: Record<string, readonly string[]>;
  /** Valid bodies by operation key, the bases of the mutations (else generated from the schema). */
  exampleBodies: Record<string, readonly unknown[]>;
}

export interface FuzzRequest {
  operation: Operation;
  role: string;
  /** The method sent (now and then not the documented one). */
  method: string;
  url: string;
  headers: Record<string, string>;
  payload: string | undefined;
  params: Record<string, string>;
  /** The body as the API parses it (absent: none, or it does not parse). */
  body: { value: unknown } | undefined;
  /** What makes the request invalid by the document, for certain: the API must refuse it. */
  defects: string[];
  /** Every choice made, for a failure message. */
  notes: string[];
}

/** The longest parameter value sent (a URL longer than this only tests the test's own encoder). */
const MAX_URL_VALUE = 10_000;

/** A parameter value as text: strings as they are, numbers as numerals, anything else as JSON. */
function asString(value: unknown): string {
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number'
        ? String(value)
        : (JSON.stringify(value) ?? '');
  return text.length > MAX_URL_VALUE ? text.slice(0, MAX_URL_VALUE) : text;
}

interface Chosen {
  value: string;
  note: string;
}

function paramValue(ctx: FuzzContext, param: Parameter): fc.Arbitrary<Chosen> {
  const known = ctx.knownParams[param.name] ?? [];
  const schema = resolve(ctx.doc, param.schema);
  const misses = (schema.enum ?? []).flatMap((v) => (typeof v === 'string' ? nearMisses(v) : []));
  return fc.oneof(
    ...(known.length > 0
      ? [{ weight: 6, arbitrary: fc.constantFrom(...known).map((value) => ({ value, note: 'known' })) }]
      : []),
    { weight: 2, arbitrary: validValue(ctx.doc, schema).map((v) => ({ value: asString(v), note: 'valid' })) },
    {
      weight: 3,
      arbitrary: fc
        .oneof(
          fc.constantFrom(...BAD_KUBERNETES_NAMES, ...(misses.length > 0 ? misses : ['x'])),
          hostileString,
          hostileValue(ctx.doc, schema).map(asString),
        )
        .map((value) => ({ value, note: 'hostile' })),
    },
  );
}

/** A query value as the API reads it: a number for a numeric schema (zod coerces), else the string. */
function queryViolation(ctx: FuzzContext, param: Parameter, values: string[]): string | undefined {
  const schema = resolve(ctx.doc, param.schema);
  const numeric = typesOf(schema)?.some((t) => t === 'integer' || t === 'number') ?? false;
  if (values.length > 1)
    return numeric || typesOf(schema)?.includes('string') ? `${param.name}: repeated` : undefined;
  const read = numeric ? Number(values[0]) : values[0];
  return violation(ctx.doc, schema, read, param.name);
}

interface QueryChoice {
  pairs: Array<[string, string]>;
  raw: string[];
  defects: string[];
}

function queryArbitrary(ctx: FuzzContext, op: Operation): fc.Arbitrary<QueryChoice> {
  const params = op.parameters.filter((p) => p.in === 'query');
  const perParam = params.map((param) =>
    fc.oneof(
      { weight: 5, arbitrary: fc.constant<string[]>([]) },
      { weight: 4, arbitrary: validValue(ctx.doc, param.schema).map((v) => [asString(v)]) },
      { weight: 3, arbitrary: hostileValue(ctx.doc, param.schema).map((v) => [asString(v)]) },
      {
        weight: 1,
        arbitrary: fc.array(validValue(ctx.doc, param.schema).map(asString), { minLength: 2, maxLength: 3 }),
      },
    ),
  );
  const extras = fc.subarray(
    [
      'unknown=1',
      '__proto__[polluted]=yes',
      'constructor[prototype][polluted]=yes',
      '__proto__=x',
      '%E0%A4%A',
      '%',
      '=x',
      '&&&',
      'a[b][c][d]=1',
      `big=${hugeString(8_000)}`,
      'dryRun',
      'pageSize',
      'x=%00',
    ],
    { maxLength: 2 },
  );
  return fc
    .tuple(
      fc.tuple(...perParam),
      fc.oneof({ weight: 6, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: extras }),
    )
    .map(([values, raw]) => {
      const pairs: Array<[string, string]> = [];
      const defects: string[] = [];
      params.forEach((param, index) => {
        const chosen = values[index] ?? [];
        const wellFormed = chosen.map((value) => value.toWellFormed());
        for (const value of wellFormed) pairs.push([param.name, value]);
        if (wellFormed.length > 0) {
          const broken = queryViolation(ctx, param, wellFormed);
          if (broken) defects.push(`query ${broken}`);
        }
      });
      return { pairs, raw, defects };
    });
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

interface BodyChoice {
  encoded: EncodedBody;
  notes: string[];
}

const NO_BODY: EncodedBody = {
  payload: undefined,
  contentType: undefined,
  parsed: undefined,
  defect: undefined,
  note: 'no body',
};

function bodyArbitrary(ctx: FuzzContext, op: Operation): fc.Arbitrary<BodyChoice> {
  if (!op.body) {
    // A route without a body: mostly none, now and then junk.
    return fc.oneof(
      { weight: 6, arbitrary: fc.constant<BodyChoice>({ encoded: NO_BODY, notes: [] }) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.jsonValue({ maxDepth: 2 }), encodings)
          .map(([v, encode]): BodyChoice => ({ encoded: encode(v), notes: ['junk body'] })),
      },
    );
  }
  const schema = op.body.schema;
  const examples = ctx.exampleBodies[op.key] ?? [];
  const base = examples.length > 0 ? fc.constantFrom(...examples) : validValue(ctx.doc, schema);
  const value = base.chain((example) =>
    fc.oneof(
      { weight: 1, arbitrary: fc.constant({ value: example, notes: ['the example as is'] }) },
      {
        weight: 9,
        arbitrary: mutatedValue(ctx.doc, schema, example).map((m) => ({
          value: m.value,
          notes: m.mutations.map((x) => `${x.kind} at ${x.path}`),
        })),
      },
    ),
  );
  return fc
    .tuple(value, encodings)
    .map(([{ value: v, notes }, encode]): BodyChoice => ({ encoded: encode(v), notes: [...notes] }));
}

function authorizationNote(header: string | undefined): string {
  if (header === undefined) return 'no Authorization';
  return `Authorization ${JSON.stringify(header.length > 40 ? `${header.slice(0, 12)}…(${header.length})` : header.replace(/\S{12,}/g, '<token>'))}`;
}

/** Requests for `op` by `role`, whose Authorization header (absent: none) comes from `authorization`. */
export function requestArbitrary(
  ctx: FuzzContext,
  op: Operation,
  role: string,
  authorization: fc.Arbitrary<string | undefined>,
): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const documented = op.method.toUpperCase();
  return fc
    .record({
      params: fc.tuple(...pathParams.map((p) => paramValue(ctx, p))),
      query: queryArbitrary(ctx, op),
      body: bodyArbitrary(ctx, op),
      method: fc.oneof(
        { weight: 24, arbitrary: fc.constant(documented) },
        { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS, 'HEAD') },
      ),
      authorization,
      accept: fc.constantFrom(
        undefined,
        undefined,
        undefined,
        'application/json',
        'application/xml',
        '*/*',
        'text/event-stream',
      ),
      pathTrick: fc.oneof(
        { weight: 16, arbitrary: fc.constant(undefined) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            'trailing slash',
            'double slash',
            'upper case',
            'bad escape',
            'dot segment',
          ),
        },
      ),
    })
    .map((c): FuzzRequest => {
      const params: Record<string, string> = {};
      const defects: string[] = [...c.query.defects];
      const notes: string[] = [];
      pathParams.forEach((param, index) => {
        const chosen = c.params[index]!;
        params[param.name] = chosen.value.toWellFormed();
        notes.push(`${param.name} ${chosen.note}`);
        const broken = violation(ctx.doc, param.schema, params[param.name], param.name);
        if (broken) defects.push(`path ${broken}`);
      });
      let path = fillPath(op.path, params);
      if (c.pathTrick === 'trailing slash') path += '/';
      if (c.pathTrick === 'double slash') path = path.replace('/', '//');
      if (c.pathTrick === 'upper case') path = path.toUpperCase();
      if (c.pathTrick === 'bad escape') path += '%E0%A4%A';
      if (c.pathTrick === 'dot segment') path = path.replace(/\/([^/]*)$/, '/../$1');
      if (c.pathTrick) notes.push(c.pathTrick);
      const query = [
        ...c.query.pairs.map(([k, v]) => `${encodeComponent(k)}=${encodeComponent(v)}`),
        ...c.query.raw,
      ].join('&');
      const method = c.method;
      if (method !== documented) {
        notes.push(`method ${method} instead of ${documented}`);
        // Another route may answer it: only what is wrong with its path parameters still holds.
        defects.splice(0, defects.length, ...defects.filter((d) => d.startsWith('path ')));
      }
      const carriesBody = BODY_METHODS.has(method) && method === documented;
      const encoded = carriesBody ? c.body.encoded : undefined;
      const headers: Record<string, string> = {};
      if (c.authorization !== undefined) headers.authorization = c.authorization;
      if (c.accept) headers.accept = c.accept;
      if (encoded?.contentType !== undefined) headers['content-type'] = encoded.contentType;
      notes.push(authorizationNote(c.authorization));
      let body: FuzzRequest['body'];
      if (encoded) {
        notes.push(encoded.note, ...c.body.notes);
        if (oversized(encoded)) defects.push('the body is over the 1 MiB limit');
        else if (encoded.defect) defects.push(encoded.defect);
        else if (encoded.parsed && op.body) {
          body = encoded.parsed;
          const broken = violation(ctx.doc, op.body.schema, encoded.parsed.value);
          if (broken) defects.push(`body ${broken}`);
        } else if (encoded.parsed) body = encoded.parsed;
      }
      return {
        operation: op,
        role,
        method,
        url: query ? `${path}?${query}` : path,
        headers,
        payload: encoded?.payload,
        params,
        body,
        defects,
        notes,
      };
    });
}

/** `request` with its body replaced by `value` as JSON (its body defects worked out again). */
export function withJsonBody(
  ctx: FuzzContext,
  request: FuzzRequest,
  value: unknown,
  note: string,
): FuzzRequest {
  const op = request.operation;
  const broken = op.body ? violation(ctx.doc, op.body.schema, value) : undefined;
  return {
    ...request,
    headers: { ...request.headers, 'content-type': 'application/json' },
    payload: JSON.stringify(value),
    body: { value },
    defects: [
      ...request.defects.filter((d) => d.startsWith('path ') || d.startsWith('query ')),
      ...(broken ? [`body ${broken}`] : []),
    ],
    notes: [...request.notes, note],
  };
}

/** How `spoil` makes a request certainly invalid. */
export type Spoiler = 'no-token' | 'wrong-content-type' | 'not-json';

/** `request` made invalid for certain in one way (for a request that must not take effect). */
export function spoil(request: FuzzRequest, how: Spoiler): FuzzRequest {
  const headers = { ...request.headers };
  let payload = request.payload;
  let defect: string;
  if (how === 'no-token') {
    delete headers.authorization;
    defect = 'spoiled: no Authorization header';
  } else if (how === 'wrong-content-type') {
    headers['content-type'] = 'text/plain';
    payload = 'spoiled';
    defect = 'spoiled: content type text/plain';
  } else {
    headers['content-type'] = 'application/json';
    payload = '{"spoiled": ';
    defect = 'spoiled: the body is not JSON';
  }
  return {
    ...request,
    headers,
    payload,
    body: undefined,
    defects: [...request.defects, defect],
    notes: [...request.notes, defect],
  };
}
