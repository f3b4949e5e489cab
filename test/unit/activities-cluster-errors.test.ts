// The classification of cluster errors, with Status bodies as the local apiserver (v1.36) returns
// them: one clean sentence, the right failure type, final or retryable — never the client's dump.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  asClusterFailure,
  classifyClusterError,
  withClusterErrors,
  type ClusterTarget,
} from '../../activities/kubernetes/cluster-errors.ts';

const HEADERS = {
  'audit-id': '5b1f',
  'content-type': 'application/json',
  'x-kubernetes-pf-flowschema-uid': 'abc',
};

function status(
  code: number,
  reason: string,
  message: string,
  details: Record<string, unknown> = {},
): ApiException<string> {
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    details,
    code,
  });
  return new ApiException(code, 'Unknown API Status Code!', body, HEADERS);
}

const getDeployment: ClusterTarget = {
  verb: 'get',
  resource: 'deployments',
  namespace: 'team-b',
  name: 'fraud',
};
const createService: ClusterTarget = {
  verb: 'create',
  resource: 'services',
  namespace: 'team-b',
  name: 'fraud',
};

/** A network error as undici's fetch throws it: `TypeError: fetch failed` with the socket error as cause. */
function fetchFailed(code: string): TypeError {
  const cause = Object.assign(new Error(`connect ${code} 127.0.0.1:16443`), {
    code,
    errno: -111,
    syscall: 'connect',
  });
  return new TypeError('fetch failed', { cause });
}

describe('cluster error classification', () => {
  it('an RBAC 403 is a final Forbidden naming verb, resource and namespace, with the apiserver’s message', () => {
    const error = status(
      403,
      'Forbidden',
      'deployments.apps "fraud" is forbidden: User "system:serviceaccount:slipway-system:slipway-worker" cannot get resource "deployments" in API group "apps" in the namespace "team-b"',
      { name: 'fraud', group: 'apps', kind: 'deployments' },
    );
    const c = classifyClusterError(error, getDeployment);
    assert.equal(c?.type, 'Forbidden');
    assert.equal(c?.final, true);
    assert.equal(
      c?.message,
      'Slipway may not get deployments in namespace team-b (RBAC): deployments.apps "fraud" is forbidden: User "system:serviceaccount:slipway-system:slipway-worker" cannot get resource "deployments" in API group "apps" in the namespace "team-b"',
    );
  });

  it('an RBAC 403 at the cluster scope says cluster-wide, and the verb the apiserver checked', () => {
    const error = status(
      403,
      'Forbidden',
      'nodes is forbidden: User "system:serviceaccount:x:y" cannot list resource "nodes" in API group "" at the cluster scope',
      { kind: 'nodes' },
    );
    const c = classifyClusterError(error, { verb: 'list', resource: 'nodes' });
    assert.match(c?.message ?? '', /^Slipway may not list nodes cluster-wide \(RBAC\): nodes is forbidden/);
  });

  it('an exceeded quota and a full Service IP range are final ClusterCapacityExhausted', () => {
    const quota = status(
      403,
      'Forbidden',
      'services "fraud" is forbidden: exceeded quota: no-services, requested: services=1, used: services=0, limited: services=0',
      {
        name: 'fraud',
        kind: 'services',
      },
    );
    const q = classifyClusterError(quota, createService);
    assert.equal(q?.type, 'ClusterCapacityExhausted');
    assert.equal(q?.final, true);
    assert.match(
      q?.message ?? '',
      /^Slipway could not create Service team-b\/fraud: a ResourceQuota is used up: services "fraud" is forbidden: exceeded quota: no-services/,
    );
    const full = status(
      500,
      'InternalError',
      'Internal error occurred: failed to allocate a serviceIP for Service "fraud": range is full',
      {
        causes: [{ message: 'failed to allocate a serviceIP for Service "fraud": range is full' }],
      },
    );
    const f = classifyClusterError(full, createService);
    assert.equal(f?.type, 'ClusterCapacityExhausted');
    assert.equal(f?.final, true, 'a full range is not retried like other 500s');
  });

  it('422 invalid, 400 bad request and an unknown field are final InvalidObject', () => {
    const invalid = status(
      422,
      'Invalid',
      'Deployment.apps "bad" is invalid: spec.template.metadata.labels: Invalid value: {"a":"c"}: `selector` does not match template `labels`',
      {
        name: 'bad',
        group: 'apps',
        kind: 'Deployment',
        causes: [{ reason: 'FieldValueInvalid', field: 'spec.template.metadata.labels' }],
      },
    );
    const i = classifyClusterError(invalid, {
      verb: 'apply',
      resource: 'deployments',
      namespace: 'ns',
      name: 'bad',
    });
    assert.equal(i?.type, 'InvalidObject');
    assert.equal(i?.final, true);
    assert.match(
      i?.message ?? '',
      /^Slipway could not apply Deployment ns\/bad: the apiserver refused it as invalid \(HTTP 422 Invalid\): Deployment.apps "bad" is invalid/,
    );
    assert.equal(
      classifyClusterError(
        status(400, 'BadRequest', 'the body of the request was in an unknown format'),
        getDeployment,
      )?.type,
      'InvalidObject',
    );
    const unknownField = status(
      500,
      'InternalError',
      'failed to create typed patch object (ns/x; apps/v1, Kind=Deployment): .spec.replicaz: field not declared in schema',
    );
    const u = classifyClusterError(unknownField, {
      verb: 'apply',
      resource: 'deployments',
      namespace: 'ns',
      name: 'x',
    });
    assert.equal(u?.type, 'InvalidObject');
    assert.equal(u?.final, true);
    assert.match(u?.message ?? '', /\.spec\.replicaz: field not declared in schema/);
  });

  it('a 404 is a final NotFound; a terminating namespace too', () => {
    const n = classifyClusterError(
      status(404, 'NotFound', 'namespaces "team-x" not found', { name: 'team-x', kind: 'namespaces' }),
      {
        verb: 'get',
        resource: 'namespaces',
        name: 'team-x',
      },
    );
    assert.deepEqual(
      [n?.type, n?.final, n?.message],
      [
        'NotFound',
        true,
        'Slipway could not get Namespace team-x: it does not exist (namespaces "team-x" not found)',
      ],
    );
    const terminating = status(
      403,
      'Forbidden',
      'services "fraud" is forbidden: unable to create new content in namespace team-b because it is being terminated',
      {
        causes: [{ reason: 'NamespaceTerminating' }],
      },
    );
    assert.equal(classifyClusterError(terminating, createService)?.type, 'NotFound');
  });

  it('409, 429, 5xx, network errors and timeouts are retryable ClusterUnavailable with a clean sentence', () => {
    const conflict = status(
      409,
      'Conflict',
      'Operation cannot be fulfilled on deployments.apps "fraud": the object has been modified; please apply your changes to the latest version and try again',
    );
    const cases: Array<[unknown, RegExp]> = [
      [conflict, /it changed meanwhile \(HTTP 409 Conflict\): Operation cannot be fulfilled/],
      [
        status(429, 'TooManyRequests', 'Too many requests, please try again later.'),
        /throttling requests \(HTTP 429\)/,
      ],
      [
        status(503, 'ServiceUnavailable', 'the server is currently unable to handle the request'),
        /answered HTTP 503 ServiceUnavailable: the server is currently unable/,
      ],
      [
        status(
          504,
          'Timeout',
          'Timeout: request did not complete within requested timeout - context deadline exceeded',
        ),
        /answered HTTP 504 Timeout/,
      ],
      [
        fetchFailed('ECONNREFUSED'),
        /^Slipway could not get Deployment team-b\/fraud: the apiserver is unreachable \(ECONNREFUSED\)$/,
      ],
      [fetchFailed('ECONNRESET'), /unreachable \(ECONNRESET\)/],
      [
        new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
        /did not answer in time/,
      ],
      [
        Object.assign(new Error('Service Unavailable'), { statusCode: 503 }),
        /answered HTTP 503: Service Unavailable/,
      ],
    ];
    for (const [error, message] of cases) {
      const c = classifyClusterError(error, getDeployment);
      assert.equal(c?.type, 'ClusterUnavailable', String(error));
      assert.equal(c?.final, false, String(error));
      assert.match(c?.message ?? '', message);
    }
  });

  it('a 429 or 503 with Retry-After: the next attempt waits exactly that long (capped at a minute)', () => {
    const throttled = (code: number, after: string | undefined) => {
      const e = status(code, code === 429 ? 'TooManyRequests' : 'ServiceUnavailable', 'slow down');
      if (after !== undefined) e.headers = { ...HEADERS, 'Retry-After': after };
      return asClusterFailure(e, getDeployment) as ApplicationFailure;
    };
    assert.equal(throttled(429, '3').nextRetryDelay, 3000);
    assert.equal(throttled(503, '0').nextRetryDelay, 0);
    assert.equal(throttled(429, '86400').nextRetryDelay, 60_000);
    const date = new Date(Date.now() + 5_000).toUTCString();
    const fromDate = Number(throttled(429, date).nextRetryDelay);
    assert.ok(fromDate > 3_000 && fromDate <= 5_000, `an HTTP date: ${fromDate} ms`);
    // Absent or unreadable: Temporal's backoff decides.
    assert.equal(throttled(429, undefined).nextRetryDelay, undefined);
    assert.equal(throttled(429, 'soon').nextRetryDelay, undefined);
    assert.equal(throttled(429, '-5').nextRetryDelay, undefined);
    // Only where it means "come back later".
    const conflict = status(409, 'Conflict', 'changed');
    conflict.headers = { 'retry-after': '2' };
    assert.equal((asClusterFailure(conflict, getDeployment) as ApplicationFailure).nextRetryDelay, undefined);
    assert.equal(throttled(429, '3').nonRetryable, false);
  });

  it('never carries the client’s dump of headers and body', () => {
    const failure = asClusterFailure(
      status(
        403,
        'Forbidden',
        'deployments.apps "fraud" is forbidden: User "u" cannot get resource "deployments" in API group "apps" in the namespace "team-b"',
      ),
      getDeployment,
    );
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.nonRetryable, true);
    assert.ok(!/HTTP-Code|Headers|audit-id|"kind":"Status"|\n/.test(failure.message), failure.message);
    assert.equal(failure.cause, undefined);
    assert.deepEqual(failure.details, [
      { cause: 'Forbidden', status: 403, reason: 'Forbidden', target: 'Deployment team-b/fraud' },
    ]);
  });

  it('a dry-run keeps its DryRunFailed type for final refusals, not for transient ones', () => {
    const forbidden = asClusterFailure(
      status(
        403,
        'Forbidden',
        'x is forbidden: User "u" cannot patch resource "deployments" in API group "apps" in the namespace "n"',
      ),
      getDeployment,
      {
        finalAs: 'DryRunFailed',
      },
    );
    assert.ok(
      forbidden instanceof ApplicationFailure && forbidden.type === 'DryRunFailed' && forbidden.nonRetryable,
    );
    const down = asClusterFailure(fetchFailed('ECONNREFUSED'), getDeployment, { finalAs: 'DryRunFailed' });
    assert.ok(down instanceof ApplicationFailure && down.type === 'ClusterUnavailable' && !down.nonRetryable);
  });

  it('leaves other errors and Temporal failures alone', () => {
    const bug = new RangeError('index out of range');
    assert.equal(asClusterFailure(bug, getDeployment), bug);
    const cancelled = new CancelledFailure('cancelled');
    assert.equal(asClusterFailure(cancelled, getDeployment), cancelled);
    const already = ApplicationFailure.nonRetryable('done', 'JobFailed');
    assert.equal(asClusterFailure(already, getDeployment), already);
  });

  it('the activity net classifies what call sites did not, naming the activity and the model', async () => {
    const activities = withClusterErrors({
      // Typed like an activity taking a spec; throws what an unwrapped client call would.
      observeCandidate: (_input: { namespace: string; model: string }): Promise<never> =>
        Promise.reject(fetchFailed('ECONNREFUSED')),
    });
    await assert.rejects(
      activities.observeCandidate({ namespace: 'team-b', model: 'fraud' }),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure);
        assert.equal(error.type, 'ClusterUnavailable');
        assert.equal(
          error.message,
          'Slipway could not observe candidate for model team-b/fraud: the apiserver is unreachable (ECONNREFUSED)',
        );
        return true;
      },
    );
  });
});
