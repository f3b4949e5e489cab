// The simulator's models for other tools' pods (infra/local/simulator/pod-groups.ts): a Service
// labelled sim.slipway.dev/traffic=pods in front of pods of up to two versions (an Argo Rollout's
// ReplicaSets) is split by ready pods, each version answering as its pods' annotations say; a
// Slipway model of the same name keeps its own picture.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { DEFAULT_BEHAVIOUR } from '../../infra/local/simulator/behaviour.ts';
import { createMetrics } from '../../infra/local/simulator/metrics.ts';
import {
  podGroupModels,
  podView,
  serviceView,
  type PodView,
  type ServiceView,
} from '../../infra/local/simulator/pod-groups.ts';
import { computeSplit } from '../../infra/local/simulator/traffic-split.ts';
import { createTrafficGenerator } from '../../infra/local/simulator/traffic.ts';
import { pino } from 'pino';

const service = (name: string, extra: Partial<ServiceView> = {}): ServiceView => ({
  namespace: 'ns',
  name,
  model: name,
  selector: { app: name },
  requestsPerSecond: undefined,
  ...extra,
});

let created = 0;
const pod = (app: string, version: string, ready: boolean, errorRate = 0): PodView => ({
  namespace: 'ns',
  name: `${app}-${version}-${created}`,
  labels: { app, 'app.kubernetes.io/version': version },
  version,
  ready,
  createdMs: 1_000 + created++ * 1_000,
  behaviour: { ...DEFAULT_BEHAVIOUR, errorRate },
  problems: [],
});

describe('simulator: a Service in front of pods (other tools)', () => {
  it('reads Services with a selector and pods, ready only when Ready and not being deleted', () => {
    const svc: V1Service = {
      metadata: {
        namespace: 'ns',
        name: 'argo-m',
        labels: { 'app.kubernetes.io/name': 'argo-model' },
        annotations: { 'sim.slipway.dev/requests-per-second': '20' },
      },
      spec: { selector: { app: 'argo-m' } },
    };
    assert.deepEqual(serviceView(svc), {
      namespace: 'ns',
      name: 'argo-m',
      model: 'argo-model',
      selector: { app: 'argo-m' },
      requestsPerSecond: 20,
    });
    assert.equal(serviceView({ metadata: { namespace: 'ns', name: 'headless' }, spec: {} }), undefined);

    const p: V1Pod = {
      metadata: {
        namespace: 'ns',
        name: 'argo-m-abc',
        labels: { app: 'argo-m', 'app.kubernetes.io/version': 'v2' },
        annotations: { 'sim.slipway.dev/error-rate': '0.5' },
        creationTimestamp: new Date(5_000),
      },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    };
    const view = podView(p);
    assert.equal(view?.version, 'v2');
    assert.equal(view?.ready, true);
    assert.equal(view?.createdMs, 5_000);
    assert.equal(view?.behaviour.errorRate, 0.5);
    assert.equal(podView({ ...p, metadata: { ...p.metadata, deletionTimestamp: new Date() } })?.ready, false);
    assert.equal(
      podView({ ...p, status: { conditions: [{ type: 'Ready', status: 'False' }] } })?.ready,
      false,
    );
    assert.equal(podView({ metadata: { ...p.metadata, labels: {} } })?.version, 'unknown');
  });

  it('makes the oldest version stable and the next one canary, split by their ready pods', () => {
    const pods = [
      pod('m', 'v1', true),
      pod('m', 'v1', true),
      pod('m', 'v1', true),
      pod('m', 'v2', true, 0.5),
      pod('m', 'v2', false, 0.5),
      pod('other', 'v9', true),
    ];
    const [model, ...rest] = podGroupModels([service('m')], pods);
    assert.equal(rest.length, 0);
    assert.equal(model?.key, 'ns/m');
    assert.equal(model?.route, undefined);
    assert.equal(model?.deployments.stable?.version, 'v1');
    assert.equal(model?.deployments.stable?.readyReplicas, 3);
    assert.equal(model?.deployments.canary?.version, 'v2');
    assert.equal(model?.deployments.canary?.readyReplicas, 1);
    assert.equal(model?.deployments.canary?.behaviour.errorRate, 0.5);
    assert.ok(model);
    const split = computeSplit(model);
    assert.equal(split.source, 'replicas');
    assert.deepEqual(split.shares, { stable: 0.75, canary: 0.25 });
  });

  it('skips a Service with no pods, a key Slipway already has, and says when a third version is left out', () => {
    assert.deepEqual(podGroupModels([service('empty')], [pod('m', 'v1', true)]), []);
    assert.deepEqual(podGroupModels([service('m')], [pod('m', 'v1', true)], new Set(['ns/m'])), []);
    const [model] = podGroupModels(
      [service('m')],
      [pod('m', 'v1', true), pod('m', 'v2', true), pod('m', 'v3', true)],
    );
    assert.deepEqual(model?.deployments.stable?.problems, [
      'pods of version v3 behind Service m are not simulated (two versions at most)',
    ]);
  });

  it('counts model_requests_total by version, with the candidate failing as its pods say', async () => {
    const metrics = createMetrics();
    const traffic = createTrafficGenerator({
      requestsPerSecond: 100,
      cohortFraction: 0,
      seed: 1,
      metrics,
      logger: pino({ level: 'silent' }),
    });
    const models = podGroupModels(
      [service('m')],
      [pod('m', 'v1', true), pod('m', 'v1', true), pod('m', 'v2', true, 1), pod('m', 'v2', true, 1)],
    );
    traffic.tick(models, 0);
    traffic.tick(models, 1_000);
    const text = await metrics.registry.metrics();
    const count = (version: string, code: number) =>
      Number(
        new RegExp(`model_requests_total\\{[^}]*version="${version}"[^}]*code="${code}"[^}]*\\} (\\d+)`).exec(
          text,
        )?.[1] ?? 0,
      );
    assert.equal(count('v1', 200), 50);
    assert.equal(count('v2', 500), 50);
    assert.equal(count('v2', 200), 0);
  });
});
