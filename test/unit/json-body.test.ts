// The API's JSON body parser: a clear 400 for what a body cannot be, the value otherwise.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProblemError } from '../../api/errors.ts';
import { parseJsonBody } from '../../api/json-body.ts';

const refused = (pattern: RegExp) => (error: unknown) =>
  error instanceof ProblemError && error.status === 400 && pattern.test(error.message);

describe('JSON request bodies', () => {
  it('parses JSON', () => {
    assert.deepEqual(parseJsonBody('{"model":"m","serving":{"labels":{"constructor":"x"}}}'), {
      model: 'm',
      serving: { labels: { constructor: 'x' } },
    });
  });
  it('refuses a __proto__ key anywhere, naming it', () => {
    assert.throws(
      () => parseJsonBody('{"a":{"b":[{"__proto__":{"x":1}}]}}'),
      refused(/a key named "__proto__"/),
    );
    assert.equal(({} as Record<string, unknown>).x, undefined, 'no prototype was touched');
  });
  it('says why a body is not JSON, and that an empty one is empty', () => {
    assert.throws(() => parseJsonBody('{"model": "x",'), refused(/^the body is not valid JSON: /));
    assert.throws(() => parseJsonBody('  '), refused(/the body is empty/));
  });
  it('takes 100 levels of nesting, and refuses 101 as too deep', () => {
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    assert.equal(JSON.stringify(parseJsonBody(nested(100))), nested(100));
    assert.throws(
      () => parseJsonBody(nested(101)),
      refused(/^the body is nested more than 100 levels deep$/),
    );
    assert.throws(
      () => parseJsonBody(`${'{"a":'.repeat(101)}1${'}'.repeat(101)}`),
      refused(/nested more than 100 levels/),
    );
  });
  it('says a body nested deeper than the parser can go is too deep (not "not valid JSON: Maximum call stack")', () => {
    const depth = 200_000;
    assert.throws(
      () => parseJsonBody(`${'['.repeat(depth)}${']'.repeat(depth)}`),
      refused(/^the body is nested more than 100 levels deep$/),
    );
  });
});
