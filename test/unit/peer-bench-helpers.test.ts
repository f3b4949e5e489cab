// The peer bench's pure helpers: how a proxied apiserver request is named, how apiserver_request_total
// is summed from /metrics, and the Argo Rollout steps and analysis built from the shared scenario.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sumMetric } from '../../bench/peer/apiserver-metrics.ts';
import { analysisTemplate, argoSteps } from '../../bench/peer/argo-side.ts';
import { verbOf } from '../../bench/peer/counting-proxy.ts';
import { GATE, gateQuery } from '../../bench/peer/scenario.ts';
import { slipwaySpec } from '../../bench/peer/slipway-side.ts';

describe('peer bench helpers', () => {
  it('names requests as the apiserver does: list, get, watch, create, update, patch, delete', () => {
    assert.equal(verbOf('GET', '/api/v1/namespaces/ns/pods?labelSelector=a%3Db'), 'list');
    assert.equal(verbOf('GET', '/api/v1/namespaces/ns/pods/p1'), 'get');
    assert.equal(verbOf('GET', '/api/v1/namespaces/ns'), 'get');
    assert.equal(verbOf('GET', '/apis/apps/v1/replicasets'), 'list');
    assert.equal(verbOf('GET', '/apis/argoproj.io/v1alpha1/namespaces/ns/rollouts/r'), 'get');
    assert.equal(verbOf('GET', '/apis/apps/v1/namespaces/ns/deployments?watch=true'), 'watch');
    assert.equal(verbOf('POST', '/api/v1/namespaces/ns/events'), 'create');
    assert.equal(verbOf('PUT', '/apis/apps/v1/namespaces/ns/replicasets/r'), 'update');
    assert.equal(verbOf('PATCH', '/apis/apps/v1/namespaces/ns/replicasets/r'), 'patch');
    assert.equal(verbOf('DELETE', '/api/v1/namespaces/ns/pods/p'), 'delete');
  });

  it('sums every series of apiserver_request_total and nothing else', () => {
    const text = [
      '# TYPE apiserver_request_total counter',
      'apiserver_request_total{code="200",verb="GET"} 10',
      'apiserver_request_total{code="201",verb="POST"} 2.5e+01',
      'apiserver_request_total_other{code="200"} 99',
      'apiserver_request_duration_seconds_count 7',
    ].join('\n');
    assert.equal(sumMetric(text, 'apiserver_request_total'), 35);
  });

  it('gives Argo the same weights, holds, query, interval and threshold as Slipway', () => {
    assert.deepEqual(
      argoSteps([
        { weight: 25, holdMs: 3_000 },
        { weight: 50, holdMs: 3_000 },
      ]),
      [{ setWeight: 25 }, { pause: { duration: '3s' } }, { setWeight: 50 }, { pause: { duration: '3s' } }],
    );
    const template = analysisTemplate('ns', 'm') as {
      spec: {
        metrics: Array<{
          interval: string;
          successCondition: string;
          provider: { prometheus: { query: string } };
        }>;
      };
    };
    const metric = template.spec.metrics[0];
    assert.equal(metric?.interval, '2s');
    assert.equal(metric?.successCondition, 'len(result) == 0 || result[0] <= 0.05');
    assert.equal(metric?.provider.prometheus.query, gateQuery('ns', 'm', '{{args.version}}'));
    const spec = slipwaySpec('ns', 'm', 'v3', [{ weight: 25, holdMs: 60_000 }], true);
    assert.deepEqual(spec.traffic, { router: 'replica-ratio' });
    assert.equal(spec.gates?.[0]?.interval, `${GATE.intervalMs / 1000}s`);
    assert.equal(spec.serving.annotations?.['sim.slipway.dev/error-rate'], '0.5');
    assert.deepEqual(spec.canary?.steps, [{ weight: 25, hold: '60000ms' }]);
  });
});
