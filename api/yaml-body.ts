// Request bodies in YAML (application/yaml and its aliases), parsed with a clear 400 for what they
// cannot be: not YAML (the parser's first line says where), or nested deeper than its stack.
import { parse as parseYaml } from 'yaml';
import { ProblemError } from './errors.ts';
import { TOO_DEEP } from './json-body.ts';

export function parseYamlBody(text: string): unknown {
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    // The parser reports its own stack overflow as a parse error "Maximum call stack size exceeded".
    if (error instanceof RangeError || (error instanceof Error && /call stack/i.test(error.message)))
      throw new ProblemError(400, TOO_DEEP);
    throw new ProblemError(
      400,
      `the body is not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
}
