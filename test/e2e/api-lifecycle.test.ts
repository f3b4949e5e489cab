// The API around a release's life beyond the happy path, end to end (API → Temporal dev server →
// worker → local cluster): a start the cluster refuses starts nothing; a release that failed before
// it could run (or was terminated) still has a readable status, stream and history; `retry` starts
// a rolled-back release again as a new run; separation of duties from the namespace's annotation
// keeps a submitter from scheduling their own release's promotion.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AdmissionregistrationV1Api } from '@kubernetes/client-node';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseServerSentEvents } from '../../cli/sse.ts';
import { RELEASE_WORKFLOW_TYPE, releaseWorkflowId } from '../../workflows/ids.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import { call, startApi, type ApiUnderTest } from '../helpers/api.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';
import { clusterState, releaseSpec, type FixtureOptions } from '../helpers/release-fixtures.ts';
import { devServerEnv } from '../helpers/temporal.ts';

let env: TestWorkflowEnvironment;
let ns: TestNamespace;
/** A namespace annotated slipway.dev/separation-of-duties: "true". */
let strict: TestNamespace;
let api: ApiUnderTest;

before(async () => {
  env = await devServerEnv();
  ns = await createTestNamespace('api-life');
  strict = await createTestNamespace('api-sod');
  const namespace = await strict.core.readNamespace({ name: strict.name });
  namespace.metadata = {
    ...namespace.metadata,
    annotations: { ...namespace.metadata?.annotations, 'slipway.dev/separation-of-duties': 'true' },
  };
  await strict.core.replaceNamespace({ name: strict.name, body: namespace });
  api = await startApi(env, ns);
});
after(async () => {
  await api?.terminateLeftovers();
  await api?.stop();
  await ns?.delete();
  await strict?.delete();
  await env?.teardown();
});

const spec = (o: Omit<FixtureOptions, 'namespace'>, namespace = ns.name): ReleaseSpecInput =>
  releaseSpec({ namespace, ...o });
const approvalSteps = [{ weight: 20, hold: '1s' }, { approval: { timeout: '10m' } }];
type Response = Awaited<ReturnType<typeof call>>;

async function statusOf(model: string, namespace = ns.name): Promise<Response> {
  return call(api, 'GET', `/v1/releases/${namespace}/${model}`, { token: api.tokens.viewer });
}

async function until(
  model: string,
  predicate: (s: ReleaseStatus) => boolean,
  what: string,
  namespace = ns.name,
): Promise<ReleaseStatus> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const response = await statusOf(model, namespace);
    const s = response.body as unknown as ReleaseStatus;
    if (response.status === 200 && predicate(s)) return s;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(response.body).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function start(body: ReleaseSpecInput, token = api.tokens.deployer): Promise<Response> {
  return call(api, 'POST', '/v1/releases', { token, body });
}

async function retry(model: string, token = api.tokens.deployer, namespace = ns.name): Promise<Response> {
  return call(api, 'POST', `/v1/releases/${namespace}/${model}/retry`, { token });
}

async function withStable(model: string): Promise<void> {
  const started = await start(spec({ model, version: 'v1' }));
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const done = await until(model, (s) => s.outcome !== undefined, 'v1 promoted');
  assert.equal(done.outcome?.result, 'Promoted', done.outcome?.reason);
}

/** No workflow execution exists for the model's release id. */
async function assertNoWorkflow(model: string): Promise<void> {
  await assert.rejects(
    env.client.workflow.getHandle(releaseWorkflowId(ns.name, model)).describe(),
    WorkflowNotFoundError,
  );
}

/** A problem detail that is one sentence of ours, not a client's dump. */
function assertCleanDetail(response: Response): void {
  const detail = String(response.body.detail);
  assert.doesNotMatch(detail, /HTTP-Code|Headers|ApiException|\n|\s+at \S+ \(/, detail.slice(0, 400));
}

describe('API: a release’s life beyond the happy path', { concurrency: 4 }, () => {
  it('a start runs the preflight first: the apiserver’s refusal is a 422 with its reason, and no workflow starts', async () => {
    // The schema accepts any annotation value; the apiserver limits all annotations to 256 KiB.
    const huge = spec({
      model: 'refused',
      version: 'v1',
      annotations: { 'example.com/blob': 'x'.repeat(300_000) },
    });
    const refused = await start(huge);
    assert.equal(refused.status, 422, JSON.stringify(refused.body).slice(0, 400));
    assert.match(refused.body.detail ?? '', /^the cluster refuses this release: .*annotations.*[Tt]oo long/);
    assert.equal(typeof refused.body.failureType, 'string');
    assertCleanDetail(refused);
    await assertNoWorkflow('refused');
    // A namespace that does not exist is the cluster's refusal too (the deployer may act only in
    // its own namespace, so an admin asks).
    const nowhere = await start(
      spec({ model: 'refused', version: 'v1' }, 'no-such-namespace-here'),
      api.tokens.admin,
    );
    assert.equal(nowhere.status, 422, JSON.stringify(nowhere.body));
    assert.match(nowhere.body.detail ?? '', /no-such-namespace-here/);
    await assert.rejects(
      env.client.workflow.getHandle(releaseWorkflowId('no-such-namespace-here', 'refused')).describe(),
      WorkflowNotFoundError,
    );
  });

  it('a template naming a Secret that does not exist, or adopting a Deployment that does not, is a 422 with the path, and no workflow starts', async () => {
    const base = spec({ model: 'no-secret', version: 'v1' });
    const withSecret = (optional: boolean) =>
      ({
        ...base,
        serving: {
          ...base.serving,
          template: {
            spec: {
              containers: [
                {
                  name: 'model-server',
                  env: [
                    {
                      name: 'HF_TOKEN',
                      valueFrom: { secretKeyRef: { name: 'missing-token', key: 'token', optional } },
                    },
                  ],
                },
              ],
            },
          },
        },
      }) as ReleaseSpecInput;
    const refused = await start(withSecret(false));
    assert.equal(refused.status, 422, JSON.stringify(refused.body).slice(0, 400));
    assert.match(
      refused.body.detail ?? '',
      new RegExp(
        `serving\\.template\\.spec\\.containers\\.0\\.env\\.0\\.valueFrom\\.secretKeyRef: Secret ${ns.name}/missing-token does not exist`,
      ),
    );
    assertCleanDetail(refused);
    await assertNoWorkflow('no-secret');
    // The same reference marked optional is the pod's business: accepted by the dry-run.
    const dryRun = await call(api, 'POST', '/v1/releases?dryRun=true', {
      token: api.tokens.deployer,
      body: withSecret(true),
    });
    assert.equal(dryRun.status, 200, JSON.stringify(dryRun.body).slice(0, 400));

    const adopting = { ...spec({ model: 'no-deployment', version: 'v1' }) } as ReleaseSpecInput & {
      serving: Record<string, unknown>;
    };
    adopting.serving = { ...adopting.serving, deploymentRef: 'not-there' };
    const missing = await start(adopting);
    assert.equal(missing.status, 422, JSON.stringify(missing.body).slice(0, 400));
    assert.match(
      missing.body.detail ?? '',
      /serving\.deploymentRef: Deployment \S+\/not-there does not exist/,
    );
    await assertNoWorkflow('no-deployment');
  });

  it('an apiserver 5xx answering the dry-run of the release’s objects is a 422 naming it, not a 5xx', async () => {
    // A validating webhook that cannot be called: the apiserver answers 500 InternalError to every
    // Deployment in that one namespace.
    const hooked = await createTestNamespace('api-hook');
    const admission = hooked.kc.makeApiClient(AdmissionregistrationV1Api);
    const name = `${hooked.name}.slipway.dev`;
    await admission.createValidatingWebhookConfiguration({
      body: {
        metadata: { name },
        webhooks: [
          {
            name,
            admissionReviewVersions: ['v1'],
            sideEffects: 'None',
            failurePolicy: 'Fail',
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': hooked.name } },
            rules: [
              {
                apiGroups: ['apps'],
                apiVersions: ['v1'],
                operations: ['CREATE', 'UPDATE'],
                resources: ['deployments'],
              },
            ],
            clientConfig: { service: { namespace: 'default', name: 'no-such-webhook', port: 443 } },
          },
        ],
      },
    });
    try {
      const refused = await start(spec({ model: 'hooked', version: 'v1' }, hooked.name), api.tokens.admin);
      assert.equal(refused.status, 422, JSON.stringify(refused.body));
      assert.match(refused.body.detail ?? '', /HTTP 500 .*failed calling webhook/);
      assertCleanDetail(refused);
      await assert.rejects(
        env.client.workflow.getHandle(releaseWorkflowId(hooked.name, 'hooked')).describe(),
        WorkflowNotFoundError,
      );
      const dryRun = await call(api, 'POST', '/v1/releases?dryRun=true', {
        token: api.tokens.admin,
        body: spec({ model: 'hooked', version: 'v1' }, hooked.name),
      });
      assert.equal(dryRun.status, 422, 'the dry-run says the same');
    } finally {
      await admission.deleteValidatingWebhookConfiguration({ name });
      await hooked.delete();
    }
  });

  it('extreme numbers are refused by the schema or the cluster, never a 5xx, and start nothing', async () => {
    const base = spec({ model: 'numbers', version: 'v1' });
    const tries: ReleaseSpecInput[] = [
      { ...base, serving: { ...base.serving, rollingUpdate: { maxSurge: 2147483648, maxUnavailable: 0 } } },
      { ...base, serving: { ...base.serving, progressDeadlineSeconds: 2147483648 } },
      { ...base, serving: { ...base.serving, resources: { requests: { cpu: '1e100', memory: '1Gi' } } } },
    ] as ReleaseSpecInput[];
    for (const body of tries) {
      const response = await start(body);
      assert.ok(
        response.status === 400 || response.status === 422,
        `${response.status}: ${JSON.stringify(response.body).slice(0, 400)}`,
      );
      assertCleanDetail(response);
    }
    await assertNoWorkflow('numbers');
  });

  it('a release that failed before it could run has a Failed status, stream and history row', async () => {
    // Started around the API (as an operator with the Temporal CLI could): no search attributes, a
    // spec the workflow refuses before it registers its status query.
    const workflowId = releaseWorkflowId(ns.name, 'broken');
    const handle = await env.client.workflow.start(RELEASE_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: api.taskQueue,
      args: [
        {
          spec: { model: 'broken', namespace: ns.name, version: 'v7', serving: { replicas: 'two' } },
          submittedBy: 'otto-operator',
        },
      ],
    });
    await assert.rejects(handle.result());
    const response = await statusOf('broken');
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const status = response.body as unknown as ReleaseStatus;
    assert.equal(status.stage, 'done');
    assert.equal(status.phase, 'Failed');
    assert.equal(status.outcome?.result, 'Failed');
    assert.equal(status.outcome?.failureType, 'InvalidReleaseSpec');
    assert.match(status.outcome?.reason ?? '', /invalid release spec/);
    assert.deepEqual(
      [status.releaseId, status.namespace, status.model, status.version, status.submittedBy],
      [workflowId, ns.name, 'broken', 'v7', 'otto-operator'],
    );

    const stream = await fetch(`${api.url}/v1/releases/${ns.name}/broken/events`, {
      headers: { authorization: `Bearer ${api.tokens.viewer}` },
    });
    assert.equal(stream.status, 200);
    const events: Array<{ event: string; data: string }> = [];
    for await (const event of parseServerSentEvents(stream.body!)) events.push(event);
    assert.deepEqual(
      events.map((e) => e.event),
      ['status', 'end'],
    );
    assert.equal((JSON.parse(events[0]!.data) as ReleaseStatus).phase, 'Failed');

    const history = await call(api, 'GET', `/v1/releases/${ns.name}/broken/history`, {
      token: api.tokens.viewer,
    });
    assert.equal(history.status, 200);
    const [row] = history.body.items as Array<Record<string, string>>;
    assert.deepEqual(
      [row?.status, row?.stage, row?.outcome, row?.namespace, row?.model],
      ['Failed', 'done', 'Failed', ns.name, 'broken'],
    );

    // Its spec cannot be retried as it is: a 422 naming the spec's problem, nothing started.
    const again = await retry('broken');
    assert.equal(again.status, 422, JSON.stringify(again.body));
    assert.match(again.body.detail ?? '', /spec that is not valid.*serving/);
    assert.equal(
      (await env.client.workflow.getHandle(workflowId).describe()).runId,
      handle.firstExecutionRunId,
      'no new run',
    );
  });

  it('a terminated release reads as Failed with the termination’s reason, and lists under outcome=Failed', async () => {
    await withStable('terminated');
    assert.equal(
      (await start(spec({ model: 'terminated', version: 'v2', steps: approvalSteps }))).status,
      202,
    );
    await until('terminated', (s) => s.phase === 'AwaitingApproval', 'the approval');
    await env.client.workflow
      .getHandle(releaseWorkflowId(ns.name, 'terminated'))
      .terminate('operator pulled the plug');
    const status = (await statusOf('terminated')).body as unknown as ReleaseStatus;
    assert.equal(status.phase, 'Failed');
    assert.equal(status.stage, 'done');
    assert.deepEqual(
      [status.outcome?.result, status.outcome?.failureType, status.version],
      ['Failed', 'WorkflowTerminated', 'v2'],
    );
    assert.match(status.outcome?.reason ?? '', /terminated: operator pulled the plug/);
    assert.equal(status.waitingFor, undefined, 'an ended release waits for nothing');
    assert.deepEqual(status.pauseReasons, []);
    const failed = await call(api, 'GET', `/v1/releases?namespace=${ns.name}&outcome=Failed`, {
      token: api.tokens.viewer,
    });
    assert.equal(failed.status, 200, JSON.stringify(failed.body));
    const rows = (failed.body.items as Array<{ model: string; version: string; outcome: string }>).filter(
      (r) => r.model === 'terminated',
    );
    assert.deepEqual(
      rows.map((r) => [r.version, r.outcome]),
      [['v2', 'Failed']],
    );
    const running = await call(api, 'GET', `/v1/releases?namespace=${ns.name}&stage=canary`, {
      token: api.tokens.viewer,
    });
    assert.ok(
      !(running.body.items as Array<{ model: string }>).some((r) => r.model === 'terminated'),
      'no longer listed in its last stage',
    );
  });

  it('retry after a rollback: a new run with the same spec, submitted by the caller, recording retryOf; refused while active and once promoted', async () => {
    await withStable('retried');
    const first = await start(spec({ model: 'retried', version: 'v2', steps: approvalSteps }));
    assert.equal(first.status, 202);
    assert.equal((await retry('retried')).status, 409, 'not while the release runs');
    await until('retried', (s) => s.phase === 'AwaitingApproval', 'the approval');
    assert.equal(
      (
        await call(api, 'POST', `/v1/releases/${ns.name}/retried/reject`, {
          token: api.tokens.approver,
          body: { comment: 'flaky dashboard' },
        })
      ).status,
      200,
    );
    const rolledBack = await until('retried', (s) => s.outcome !== undefined, 'rolled back');
    assert.equal(rolledBack.outcome?.result, 'RolledBack');

    // Authorized like a start: deploy in the namespace.
    const viewer = await retry('retried', api.tokens.viewer);
    assert.equal(viewer.status, 403);
    assert.match(viewer.body.detail ?? '', /may not deploy/);
    const approver = await retry('retried', api.tokens.approver);
    assert.equal(approver.status, 403);
    const outsider = await retry('retried', api.tokens.outsider);
    assert.equal(outsider.status, 403);
    assert.match(outsider.body.detail ?? '', /namespace/);

    const retried = await retry('retried', api.tokens.admin);
    assert.equal(retried.status, 202, JSON.stringify(retried.body));
    assert.equal(retried.body.retryOf, first.body.runId);
    assert.notEqual(retried.body.runId, first.body.runId);
    assert.equal(retried.body.version, 'v2');
    const again = await until(
      'retried',
      (s) => s.phase === 'AwaitingApproval',
      'the retried release’s approval',
    );
    assert.equal(again.submittedBy, 'ada-admin', 'the caller submits the new run');
    assert.equal(again.retryOf, first.body.runId);
    assert.equal(again.stableVersion, 'v1');
    const active = await retry('retried');
    assert.equal(active.status, 409);
    assert.match(active.body.detail ?? '', /active release \(v2\)/);

    // Same spec: the new run waits at the same approval step, and promotes.
    assert.equal(
      (await call(api, 'POST', `/v1/releases/${ns.name}/retried/approve`, { token: api.tokens.approver }))
        .status,
      200,
    );
    assert.equal(
      (await until('retried', (s) => s.outcome !== undefined, 'promoted')).outcome?.result,
      'Promoted',
    );
    assert.equal((await clusterState(ns, ns.name, 'retried')).stableVersion, 'v2');
    const promoted = await retry('retried');
    assert.equal(promoted.status, 409);
    assert.match(promoted.body.detail ?? '', /was promoted: nothing to retry/);
    const history = await call(api, 'GET', `/v1/releases/${ns.name}/retried/history`, {
      token: api.tokens.viewer,
    });
    assert.deepEqual(
      (history.body.items as Array<{ version: string; outcome?: string }>).map((i) => [i.version, i.outcome]),
      [
        ['v2', 'Promoted'],
        ['v2', 'RolledBack'],
        ['v1', 'Promoted'],
      ],
    );

    const none = await retry('never-released');
    assert.equal(none.status, 404);
    assert.match(none.body.detail ?? '', /no release of .*never-released to retry/);
  });

  it('separation of duties from the namespace: the submitter may not schedule the promotion, approve or promote now; someone else may', async () => {
    const model = 'dutiful';
    const first = await call(api, 'POST', '/v1/releases', {
      token: api.tokens.admin,
      body: spec({ model, version: 'v1' }, strict.name),
    });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    const v1 = await until(model, (s) => s.outcome !== undefined, 'v1', strict.name);
    assert.equal(v1.outcome?.result, 'Promoted', v1.outcome?.reason);
    const body = spec(
      {
        model,
        version: 'v2',
        steps: [{ weight: 20, hold: '1s' }],
        promote: { approval: { required: true } },
      },
      strict.name,
    );
    assert.equal((await call(api, 'POST', '/v1/releases', { token: api.tokens.admin, body })).status, 202);
    const waiting = await until(
      model,
      (s) => s.stage === 'promote' && s.phase === 'AwaitingApproval',
      'the promotion approval',
      strict.name,
    );
    assert.deepEqual(waiting.policy, { separationOfDuties: true });
    assert.equal(waiting.submittedBy, 'ada-admin');

    const path = `/v1/releases/${strict.name}/${model}`;
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const schedule = await call(api, 'PUT', `${path}/promotion-schedule`, {
      token: api.tokens.admin,
      body: { at },
    });
    assert.equal(schedule.status, 403, JSON.stringify(schedule.body));
    assert.match(
      schedule.body.detail ?? '',
      /separation of duties: ada-admin submitted .* may not schedule its promotion/,
    );
    assert.equal(
      (await call(api, 'GET', `${path}/promotion-schedule`, { token: api.tokens.viewer })).status,
      404,
      'no schedule was made',
    );
    for (const action of ['promote', 'approve']) {
      const refused = await call(api, 'POST', `${path}/${action}`, { token: api.tokens.admin });
      assert.equal(refused.status, 422, `${action}: ${JSON.stringify(refused.body)}`);
      assert.match(
        refused.body.detail ?? '',
        new RegExp(`^${action} refused: .*separation of duties.*ada-admin`),
      );
    }
    const other = await call(api, 'PUT', `${path}/promotion-schedule`, {
      token: api.tokens.admin2,
      body: { at },
    });
    assert.equal(other.status, 200, JSON.stringify(other.body));
    assert.equal((await call(api, 'POST', `${path}/approve`, { token: api.tokens.admin2 })).status, 200);
    const done = await until(model, (s) => s.outcome !== undefined, 'promoted', strict.name);
    assert.equal(done.outcome?.result, 'Promoted');
    assert.deepEqual(
      done.approvals.map((a) => a.actor),
      ['eve-admin'],
    );
  });

  it('a schedule needs a running release: 404 without one, 409 once it ended', async () => {
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const none = await call(api, 'PUT', `/v1/releases/${ns.name}/nothing-here/promotion-schedule`, {
      token: api.tokens.approver,
      body: { at },
    });
    assert.equal(none.status, 404, JSON.stringify(none.body));
    await withStable('ended');
    const ended = await call(api, 'PUT', `/v1/releases/${ns.name}/ended/promotion-schedule`, {
      token: api.tokens.approver,
      body: { at },
    });
    assert.equal(ended.status, 409, JSON.stringify(ended.body));
    assert.match(ended.body.detail ?? '', /has ended/);
  });
});
