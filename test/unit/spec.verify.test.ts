// promote.verify: the gates that keep running after the promotion.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReleaseSpec, type ReleaseSpecInput } from '../../workflows/spec/index.ts';
import { issuePaths, messages, minimal } from './spec-fixtures.ts';

const gates: ReleaseSpecInput['gates'] = [
  { name: 'error-rate', prometheus: { query: 'errors' }, pass: { max: 0.01 } },
  {
    name: 'latency-vs-stable',
    judge: {
      test: 'mann-whitney',
      candidate: 'lat{version="{{version}}"}',
      baseline: 'lat',
      worseIf: 'higher',
    },
  },
];
const withVerify = (verify: unknown) => ({ ...minimal, gates, promote: { verify } }) as ReleaseSpecInput;

describe('promote.verify', () => {
  it('parses a duration and gates', () => {
    const spec = ReleaseSpec.parse(withVerify({ duration: '15m', gates: ['error-rate'] }));
    assert.deepEqual(spec.promote?.verify, { duration: { text: '15m', ms: 900_000 }, gates: ['error-rate'] });
  });

  it('refuses an undefined gate, a judge, no gates and no duration, each at its path', () => {
    assert.deepEqual(issuePaths(withVerify({ duration: '5m', gates: ['nope'] })), [
      ['promote', 'verify', 'gates', 0],
    ]);
    assert.match(
      messages(withVerify({ duration: '5m', gates: ['latency-vs-stable'] }))[0]!,
      /only one version to measure/,
    );
    assert.deepEqual(issuePaths(withVerify({ duration: '5m', gates: [] })), [['promote', 'verify', 'gates']]);
    assert.deepEqual(issuePaths(withVerify({ gates: ['error-rate'] })), [['promote', 'verify', 'duration']]);
    assert.deepEqual(issuePaths(withVerify({ duration: '30d', gates: ['error-rate'] })), [
      ['promote', 'verify', 'duration'],
    ]);
  });
});
