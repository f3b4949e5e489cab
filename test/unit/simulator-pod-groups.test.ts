// The simulator's models for other tools' pods (infra/local/simulator/pod-groups.ts): a Service
// labelled sim.slipway.dev/traffic=pods in front of pods of up to two versions (an Argo Rollout's
// ReplicaSets) is split by ready pods, each version answering as its pods' annotations say; a
// Slipway model of the same name keeps its own picture. With track Services a route names (an Argo
// Rollout's stableService/canaryService, Flagger's -primary/-canary), each track is the pods behind
// its Service and the route's weights split the requests.
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
import { virtualServiceView } from '../../infra/local/simulator/virtual-service.ts';
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
const pod = (
  app: string,
  version: string,
  ready: boolean,
  errorRate = 0,
  labels: Record<string, string> = {},
): PodView => ({
  namespace: 'ns',
  name: `${app}-${version}-${created}`,
  labels: { app, 'app.kubernetes.io/version': version, ...labels },
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

  /** A VirtualService as Argo Rollouts and Flagger leave it: one named http route, two destinations. */
  const virtualService = (stable: string, canary: string, canaryWeight: number) =>
    virtualServiceView({
      metadata: { namespace: 'ns', name: 'm' },
      spec: {
        hosts: ['m'],
        http: [
          {
            name: 'primary',
            route: [
              { destination: { host: stable }, weight: 100 - canaryWeight },
              { destination: { host: canary }, weight: canaryWeight },
            ],
          },
        ],
      },
    });

  it('routes by the VirtualService to the pods behind Argo-style stable and canary Services', () => {
    const hash = (h: string) => ({ 'rollouts-pod-template-hash': h });
    const track = (name: string, h: string) =>
      service(name, { model: 'm', selector: { app: 'm', 'rollouts-pod-template-hash': h } });
    const pods = [
      ...[1, 2, 3, 4].map(() => pod('m', 'v1', true, 0, hash('a'))),
      pod('m', 'v2', true, 0.5, hash('b')),
      pod('m', 'v2', false, 0.5, hash('b')),
    ];
    const vs = virtualService('m-stable', 'm-canary.ns.svc.cluster.local', 25);
    assert.ok(vs);
    const [model, ...rest] = podGroupModels(
      [track('m-stable', 'a'), track('m-canary', 'b')],
      pods,
      new Set(),
      [vs],
    );
    assert.equal(rest.length, 0);
    assert.equal(model?.deployments.stable?.version, 'v1');
    assert.equal(model?.deployments.stable?.readyReplicas, 4);
    assert.equal(model?.deployments.canary?.version, 'v2');
    assert.equal(model?.deployments.canary?.readyReplicas, 1);
    assert.equal(model?.deployments.canary?.behaviour.errorRate, 0.5);
    assert.ok(model);
    const split = computeSplit(model);
    assert.equal(split.source, 'route');
    assert.deepEqual(split.shares, { stable: 0.75, canary: 0.25 });
    assert.deepEqual(split.warnings, []);

    // Back to 100% stable: the canary Service may still select the candidate's pods.
    const back = virtualService('m-stable', 'm-canary', 0);
    assert.ok(back);
    const [after] = podGroupModels([track('m-stable', 'a'), track('m-canary', 'b')], pods, new Set(), [back]);
    assert.ok(after);
    assert.deepEqual(computeSplit(after).shares, { stable: 1, canary: 0 });

    // No route naming them: split by ready pods as before.
    const [unrouted] = podGroupModels([track('m-stable', 'a'), track('m-canary', 'b')], pods);
    assert.equal(unrouted?.route, undefined);
  });

  it('routes Flagger-style -primary and -canary Services, the primary playing stable', () => {
    const svc = (name: string, app: string) => service(name, { model: 'm', selector: { app } });
    const pods = [
      pod('m-primary', 'v2', true),
      pod('m-primary', 'v2', true),
      pod('m-primary', 'v1', false),
      pod('m', 'v3', true, 0.5),
    ];
    const vs = virtualService('m-primary', 'm-canary', 50);
    assert.ok(vs);
    const [model] = podGroupModels([svc('m-canary', 'm'), svc('m-primary', 'm-primary')], pods, new Set(), [
      vs,
    ]);
    assert.ok(model);
    assert.equal(model.deployments.stable?.version, 'v2');
    assert.equal(model.deployments.stable?.readyReplicas, 2);
    assert.deepEqual(model.deployments.stable?.problems, [
      'pods of version v1 behind Service m-primary answer as v2',
    ]);
    assert.equal(model.deployments.canary?.version, 'v3');
    assert.deepEqual(computeSplit(model).shares, { stable: 0.5, canary: 0.5 });
  });
});
