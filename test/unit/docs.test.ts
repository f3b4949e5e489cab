// The docs stay true to the code: every complete release spec shown in README.md and docs/ is valid
// for the real schema, and every relative link points at a file that exists.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ReleaseSpec } from '../../workflows/spec/index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pages = [
  'README.md',
  'infra/k8s/README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('docs', () => {
  it('every complete release spec in the docs parses', () => {
    let checked = 0;
    // docs/design.md keeps the shared design's sketch (`probes: {...}`), which is not meant to parse.
    for (const page of pages.filter((p) => p !== 'docs/design.md')) {
      const text = readFileSync(join(root, page), 'utf8');
      for (const [, block] of text.matchAll(/```yaml\n([\s\S]*?)```/g)) {
        if (!/^model:/m.test(block!) || !/^serving:/m.test(block!)) continue; // a fragment, not a spec
        const parsed = ReleaseSpec.safeParse(parseYaml(block!));
        assert.ok(
          parsed.success,
          `${page}: ${parsed.success ? '' : z.prettifyError(parsed.error)}\n${block}`,
        );
        checked++;
      }
    }
    assert.ok(checked >= 3, `found ${checked} specs`); // release-spec.md, concepts.md, getting-started.md
  });

  it('every relative link points at a file that exists', () => {
    const broken: string[] = [];
    for (const page of pages) {
      const text = readFileSync(join(root, page), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue; // http:, https:, mailto:
        if (!existsSync(join(root, dirname(page), target!))) broken.push(`${page} → ${target}`);
      }
    }
    assert.deepEqual(broken, []);
  });
});
