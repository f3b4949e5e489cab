// Page tokens of release lists: Temporal's tokens round-trip; one the API cannot have given out is a
// 400 at once (it used to reach Temporal, which failed it only after the client's ~20 s of retries).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProblemError } from '../../api/errors.ts';
import { decodePageToken, encodePageToken } from '../../api/page-token.ts';

const refused = (error: unknown) =>
  error instanceof ProblemError &&
  error.status === 400 &&
  /not a token this API gave out/.test(error.message);

describe('release list page tokens', () => {
  it('round-trips a token Temporal gave out', () => {
    const temporal = Buffer.from(
      '{"CloseTime":"9999-12-31T23:59:59Z","StartTime":"2026-12-02T15:04:31Z","RunID":"r"}',
    );
    const pageToken = encodePageToken(temporal)!;
    assert.match(pageToken, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(Buffer.from(decodePageToken(pageToken)), temporal);
    assert.equal(encodePageToken(new Uint8Array()), undefined);
    assert.equal(encodePageToken(null), undefined);
  });
  it('refuses at once what is no JSON object (a string, null, an array, nothing)', () => {
    for (const pageToken of [
      'null',
      'true',
      'a b',
      'kube-system',
      '%7D',
      '',
      encodePageToken(Buffer.from('[]'))!,
    ])
      assert.throws(() => decodePageToken(pageToken), refused, pageToken);
  });
});
