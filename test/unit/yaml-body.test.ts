// The API's YAML body parser: a clear 400 for what a body cannot be, the value otherwise.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProblemError } from '../../api/errors.ts';
import { parseYamlBody } from '../../api/yaml-body.ts';

const refused = (pattern: RegExp) => (error: unknown) =>
  error instanceof ProblemError && error.status === 400 && pattern.test(error.message);

describe('YAML request bodies', () => {
  it('parses YAML', () => {
    assert.deepEqual(parseYamlBody('model: m\nserving: { replicas: 2 }\n'), {
      model: 'm',
      serving: { replicas: 2 },
    });
  });
  it('says where a body is not YAML', () => {
    assert.throws(() => parseYamlBody('model: [unclosed'), refused(/^the body is not valid YAML: .*line 1/));
  });
  it('refuses more than 100 levels of nesting, self-referencing aliases included', () => {
    assert.throws(
      () => parseYamlBody(`${'['.repeat(101)}${']'.repeat(101)}`),
      refused(/^the body is nested more than 100 levels deep$/),
    );
    assert.throws(() => parseYamlBody('a: &a [*a]\n'), refused(/nested more than 100 levels|not valid YAML/));
  });
  it('says a body nested deeper than the parser can go is too deep (not "Maximum call stack size exceeded")', () => {
    const depth = 5_000;
    assert.throws(
      () => parseYamlBody(`${'['.repeat(depth)}${']'.repeat(depth)}`),
      refused(/^the body is nested more than 100 levels deep$/),
    );
  });
});
