// Identical reads in flight at once share one request; a read after the answer asks again, and a
// failed read is not kept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubernetesClients } from '../../activities/kubernetes/clients.ts';
import { sharedRead } from '../../activities/kubernetes/shared-reads.ts';

const clients = {} as KubernetesClients;
const other = {} as KubernetesClients;

describe('shared reads', () => {
  it('gives callers that arrive while a read is in flight its answer', async () => {
    let calls = 0;
    const read = () => new Promise<number>((resolve) => setTimeout(() => resolve(++calls), 20));
    const answers = await Promise.all([
      sharedRead(clients, 'nodes', read),
      sharedRead(clients, 'nodes', read),
      sharedRead(clients, 'nodes', read),
    ]);
    assert.deepEqual(answers, [1, 1, 1]);
    assert.equal(await sharedRead(clients, 'nodes', read), 2, 'a read after the answer asks again');
  });

  it('keeps keys and clusters apart', async () => {
    let calls = 0;
    const read = () => Promise.resolve(++calls);
    const answers = await Promise.all([
      sharedRead(clients, 'a', read),
      sharedRead(clients, 'b', read),
      sharedRead(other, 'a', read),
    ]);
    assert.deepEqual(answers.sort(), [1, 2, 3]);
  });

  it('does not keep a failure', async () => {
    await assert.rejects(
      sharedRead(clients, 'pods', () => Promise.reject(new Error('503'))),
      /503/,
    );
    assert.equal(await sharedRead(clients, 'pods', () => Promise.resolve('ok')), 'ok');
  });
});
