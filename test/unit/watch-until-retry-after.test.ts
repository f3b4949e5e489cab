// watchUntil's reads under a throttling apiserver: after a 429 (or 503) carrying Retry-After, the
// object is read again no sooner than the apiserver said; without one, after the short backoff.
// (Found by the fault proxy: the read retried after 500 ms whatever Retry-After said.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, type V1Deployment } from '@kubernetes/client-node';
import type { KubernetesClients } from '../../activities/kubernetes/clients.ts';
import { watchUntil } from '../../activities/kubernetes/watch-until.ts';

function throttled(code: number, retryAfter?: string): ApiException<string> {
  const body = JSON.stringify({
    kind: 'Status',
    code,
    reason: code === 429 ? 'TooManyRequests' : 'ServiceUnavailable',
  });
  return new ApiException(
    code,
    'throttled',
    body,
    retryAfter === undefined ? {} : { 'Retry-After': retryAfter },
  );
}

/** Reads once failing with `error`, then the object: the ms between the two reads. */
async function gapAfter(error: ApiException<string>): Promise<number> {
  const reads: number[] = [];
  const result = await watchUntil<V1Deployment, string>(
    // The object is decided at its first successful read: no watch is opened, no client used.
    {} as unknown as KubernetesClients,
    {
      path: '/apis/apps/v1/namespaces/ns/deployments',
      name: 'm',
      list: () => {
        reads.push(Date.now());
        return reads.length === 1
          ? Promise.reject(error)
          : Promise.resolve({ items: [{ metadata: { name: 'm' } }] });
      },
      decide: () => 'done',
      signal: new AbortController().signal,
      target: { verb: 'watch', resource: 'deployments', namespace: 'ns', name: 'm' },
    },
  );
  assert.equal(result, 'done');
  return (reads[1] ?? 0) - (reads[0] ?? 0);
}

describe('watchUntil honours Retry-After', () => {
  it('reads again no sooner than a 429 or 503 says', async () => {
    const after429 = await gapAfter(throttled(429, '2'));
    assert.ok(after429 >= 1_990, `429 Retry-After 2: read again after ${after429} ms`);
    const after503 = await gapAfter(throttled(503, '1'));
    assert.ok(after503 >= 990, `503 Retry-After 1: read again after ${after503} ms`);
  });

  it('without Retry-After, backs off briefly as before', async () => {
    const gap = await gapAfter(throttled(429));
    assert.ok(gap >= 450 && gap < 1_500, `read again after ${gap} ms`);
  });
});
