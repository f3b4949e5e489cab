// The hand-written checks of update payloads inside the workflow (workflows/messages.ts): exactly
// an actor of 1–200 characters and an optional comment of at most 2000, nothing else.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { actorProblem, rejectionProblem } from '../../workflows/messages.ts';

describe('update payload checks', () => {
  it('accepts exactly the actors the rules allow', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 260 }),
        fc.option(fc.string({ maxLength: 2100 }), { nil: undefined }),
        (actor, comment) => {
          const ok =
            actor.length >= 1 && actor.length <= 200 && (comment === undefined || comment.length <= 2000);
          const input = comment === undefined ? { actor } : { actor, comment };
          assert.equal(actorProblem(input) === undefined, ok, JSON.stringify(input).slice(0, 80));
        },
      ),
      { seed: 14, numRuns: 500 },
    );
  });

  it('refuses what is not an actor, saying what is wrong', () => {
    for (const [input, problem] of [
      [null, /expected an object/],
      [['alice'], /expected an object/],
      ['alice', /expected an object/],
      [{ actor: 'alice', role: 'admin' }, /unknown field: role/],
      [{ actor: 42 }, /actor: expected a name/],
      [{ actor: 'alice', comment: 7 }, /comment: expected text/],
      [{}, /actor: expected a name/],
    ] as const)
      assert.match(actorProblem(input) ?? 'accepted', problem, JSON.stringify(input));
  });

  it('wants a comment with a rejection', () => {
    assert.match(rejectionProblem({ actor: 'alice' }) ?? '', /a rejection needs a comment/);
    assert.match(rejectionProblem({ actor: 'alice', comment: '' }) ?? '', /a rejection needs a comment/);
    assert.equal(rejectionProblem({ actor: 'alice', comment: 'p99 too high' }), undefined);
  });
});
