// Every workflow instance runs the module scope of everything the workflow code imports (the
// Temporal sandbox gives each workflow its own module instances), so the spec's zod schemas — a few
// MB and tens of ms to build — must not be reached from workflows/index.ts by a value import. The
// spec is parsed by an activity (activities/release-spec.ts); workflow code reads a parsed spec
// through workflows/spec/reading.ts, and update payloads are checked by hand (workflows/messages.ts):
// zod itself is megabytes per module instance, so no module the sandbox evaluates imports it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The specifiers a module imports or re-exports as values (type-only imports are erased). */
export function valueImports(source: string): string[] {
  const out: string[] = [];
  const statement = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^;]*?)\s+from\s+'([^']+)'/g;
  for (const m of source.matchAll(statement)) {
    if (m[2]) continue;
    const names = m[3] ?? '';
    const braces = /^\{([\s\S]*)\}$/.exec(names.trim());
    if (braces && braces[1]!.split(',').every((n) => n.trim() === '' || /^type\s/.test(n.trim()))) continue;
    out.push(m[4]!);
  }
  for (const m of source.matchAll(/(?:^|\n)\s*import\s+'([^']+)'/g)) out.push(m[1]!);
  return out;
}

function reachedFrom(entry: string): Map<string, string[]> {
  const reached = new Map<string, string[]>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (reached.has(file)) continue;
    const imports = valueImports(readFileSync(join(root, file), 'utf8'));
    reached.set(file, imports);
    for (const spec of imports)
      if (spec.startsWith('.')) queue.push(relative(root, join(dirname(join(root, file)), spec)));
  }
  return reached;
}

describe('what the workflow sandbox evaluates', () => {
  it('tells value imports from type-only ones', () => {
    assert.deepEqual(
      valueImports(
        [
          "import type { A } from './a.ts';",
          "import { type B, type C } from './b.ts';",
          "import { d, type E } from './d.ts';",
          "export { f } from './f.ts';",
          "export type { G } from './g.ts';",
          "import * as h from './h.ts';",
        ].join('\n'),
      ),
      ['./d.ts', './f.ts', './h.ts'],
    );
  });

  it('reaches no module that imports zod from workflows/index.ts', () => {
    const reached = reachedFrom('workflows/index.ts');
    assert.ok(reached.has('workflows/release.ts'), 'the walk reaches the release workflow');
    const zodUsers = [...reached].filter(([, imports]) => imports.includes('zod')).map(([file]) => file);
    assert.deepEqual(
      zodUsers,
      [],
      `modules the sandbox would evaluate that import zod: ${zodUsers.join(', ')}`,
    );
  });
});
