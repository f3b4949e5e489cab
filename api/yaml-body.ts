// Request bodies in YAML (application/yaml and its aliases), parsed with a clear 400 for what they
// cannot be: not YAML (the parser's first line says where), or nested too deeply (api/body-depth.ts).
import { parse as parseYaml } from 'yaml';
import { TOO_DEEP, withinBodyDepth } from './body-depth.ts';
import { ProblemError } from './errors.ts';

export function parseYamlBody(text: string): unknown {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    // The parser reports its own stack overflow as a parse error "Maximum call stack size exceeded".
    if (error instanceof RangeError || (error instanceof Error && /call stack/i.test(error.message)))
      throw new ProblemError(400, TOO_DEEP);
    throw new ProblemError(
      400,
      `the body is not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
  return withinBodyDepth(value);
}
