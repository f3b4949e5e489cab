// What every answer of the API to a fuzzed request must be: below 500; an error is an RFC 9457
// problem (JSON, its status, a title and a detail that says what is wrong) with no stack trace,
// source path, raw client error or secret in it; a request the document rules out is never
// accepted. Pure: the caller sends the request and hands the answer here.
import type { FuzzRequest } from './requests.ts';

export interface FuzzResponse {
  status: number;
  contentType: string;
  body: string;
}

/** What a clean message never contains: internals of the server or of the clients it uses. */
const LEAKS: ReadonlyArray<[string, RegExp]> = [
  ['a stack frame', /\n\s*at |\bat [\w.<>]+ \(/],
  ['a source path', /node_modules|file:\/\/|\/work\/|\.[cm]?[jt]s:\d+/],
  [
    'a JavaScript error',
    /\b(?:TypeError|ReferenceError|RangeError|InternalError)\b|Cannot read propert|is not a function|is not iterable|Maximum call stack/,
  ],
  ['an object printed as text', /\[object \w+\]/],
  ['a gRPC status', /\b\d{1,2} [A-Z][A-Z_]{3,}: |grpc|temporal\.api\./i],
  ['a Kubernetes client dump', /HttpError|HTTP request failed|"kind":\s*"Status"|"apiVersion"|statusCode/],
];

/** The longest detail a problem may have (a message that echoes a huge input is not a message). */
export const MAX_DETAIL = 2_000;

/** What is wrong with `response` to `request` (undefined: it is as it should be). */
export function responseProblem(
  request: FuzzRequest,
  response: FuzzResponse,
  secrets: readonly string[],
): string | undefined {
  const { status } = response;
  if (status >= 500) return `a ${status}`;
  for (const secret of secrets) if (response.body.includes(secret)) return 'the answer contains a token';
  if (status >= 200 && status < 300 && request.defects.length > 0)
    return `a ${status} for a request the document rules out (${request.defects.join('; ')})`;
  if (request.method === 'HEAD') return undefined; // no body, by definition
  if (status < 400) return okBodyProblem(response);
  if (!/^application\/problem\+json/.test(response.contentType))
    return `a ${status} as ${response.contentType || 'no content type'}, not application/problem+json`;
  let problem: unknown;
  try {
    problem = JSON.parse(response.body);
  } catch {
    return `a ${status} whose body is not JSON: ${response.body.slice(0, 200)}`;
  }
  if (!problem || typeof problem !== 'object') return `a ${status} whose body is not an object`;
  const { status: said, title, detail } = problem as Record<string, unknown>;
  if (said !== status) return `a ${status} whose problem says status ${String(said)}`;
  if (typeof title !== 'string' || title === '') return `a ${status} without a title`;
  if (typeof detail !== 'string' || detail.trim().length < 5) return `a ${status} without a detail`;
  if (detail.length > MAX_DETAIL) return `a ${status} whose detail is ${detail.length} characters long`;
  for (const [what, pattern] of LEAKS)
    if (pattern.test(response.body)) return `a ${status} with ${what} in it: ${detail.slice(0, 300)}`;
  return undefined;
}

function okBodyProblem(response: FuzzResponse): string | undefined {
  if (/json/.test(response.contentType)) {
    try {
      JSON.parse(response.body);
    } catch {
      return `a ${response.status} as ${response.contentType} whose body is not JSON`;
    }
  }
  for (const [what, pattern] of LEAKS.slice(0, 3))
    if (pattern.test(response.body) && !/^text\/(plain|event-stream)/.test(response.contentType))
      return `a ${response.status} with ${what} in it`;
  return undefined;
}
