// What people do around a release, on the real stack (Temporal dev server, kube-apiserver + KWOK,
// Prometheus, the traffic simulator), checked on the cluster:
// - a rollback restores the stable Deployment, the Services and the HTTPRoute exactly, for every
//   trigger (gate, readiness, reject, abort, cancel, a failing promotion), and a first release's
//   rollback leaves nothing behind;
// - a candidate deleted or scaled to 0 by hand during a hold or an approval wait is never promoted;
// - a scheduled promotion during a person's pause waits for the resume;
// - separation of duties from the namespace annotation;
// - a namespace the worker may not touch fails fast, in a sentence, creating nothing;
// - a gate's {{window}} covers only the step's traffic.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { releaseWorkflowId } from '../../workflows/ids.ts';
import {
  abortUpdate,
  approveUpdate,
  pauseUpdate,
  promoteUpdate,
  rejectUpdate,
  resumeUpdate,
  statusQuery,
} from '../../workflows/messages.ts';
import { promoteOnSchedule } from '../../workflows/promote-on-schedule.ts';
import { release, type ReleaseResult } from '../../workflows/release.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { createTestNamespace, serviceAccountKubeConfig, type TestNamespace } from '../helpers/cluster.ts';
import {
  differences,
  MERGE_PATCH,
  modelLeftovers,
  pollUntil,
  promQuery,
  readModelObjects,
  resultWithin,
  waitForStatus,
} from '../helpers/model-objects.ts';
import { clusterState, releaseSpec, type FixtureOptions } from '../helpers/release-fixtures.ts';
import { devServerEnv, startRealWorker, uniqueTaskQueue } from '../helpers/temporal.ts';

type Router = 'gateway-api' | 'replica-ratio';
type GateInput = NonNullable<ReleaseSpecInput['gates']>[number];
type Handle = WorkflowHandle<typeof release>;

let env: TestWorkflowEnvironment;
let ns: TestNamespace;
let worker: Awaited<ReturnType<typeof startRealWorker>>;
const taskQueue = uniqueTaskQueue('guards');
const timings: string[] = [];

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('guards');
  worker = await startRealWorker(env, taskQueue, ns.kc, { withTemporalClient: true });
});

after(async () => {
  if (timings.length > 0) console.log(`# timings\n${timings.map((t) => `#   ${t}`).join('\n')}`);
  await worker?.stop();
  await ns?.delete();
  await env?.teardown();
});

interface Release extends Omit<FixtureOptions, 'namespace'> {
  namespace?: string;
  router?: Router;
  /** Extra gates; `canaryGates` replaces the canary's (and a first release's) gate list. */
  gates?: GateInput[];
  canaryGates?: string[];
}

/** A build gate whose value is recorded as the version's quality score on the stable Deployment. */
const accuracy = (version: string): GateInput => ({
  name: 'accuracy',
  prometheus: { query: `vector(${version === 'v1' ? 0.97 : 0.98})` },
  pass: { min: 0.9 },
});

function guardSpec(o: Release): ReleaseSpecInput {
  const { namespace = ns.name, router = 'gateway-api', gates = [], canaryGates, ...fixture } = o;
  const base = releaseSpec({ namespace, ...fixture });
  return {
    ...base,
    traffic: { router },
    build: { gates: ['accuracy'] },
    ...(canaryGates && base.canary ? { canary: { ...base.canary, gates: canaryGates } } : {}),
    gates: [...(base.gates ?? []), accuracy(o.version), ...gates],
  };
}

function start(o: Release, options: { submittedBy?: string; taskQueue?: string } = {}): Promise<Handle> {
  const spec = guardSpec(o);
  return env.client.workflow.start(release, {
    taskQueue: options.taskQueue ?? taskQueue,
    workflowId: releaseWorkflowId(spec.namespace, spec.model),
    args: [{ spec, submittedBy: options.submittedBy ?? 'ci' }],
  });
}

function outcomeOf(result: ReleaseResult): string {
  return `${result.outcome.result} (${result.outcome.failureType ?? '-'}): ${result.outcome.reason}`;
}

/**
 * A model with a stable v1 released through the workflow (with a quality score), then touched by
 * people in fields Slipway does not own: a revisionHistoryLimit and a label on the Deployment, a
 * hostname on the route. A rollback must keep all of it.
 */
async function withStable(model: string, router: Router, namespace = ns.name): Promise<void> {
  const result = await resultWithin<ReleaseResult>(
    await start({ model, version: 'v1', router, namespace }),
    45_000,
  );
  assert.equal(result.outcome.result, 'Promoted', outcomeOf(result));
  await ns.apps.patchNamespacedDeployment(
    {
      name: model,
      namespace,
      fieldManager: 'team-user',
      body: { metadata: { labels: { team: 'guards' } }, spec: { revisionHistoryLimit: 4 } },
    },
    MERGE_PATCH,
  );
  if (router === 'gateway-api') {
    await ns.custom.patchNamespacedCustomObject(
      {
        group: 'gateway.networking.k8s.io',
        version: 'v1',
        plural: 'httproutes',
        namespace,
        name: model,
        fieldManager: 'team-user',
        body: { spec: { hostnames: [`${model}.example.com`] } },
      },
      MERGE_PATCH,
    );
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const allStable = { stable: 100, canary: 0 };

/** A ResourceQuota of `pods` in `namespace`, in force (its status filled in by the controller). */
async function podQuota(namespace: string, pods: number): Promise<void> {
  await ns.core.createNamespacedResourceQuota({
    namespace,
    body: { metadata: { name: 'pods' }, spec: { hard: { pods: String(pods) } } },
  });
  const quota = await pollUntil(
    () => ns.core.readNamespacedResourceQuota({ name: 'pods', namespace }),
    (q) => q.status?.hard?.pods !== undefined && q.status.used?.pods !== undefined,
    10_000,
  );
  assert.ok(quota.status?.hard, 'the quota is in force');
}

// ---- 1. a rollback restores exactly ------------------------------------------------------------

interface Trigger {
  name: string;
  router: Router;
  failureType: string;
  reason: RegExp;
  release: Partial<Release>;
  /** What a person does to the running release (none: it fails by itself). */
  act?: (handle: Handle) => Promise<void>;
  /**
   * Capacity is lost during the canary: a pods quota that leaves no room for the promotion's surge
   * pod appears while the canary holds; the re-check before the promotion refuses it, before the
   * stable moves. (`act` applies the quota, then asks for promote-now.)
   */
  promotionFails?: boolean;
}

const holdingAt = (canary: number) => (s: ReleaseStatus) =>
  s.weights.canary === canary && s.stage === 'canary';

const triggers: Trigger[] = [
  ...(['gateway-api', 'replica-ratio'] as const).map((router): Trigger => ({
    name: `a failing canary gate (${router})`,
    router,
    failureType: 'GateFailed',
    reason: /^gate error-rate failed/,
    release: { annotations: { 'sim.slipway.dev/error-rate': '0.5' }, steps: [{ weight: 50, hold: '30s' }] },
  })),
  ...(['gateway-api', 'replica-ratio'] as const).map((router): Trigger => ({
    name: `a candidate that never becomes ready (${router})`,
    router,
    failureType: 'RolloutFailed',
    reason: /progress deadline/,
    release: {
      annotations: { 'sim.slipway.dev/never-ready': 'true' },
      progressDeadlineSeconds: 5,
      steps: [{ weight: 50, hold: '5s' }],
    },
  })),
  {
    name: 'a rejection at an approval step (gateway-api)',
    router: 'gateway-api',
    failureType: 'ApprovalRejected',
    reason: /^rejected by carol/,
    release: { steps: [{ weight: 10, hold: '1s' }, { approval: { timeout: '10m' } }] },
    act: async (handle) => {
      await waitForStatus(handle, (s) => s.phase === 'AwaitingApproval', 'the approval step');
      await handle.executeUpdate(rejectUpdate, { args: [{ actor: 'carol', comment: 'not today' }] });
    },
  },
  {
    name: 'an abort (replica-ratio)',
    router: 'replica-ratio',
    failureType: 'ReleaseAborted',
    reason: /^aborted by erin/,
    release: { steps: [{ weight: 20, hold: '60s' }] },
    act: async (handle) => {
      await waitForStatus(handle, holdingAt(20), 'the canary at 20%');
      await handle.executeUpdate(abortUpdate, { args: [{ actor: 'erin', comment: 'stop' }] });
    },
  },
  {
    name: 'a workflow cancel (gateway-api)',
    router: 'gateway-api',
    failureType: 'ReleaseAborted',
    reason: /cancelled/,
    release: { steps: [{ weight: 20, hold: '60s' }] },
    act: async (handle) => {
      await waitForStatus(handle, holdingAt(20), 'the canary at 20%');
      await handle.cancel();
    },
  },
  ...(['gateway-api', 'replica-ratio'] as const).map((router): Trigger => ({
    name: `capacity lost during the canary, found before the promotion (${router})`,
    router,
    failureType: 'InsufficientCapacity',
    reason: /^the promotion does not fit: /,
    release: { steps: [{ weight: 50, hold: '10m' }] },
    promotionFails: true,
    act: async (handle) => {
      await waitForStatus(handle, holdingAt(50), 'the canary at 50%');
      const { namespace } = await handle.query(statusQuery);
      // stable 2 pods + candidate 2 pods fill it; the promotion's surge pod does not fit.
      await podQuota(namespace, 4);
      await handle.executeUpdate(promoteUpdate, { args: [{ actor: 'ci' }] });
    },
  })),
];

describe('release guards on the real stack', { concurrency: 5, timeout: 170_000 }, () => {
  for (const trigger of triggers) {
    it(
      `rollback after ${trigger.name} restores the stable Deployment, Services and route exactly`,
      { timeout: 120_000 },
      async (t: TestContext) => {
        const model = `rb-${trigger.router === 'gateway-api' ? 'gw' : 'rr'}-${trigger.failureType.toLowerCase().slice(0, 8)}-${triggers.indexOf(trigger)}`;
        // A pods quota is namespace-wide: a promotion that must fail gets a namespace of its own.
        const own = trigger.promotionFails ? await createTestNamespace('guards-quota') : undefined;
        const namespace = own?.name ?? ns.name;
        try {
          await withStable(model, trigger.router, namespace);
          const before = await readModelObjects(ns, namespace, model);
          assert.ok(before.deployment, 'a stable Deployment before the release');
          assert.equal(before.deployment.podAnnotations['slipway.dev/quality-scores'], '{"accuracy":0.97}');
          assert.equal(before.route !== undefined, trigger.router === 'gateway-api');

          const handle = await start({
            model,
            version: 'v2',
            router: trigger.router,
            namespace,
            ...trigger.release,
          });
          if (trigger.act) await trigger.act(handle);
          const result = await resultWithin<ReleaseResult>(handle, 45_000);
          assert.equal(result.outcome.result, 'RolledBack', outcomeOf(result));
          assert.equal(result.outcome.failureType, trigger.failureType, outcomeOf(result));
          assert.match(result.outcome.reason, trigger.reason);
          const status = await handle.query(statusQuery);
          if (trigger.promotionFails) {
            assert.ok(
              !status.timeline.some((e) => e.message.startsWith('stable rolled to')),
              `the stable never moved: ${JSON.stringify(status.timeline.slice(-6))}`,
            );
          }

          const restored = await readModelObjects(ns, namespace, model);
          if (trigger.promotionFails) {
            assert.equal(
              restored.deployment?.revision,
              before.deployment.revision,
              'no new revision of the stable',
            );
          }
          const notes: string[] = [];
          const diff = differences(before, restored, notes);
          for (const note of notes) t.diagnostic(`note: ${note}`);
          assert.deepEqual(diff, [], `not restored exactly:\n${diff.join('\n')}`);
          const state = await clusterState(ns, namespace, model);
          assert.equal(state.candidateExists, false, 'the candidate is removed');
          assert.equal(state.stableVersion, 'v1');
        } finally {
          await own?.delete();
        }
      },
    );
  }

  for (const router of ['gateway-api', 'replica-ratio'] as const) {
    it(
      `a first release rolled back by a failing gate leaves nothing behind (${router})`,
      { timeout: 90_000 },
      async () => {
        const model = `first-${router === 'gateway-api' ? 'gw' : 'rr'}`;
        assert.deepEqual(await modelLeftovers(ns, ns.name, model), []);
        const handle = await start({
          model,
          version: 'v1',
          router,
          annotations: { 'sim.slipway.dev/error-rate': '0.5' },
        });
        const result = await resultWithin<ReleaseResult>(handle, 45_000);
        assert.equal(result.outcome.result, 'RolledBack', outcomeOf(result));
        assert.equal(result.outcome.failureType, 'GateFailed', outcomeOf(result));
        const status = await handle.query(statusQuery);
        assert.equal(status.firstRelease, true);
        // Deletion is in the background (ReplicaSets go by garbage collection): give it a moment.
        const left = await pollUntil(
          () => modelLeftovers(ns, ns.name, model),
          (l) => l.length === 0,
          15_000,
        );
        assert.deepEqual(
          left,
          [],
          `left behind: ${left.join(', ')}; timeline ${JSON.stringify(status.timeline.slice(-6))}`,
        );
      },
    );
  }

  // ---- 2. a hand-deleted candidate is never promoted --------------------------------------------

  /** The reason is one sentence naming the candidate once. */
  function assertCandidateLost(result: ReleaseResult, model: string, how: RegExp): void {
    assert.equal(result.outcome.result, 'RolledBack', outcomeOf(result));
    assert.equal(result.outcome.failureType, 'CandidateLost', outcomeOf(result));
    const { reason } = result.outcome;
    assert.match(reason, new RegExp(`^the candidate (Deployment )?${model}-canary `), reason);
    assert.equal(reason.split(`${model}-canary`).length - 1, 1, `the candidate is named once: ${reason}`);
    assert.match(reason, how);
  }

  async function lostCandidate(
    t: TestContext,
    model: string,
    router: Router,
    steps: Release['steps'],
    waitFor: (s: ReleaseStatus) => boolean,
    lose: () => Promise<unknown>,
    how: RegExp,
  ): Promise<void> {
    await withStable(model, router);
    const handle = await start({ model, version: 'v2', router, steps });
    await waitForStatus(handle, waitFor, 'the hold');
    await sleep(1_500); // well into the hold: the watch, not the check before traffic moves, must see it
    const lostAt = Date.now();
    await lose();
    const result = await resultWithin<ReleaseResult>(handle, 45_000);
    const endedMs = Date.now() - lostAt;
    const outcomeMs = Date.parse(result.outcome.at) - lostAt;
    t.diagnostic(`${model}: RolledBack ${outcomeMs} ms after the change (result seen after ${endedMs} ms)`);
    timings.push(`${model} (${router}): change → RolledBack ${outcomeMs} ms, → result ${endedMs} ms`);
    assertCandidateLost(result, model, how);
    assert.ok(endedMs < 10_000, `the release ended ${endedMs} ms after the candidate was lost`);
    const state = await clusterState(ns, ns.name, model);
    assert.equal(state.stableVersion, 'v1', 'never promoted');
    assert.equal(state.candidateExists, false);
    if (router === 'gateway-api')
      assert.deepEqual(state.weights, allStable, 'the route is back at 100% stable');
    else assert.equal(state.weights, undefined);
  }

  const deleteCandidate = (model: string) => () =>
    ns.apps.deleteNamespacedDeployment({ name: `${model}-canary`, namespace: ns.name });
  const longHold: Release['steps'] = [{ weight: 20, hold: '90s' }];

  for (const router of ['gateway-api', 'replica-ratio'] as const) {
    const model = `lost-del-${router === 'gateway-api' ? 'gw' : 'rr'}`;
    it(
      `a candidate deleted by hand mid-hold ends the release as CandidateLost at once (${router})`,
      { timeout: 90_000 },
      (t) =>
        lostCandidate(
          t,
          model,
          router,
          longHold,
          holdingAt(20),
          deleteCandidate(model),
          /was deleted|is being deleted/,
        ),
    );
  }

  it('a candidate scaled to 0 by hand mid-hold ends the release as CandidateLost', { timeout: 90_000 }, (t) =>
    lostCandidate(
      t,
      'lost-scaled',
      'gateway-api',
      longHold,
      holdingAt(20),
      () =>
        ns.apps.patchNamespacedDeploymentScale(
          { name: 'lost-scaled-canary', namespace: ns.name, body: { spec: { replicas: 0 } } },
          MERGE_PATCH,
        ),
      /0 available/,
    ),
  );

  it(
    'a candidate deleted while the release waits at an approval step ends it as CandidateLost',
    { timeout: 90_000 },
    (t) =>
      lostCandidate(
        t,
        'lost-approval',
        'gateway-api',
        [{ weight: 10, hold: '1s' }, { approval: { timeout: '10m' } }],
        (s) => s.phase === 'AwaitingApproval',
        deleteCandidate('lost-approval'),
        /was deleted|is being deleted/,
      ),
  );

  // ---- 3. a scheduled promotion during a pause waits --------------------------------------------

  it(
    'a scheduled promotion during a pause waits for the resume, then promotes',
    { timeout: 90_000 },
    async (t) => {
      const model = 'sched';
      await withStable(model, 'gateway-api');
      const handle = await start({
        model,
        version: 'v2',
        steps: [{ weight: 20, hold: '120s' }],
        promote: { approval: { required: true, timeout: '1h' } },
      });
      await waitForStatus(handle, holdingAt(20), 'the canary at 20%');
      await handle.executeUpdate(pauseUpdate, { args: [{ actor: 'alice', comment: 'looking at latency' }] });
      const signalled = await env.client.workflow.execute(promoteOnSchedule, {
        taskQueue,
        workflowId: `promote-${ns.name}-${model}-${Date.now()}`,
        args: [{ namespace: ns.name, model, actor: 'scheduler' }],
      });
      assert.equal(signalled, 'signalled');
      await waitForStatus(handle, (s) => s.promoteNow?.by === 'scheduler', 'the promote-now request');
      await sleep(3_000);
      const paused = await handle.query(statusQuery);
      assert.equal(paused.stage, 'canary', `still in canary: ${JSON.stringify(paused.timeline.slice(-4))}`);
      assert.equal(paused.paused, true);
      assert.deepEqual(
        paused.pauseReasons.map((r) => r.reason),
        ['human'],
      );
      assert.equal(paused.outcome, undefined);
      assert.deepEqual(await clusterState(ns, ns.name, model), {
        stableVersion: 'v1',
        stableImage: 'registry.example.com/triton:v1',
        candidateExists: true,
        weights: { stable: 80, canary: 20 },
        mirror: false,
      });

      const resumedAt = Date.now();
      await handle.executeUpdate(resumeUpdate, { args: [{ actor: 'alice' }] });
      const done = await waitForStatus(
        handle,
        (s) => s.outcome !== undefined,
        'the promotion after the resume',
        30_000,
      );
      const result = await resultWithin<ReleaseResult>(handle, 45_000);
      t.diagnostic(`promoted ${Date.now() - resumedAt} ms after the resume`);
      timings.push(`scheduled promotion: resume → Promoted ${Date.parse(result.outcome.at) - resumedAt} ms`);
      assert.equal(result.outcome.result, 'Promoted', outcomeOf(result));
      assert.equal(done.paused, false);
      assert.deepEqual(done.pauseReasons, []);
      assert.ok(
        done.timeline.some((e) => e.message.startsWith('promote-now requested by scheduler')),
        JSON.stringify(done.timeline.map((e) => e.message)),
      );
      assert.deepEqual(await clusterState(ns, ns.name, model), {
        stableVersion: 'v2',
        stableImage: 'registry.example.com/triton:v2',
        candidateExists: false,
        weights: allStable,
        mirror: false,
      });
    },
  );

  // ---- 4. separation of duties from the namespace -----------------------------------------------

  it(
    'separation of duties from the namespace annotation: the submitter may not approve or promote',
    { timeout: 90_000 },
    async () => {
      const strict = await createTestNamespace('guards-sod');
      try {
        await strict.core.patchNamespace(
          {
            name: strict.name,
            body: { metadata: { annotations: { 'slipway.dev/separation-of-duties': 'true' } } },
          },
          MERGE_PATCH,
        );
        const model = 'sod';
        await withStable(model, 'gateway-api', strict.name);
        const handle = await start({
          model,
          version: 'v2',
          namespace: strict.name,
          steps: [{ weight: 10, hold: '1s' }, { approval: { timeout: '10m' } }, { weight: 50, hold: '1s' }],
        });
        const waiting = await waitForStatus(
          handle,
          (s) => s.phase === 'AwaitingApproval',
          'the approval step',
        );
        assert.equal(waiting.policy.separationOfDuties, true);
        const refused = (error: unknown) => {
          assert.ok(error instanceof WorkflowUpdateFailedError, String(error));
          assert.match(String(error.cause?.message), /separation of duties/);
          return true;
        };
        await assert.rejects(handle.executeUpdate(approveUpdate, { args: [{ actor: 'ci' }] }), refused);
        await assert.rejects(handle.executeUpdate(promoteUpdate, { args: [{ actor: 'ci' }] }), refused);
        assert.equal(
          (await handle.query(statusQuery)).phase,
          'AwaitingApproval',
          'the refusals changed nothing',
        );
        await handle.executeUpdate(approveUpdate, { args: [{ actor: 'bob', comment: 'looks good' }] });
        const result = await resultWithin<ReleaseResult>(handle, 45_000);
        assert.equal(result.outcome.result, 'Promoted', outcomeOf(result));
        assert.deepEqual(
          result.approvals.map((a) => [a.decision, a.actor]),
          [['approved', 'bob']],
        );
        assert.equal((await handle.query(statusQuery)).policy.separationOfDuties, true);
        assert.equal((await clusterState(strict, strict.name, model)).stableVersion, 'v2');
      } finally {
        await strict.delete();
      }
    },
  );

  // ---- 5. a forbidden namespace fails fast and clearly ------------------------------------------

  it(
    'a namespace the worker may not touch fails within seconds, in a sentence, creating nothing',
    { timeout: 60_000 },
    async (t) => {
      const [home, fenced] = await Promise.all([
        createTestNamespace('guards-a'),
        createTestNamespace('guards-b'),
      ]);
      const queue = uniqueTaskQueue('guards-narrow');
      let narrowWorker: Awaited<ReturnType<typeof startRealWorker>> | undefined;
      try {
        // A ServiceAccount that may do anything in namespace A, and nothing anywhere else.
        const rbac = home.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
        await rbac.createNamespacedRole({
          namespace: home.name,
          body: { metadata: { name: 'all' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
        });
        const narrow = await serviceAccountKubeConfig(home, 'narrow');
        await rbac.createNamespacedRoleBinding({
          namespace: home.name,
          body: {
            metadata: { name: 'narrow' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'all' },
            subjects: [{ kind: 'ServiceAccount', name: 'narrow', namespace: home.name }],
          },
        });
        narrowWorker = await startRealWorker(env, queue, narrow, { withTemporalClient: true });
        const started = Date.now();
        const handle = await start(
          { model: 'fenced', version: 'v1', namespace: fenced.name },
          { taskQueue: queue },
        );
        const result = await resultWithin<ReleaseResult>(handle, 45_000);
        const tookMs = Date.now() - started;
        t.diagnostic(`ended after ${tookMs} ms: ${outcomeOf(result)}`);
        timings.push(`forbidden namespace: start → ${result.outcome.result} ${tookMs} ms`);
        assert.equal(result.outcome.result, 'RolledBack', outcomeOf(result));
        assert.ok(
          ['Forbidden', 'DryRunFailed'].includes(result.outcome.failureType ?? ''),
          outcomeOf(result),
        );
        assert.ok(tookMs < 10_000, `took ${tookMs} ms`);
        const { reason } = result.outcome;
        assert.match(reason, /^[A-Z][^\n]*$/, 'one sentence');
        assert.match(reason, new RegExp(fenced.name), 'names the namespace');
        assert.ok(
          !/ApiException|HTTP-Code|Headers|"kind":\s*"Status"|\{"/.test(reason),
          `a client dump: ${reason}`,
        );

        const [deployments, sets, services, jobs, routes] = await Promise.all([
          ns.apps.listNamespacedDeployment({ namespace: fenced.name }),
          ns.apps.listNamespacedReplicaSet({ namespace: fenced.name }),
          ns.core.listNamespacedService({ namespace: fenced.name }),
          ns.batch.listNamespacedJob({ namespace: fenced.name }),
          ns.custom.listNamespacedCustomObject({
            group: 'gateway.networking.k8s.io',
            version: 'v1',
            plural: 'httproutes',
            namespace: fenced.name,
          }) as Promise<{ items: unknown[] }>,
        ]);
        const names = (items: Array<{ metadata?: { name?: string } }>) => items.map((i) => i.metadata?.name);
        assert.deepEqual(
          {
            deployments: names(deployments.items),
            replicaSets: names(sets.items),
            services: names(services.items),
            jobs: names(jobs.items),
            routes: routes.items.length,
          },
          { deployments: [], replicaSets: [], services: [], jobs: [], routes: 0 },
        );
      } finally {
        await narrowWorker?.stop();
        await Promise.all([home.delete(), fenced.delete()]);
      }
    },
  );

  // ---- 6. gates see only the step's traffic -----------------------------------------------------

  it(
    'a {{window}} gate of a first release whose pods are ready late sees only traffic after it serves',
    { timeout: 90_000 },
    async (t) => {
      const model = 'windowed';
      const ratio = (code: string) =>
        `sum(rate(model_requests_total{namespace="{{namespace}}",model="{{model}}",version="{{version}}"${code}}[{{window}}]))`;
      const handle = await start({
        model,
        version: 'v1',
        // Until its pods are ready the simulator answers the stable track's requests with 503.
        annotations: { 'pod-ready.stage.kwok.x-k8s.io/delay': '4s' },
        canaryGates: ['step-errors'],
        gates: [
          {
            name: 'step-errors',
            prometheus: { query: `(${ratio(',code=~"5.."')} or vector(0)) / ${ratio('')}` },
            pass: { max: 0.05 },
            interval: '1s',
            consecutiveSuccesses: 3,
            onNoData: 'pass',
          },
        ],
      });
      const result = await resultWithin<ReleaseResult>(handle, 45_000);
      const status = await handle.query(statusQuery);
      const measurements = status.measurements.filter((m) => m.gate === 'step-errors');
      t.diagnostic(
        measurements
          .map((m) => `${m.verdict} ${m.value ?? 'no data'} ${/\[(\d+s)\]/.exec(m.query ?? '')?.[1] ?? '?'}`)
          .join('; '),
      );
      assert.equal(
        result.outcome.result,
        'Promoted',
        `${outcomeOf(result)}; ${JSON.stringify(measurements.map((m) => [m.value, m.query]))}`,
      );
      assert.ok(
        measurements.some((m) => m.value !== undefined),
        'at least one measurement saw data (the test measured something)',
      );
      for (const m of measurements) {
        const window = Number(/\[(\d+)s\]/.exec(m.query ?? '')?.[1]);
        assert.ok(window >= 1 && window <= 10, `a step-sized window: ${m.query}`);
      }
      // The 503s were there: a window reaching back before readiness would have failed the gate.
      const unavailable = await promQuery(
        `sum(increase(model_requests_total{namespace="${ns.name}",model="${model}",code="503"}[5m]))`,
      );
      assert.ok((unavailable ?? 0) > 10, `503s before the pods were ready: ${unavailable}`);
    },
  );
});
