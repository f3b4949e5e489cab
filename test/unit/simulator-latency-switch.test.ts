// The simulator's per-version switches a bench relies on (infra/local/simulator/behaviour.ts): a
// version annotated sim.slipway.dev/latency-histogram=off has its requests counted but exports no
// latency histogram, and a rate on the pod template sets the model's requests per second.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { V1Deployment } from '@kubernetes/client-node';
import { parseBehaviour } from '../../infra/local/simulator/behaviour.ts';
import { createMetrics } from '../../infra/local/simulator/metrics.ts';
import { deploymentView, type ModelObjects } from '../../infra/local/simulator/objects.ts';
import { createTrafficGenerator } from '../../infra/local/simulator/traffic.ts';

const deployment = (name: string, track: string, podAnnotations: Record<string, string>): V1Deployment => ({
  metadata: { namespace: 'ns', name, labels: { 'app.kubernetes.io/name': 'm' } },
  spec: {
    selector: {},
    template: {
      metadata: {
        labels: { 'slipway.dev/track': track, 'app.kubernetes.io/version': track === 'stable' ? 'v1' : 'v2' },
        annotations: podAnnotations,
      },
    },
  },
  status: { readyReplicas: 1 },
});

describe('simulator: latency histogram switch and pod-template rate', () => {
  it('reads on, off and nonsense, keeping the default for nonsense with a problem named', () => {
    assert.equal(parseBehaviour({}).behaviour.latencyHistogram, true);
    assert.equal(
      parseBehaviour({ 'sim.slipway.dev/latency-histogram': 'off' }).behaviour.latencyHistogram,
      false,
    );
    assert.equal(
      parseBehaviour({ 'sim.slipway.dev/latency-histogram': 'on' }).behaviour.latencyHistogram,
      true,
    );
    const odd = parseBehaviour({ 'sim.slipway.dev/latency-histogram': 'false' });
    assert.equal(odd.behaviour.latencyHistogram, true);
    assert.match(odd.problems.join(), /latency-histogram="false" is neither on nor off/);
  });

  it('counts every request but observes durations only for versions that export them', async () => {
    const stable = deploymentView(
      deployment('m', 'stable', {
        'sim.slipway.dev/requests-per-second': '40',
        'sim.slipway.dev/latency-histogram': 'off',
      }),
    );
    const canary = deploymentView(deployment('m-canary', 'canary', {}));
    assert.ok(stable && canary);
    assert.equal(stable.track, 'stable');
    assert.equal(canary.track, 'canary');
    assert.equal(stable.requestsPerSecond, 40);
    const metrics = createMetrics();
    const traffic = createTrafficGenerator({
      requestsPerSecond: 1,
      cohortFraction: 0,
      seed: 1,
      metrics,
      logger: pino({ level: 'silent' }),
    });
    const models: ModelObjects[] = [
      { key: 'ns/m', namespace: 'ns', model: 'm', deployments: { stable, canary }, route: undefined },
    ];
    traffic.tick(models, 0);
    traffic.tick(models, 1_000);
    const text = await metrics.registry.metrics();
    const value = (track: string) =>
      Number(
        new RegExp(`model_requests_total\\{[^}]*track="${track}"[^}]*code="200"\\} (\\d+)`).exec(text)?.[1],
      );
    // 40 requests in the second, split by ready replicas 1:1.
    assert.equal(value('stable') + value('canary'), 40);
    assert.equal(value('stable'), 20);
    assert.match(text, /model_request_duration_seconds_count\{[^}]*track="canary"[^}]*\} 20/);
    assert.doesNotMatch(text, /model_request_duration_seconds_count\{[^}]*track="stable"/);
  });
});
