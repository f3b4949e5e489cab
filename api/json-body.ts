// Request bodies in JSON, parsed with a clear 400 for what they cannot be: empty, not JSON, nested
// too deeply (api/body-depth.ts), or carrying a `__proto__` key (Fastify's own parser refused that
// too, but said "not valid JSON").
import { TOO_DEEP, withinBodyDepth } from './body-depth.ts';
import { ProblemError } from './errors.ts';

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '')
    throw new ProblemError(400, 'the body is empty: send a JSON object, or no content-type');
  try {
    return withinBodyDepth(
      JSON.parse(text, (key: string, value: unknown) => {
        if (key === '__proto__')
          throw new ProblemError(400, 'the body has a key named "__proto__", which is not allowed');
        return value;
      }),
    );
  } catch (error) {
    if (error instanceof ProblemError) throw error;
    // Deeper than the parser's stack: a RangeError, not a syntax error.
    if (error instanceof RangeError) throw new ProblemError(400, TOO_DEEP);
    throw new ProblemError(
      400,
      `the body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
