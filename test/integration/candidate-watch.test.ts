// observeCandidate and watchCandidate on the real cluster: the watch resolves when the candidate is
// deleted (or being deleted), replaced, or scaled below what it must keep available — and not while
// it is healthy, even across the quiet spells after which client-node ends a watch; cancelling it
// rejects with the cancellation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createKubernetesActivities } from '../../activities/kubernetes/activities.ts';
import type { WatchCandidateInput } from '../../activities/kubernetes/candidate.ts';
import type { RolloutInput } from '../../activities/kubernetes/rollout.ts';
import { createKubernetesClients } from '../../activities/kubernetes/clients.ts';
import { watchUntil } from '../../activities/kubernetes/watch-until.ts';
import { ReleaseSpec } from '../../workflows/spec/index.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { releaseSpec } from '../helpers/release-fixtures.ts';

let ns: TestNamespace;
let kube: ReturnType<typeof createKubernetesActivities>;

before(async () => {
  ns = await createTestNamespace('cand-watch');
  kube = createKubernetesActivities(createKubernetesClients(ns.kc));
});
after(async () => {
  await ns?.delete();
});

const spec = (model: string) => ReleaseSpec.parse(releaseSpec({ namespace: ns.name, model, version: 'v2' }));

/** A candidate of 2 replicas, rolled out. */
async function candidate(model: string): Promise<string> {
  const { uid } = await kube.deployCandidate({ releaseId: `r-${model}`, spec: spec(model), replicas: 2 });
  assert.match(uid, /^[0-9a-f-]{36}$/);
  const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
  await env.run((i: RolloutInput) => kube.waitForRollout(i), {
    namespace: ns.name,
    model,
    track: 'canary' as const,
  });
  return uid;
}

function watch(model: string, uid: string, minAvailable: number) {
  const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
  const input: WatchCandidateInput = { namespace: ns.name, model, uid, minAvailable };
  const result: Promise<{ reason: string }> = env.run(
    (i: WatchCandidateInput): Promise<{ reason: string }> => kube.watchCandidate(i),
    input,
  );
  return { env, result };
}

/** Resolves to 'pending' if `promise` has not settled within `ms`. */
async function stillPending(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timeout = new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms));
  return (
    (await Promise.race([
      promise.then(
        () => 'settled',
        () => 'settled',
      ),
      timeout,
    ])) === 'pending'
  );
}

const deleteCandidate = (model: string) =>
  ns.apps.deleteNamespacedDeployment({ name: `${model}-canary`, namespace: ns.name });

describe('candidate watching', { concurrency: true }, () => {
  it('observeCandidate reads the candidate, or says it does not exist', async () => {
    assert.deepEqual(await kube.observeCandidate({ namespace: ns.name, model: 'absent' }), { exists: false });
    const uid = await candidate('observed');
    assert.deepEqual(await kube.observeCandidate({ namespace: ns.name, model: 'observed' }), {
      exists: true,
      uid,
      replicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      deleting: false,
    });
  });

  it('resolves when the candidate is deleted, and not before', async () => {
    const uid = await candidate('deleted');
    const { result } = watch('deleted', uid, 2);
    assert.ok(await stillPending(result, 2_000), 'resolved while the candidate was healthy');
    await deleteCandidate('deleted');
    assert.deepEqual(await result, { reason: `the candidate Deployment deleted-canary was deleted` });
  });

  it('resolves when the candidate is being deleted (a finalizer holds it)', async () => {
    const uid = await candidate('held');
    await ns.apps.patchNamespacedDeployment(
      {
        name: 'held-canary',
        namespace: ns.name,
        body: { metadata: { finalizers: ['slipway.dev/test-hold'] } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const { result } = watch('held', uid, 0);
    assert.ok(await stillPending(result, 1_000));
    await deleteCandidate('held');
    assert.deepEqual(await result, { reason: 'the candidate Deployment held-canary is being deleted' });
    await ns.apps.patchNamespacedDeployment(
      { name: 'held-canary', namespace: ns.name, body: { metadata: { finalizers: null } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  });

  it('resolves when the candidate was replaced by another object of the same name', async () => {
    const uid = await candidate('replaced');
    await deleteCandidate('replaced');
    for (
      let i = 0;
      i < 50 && (await kube.observeCandidate({ namespace: ns.name, model: 'replaced' })).exists;
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const again = await candidate('replaced');
    assert.notEqual(again, uid);
    const { result } = watch('replaced', uid, 0);
    assert.match(
      (await result).reason,
      /^the candidate Deployment replaced-canary was replaced by another object \(uid [0-9a-f-]+, expected [0-9a-f-]+\)$/,
    );
  });

  it('resolves when the candidate is scaled to 0, but with minAvailable 0 only on deletion', async () => {
    const uid = await candidate('scaled');
    const strict = watch('scaled', uid, 2);
    const lenient = watch('scaled', uid, 0);
    assert.ok(await stillPending(strict.result, 1_500));
    await ns.apps.patchNamespacedDeploymentScale(
      { name: 'scaled-canary', namespace: ns.name, body: { spec: { replicas: 0 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    // Lost at the first status below 2: the pods go one by one, so that may say 1 or 0.
    assert.match(
      (await strict.result).reason,
      /^the candidate Deployment scaled-canary has [01] available replicas, fewer than the 2 it needs \(scaled to 0\)$/,
    );
    assert.ok(await stillPending(lenient.result, 1_500), 'minAvailable 0: scaling is not a loss');
    lenient.env.cancel();
    await assert.rejects(lenient.result, (error: unknown) => error instanceof CancelledFailure);
  });

  it(
    'stays quiet across a silent spell longer than the client’s 30 s watch timeout, then still sees the deletion',
    { timeout: 90_000 },
    async () => {
      const uid = await candidate('quiet');
      const { result } = watch('quiet', uid, 2);
      assert.ok(await stillPending(result, 40_000), 'resolved while the candidate was healthy');
      await deleteCandidate('quiet');
      assert.deepEqual(await result, { reason: 'the candidate Deployment quiet-canary was deleted' });
    },
  );
  it(
    'on a busy cluster, a quiet wait lists its object once or twice, not again after every 410',
    { timeout: 240_000 },
    async () => {
      // A wait resumed from a version that left the apiserver's watch cache gets 410 at once; before,
      // it read the object and watched from the object's own (old) version again, in a loop.
      await candidate('still');
      await ns.apps.createNamespacedDeployment({
        namespace: ns.name,
        body: {
          metadata: { name: 'churn' },
          spec: {
            replicas: 0,
            selector: { matchLabels: { app: 'churn' } },
            template: {
              metadata: { labels: { app: 'churn' } },
              spec: { containers: [{ name: 'c', image: 'x' }] },
            },
          },
        },
      });
      const clients = createKubernetesClients(ns.kc);
      let lists = 0;
      let firstListVersion: string | undefined;
      const path = `/apis/apps/v1/namespaces/${ns.name}/deployments`;
      const stop = new AbortController();
      const waited = watchUntil(clients, {
        path,
        name: 'still-canary',
        list: async (fieldSelector) => {
          lists++;
          const list = await clients.apps.listNamespacedDeployment({ namespace: ns.name, fieldSelector });
          firstListVersion ??= list.metadata?.resourceVersion;
          return list;
        },
        decide: () => undefined,
        decideAbsent: () => 'deleted',
        signal: stop.signal,
        target: { verb: 'watch', resource: 'deployments', namespace: ns.name, name: 'still-canary' },
      });
      // Churn until a watch from the first list's version is refused with 410 (out of the cache).
      const churn = async (n: number) => {
        for (let i = 0; i < n; i += 25)
          await Promise.all(
            Array.from({ length: 25 }, (_, j) =>
              ns.apps.patchNamespacedDeployment(
                {
                  name: 'churn',
                  namespace: ns.name,
                  body: [{ op: 'replace', path: '/metadata/annotations', value: { n: String(i + j) } }],
                },
                setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
              ),
            ),
          );
      };
      const refused = async (): Promise<boolean> =>
        new Promise((resolve) => {
          void new Watch(ns.kc)
            .watch(
              path,
              { fieldSelector: 'metadata.name=still-canary', resourceVersion: firstListVersion },
              (phase, object: { code?: number }) => resolve(phase === 'ERROR' && object.code === 410),
              () => resolve(false),
            )
            .then((c) => setTimeout(() => c.abort(), 2_000));
        });
      // The apiserver keeps at least the last 75 s of events: the first version is refused once it
      // is older than that with other events after it.
      let rounds = 0;
      while (!(await refused()) && rounds++ < 30) {
        await churn(50);
        await new Promise((resolve) => setTimeout(resolve, 5_000));
      }
      assert.ok(await refused(), 'the churn never pushed the first version out of the watch cache');
      // The wait resumes after every 30 s quiet spell; past this one it resumed from a refused version.
      await new Promise((resolve) => setTimeout(resolve, 35_000));
      assert.ok(lists >= 1 && lists <= 3, `listed ${lists} times in a quiet wait`);
      await deleteCandidate('still');
      assert.equal(await waited, 'deleted');
      stop.abort();
    },
  );
});
