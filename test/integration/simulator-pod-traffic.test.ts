// The traffic simulator serves a Service in front of pods Slipway does not manage (what an Argo
// Rollout's ReplicaSets look like; here two plain Deployments): the Service and the pod templates are
// labelled sim.slipway.dev/traffic=pods, v1 has 3 ready pods, v2 1 pod answering only 500s. Measured
// through Prometheus: v2 takes a quarter of the requests (within 3 pp: at 50 requests per second,
// smooth round-robin and one scrape at either edge of a 5 s window give at most 1 pp), all of them
// 500s, v1 none; scaled to 0, v2 leaves the split.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { createTestNamespace, type TestNamespace } from '../helpers/cluster.ts';

const MODEL = 'pods-model';
const TRAFFIC = { 'sim.slipway.dev/traffic': 'pods' };
let ns: TestNamespace;

function deployment(version: string, replicas: number, errorRate: string): k8s.V1Deployment {
  const labels = { app: MODEL, 'app.kubernetes.io/version': version, ...TRAFFIC };
  return {
    metadata: { name: `${MODEL}-${version}` },
    spec: {
      replicas,
      selector: { matchLabels: { app: MODEL, 'app.kubernetes.io/version': version } },
      template: {
        metadata: {
          labels,
          annotations: {
            'sim.slipway.dev/error-rate': errorRate,
            'pod-ready.stage.kwok.x-k8s.io/delay': '200ms',
          },
        },
        spec: { containers: [{ name: 'server', image: 'registry.example.com/server:' + version }] },
      },
    },
  };
}

interface StateModel {
  namespace: string;
  model: string;
  split: { source: string; stable: number; canary: number; since: string };
  tracks: Record<string, { version: string; readyReplicas: number } | undefined>;
}

async function modelState(): Promise<StateModel | undefined> {
  const url = process.env.SIMULATOR_URL;
  if (!url) throw new Error('SIMULATOR_URL is not set');
  const state = (await (await fetch(`${url}/state`)).json()) as { models?: StateModel[] };
  return state.models?.find((m) => m.namespace === ns.name && m.model === MODEL);
}

async function until(what: string, check: (m: StateModel | undefined) => boolean, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = await modelState();
    if (check(m)) return m;
    assert.ok(Date.now() < deadline, `${what}: ${JSON.stringify(m)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function requestsBy(window: number): Promise<Record<string, number>> {
  const base = process.env.PROMETHEUS_URL;
  if (!base) throw new Error('PROMETHEUS_URL is not set');
  const query = `sum by (version, code) (increase(model_requests_total{namespace="${ns.name}",model="${MODEL}"}[${window}s]))`;
  const body = (await (await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as {
    data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  const out: Record<string, number> = {};
  for (const s of body.data?.result ?? [])
    out[`${s.metric.version ?? ''}/${s.metric.code ?? ''}`] = Number(s.value[1]);
  return out;
}

describe('simulator: a Service in front of pods Slipway does not manage', () => {
  before(async () => {
    ns = await createTestNamespace('sim-pods');
  });
  after(async () => {
    await ns.delete();
  });

  it('splits the Service by ready pods, each version answering as its pods say', async () => {
    await ns.core.createNamespacedService({
      namespace: ns.name,
      body: {
        metadata: { name: MODEL, labels: { 'app.kubernetes.io/name': MODEL, ...TRAFFIC } },
        spec: { selector: { app: MODEL }, ports: [{ port: 8000 }] },
      },
    });
    await ns.apps.createNamespacedDeployment({ namespace: ns.name, body: deployment('v1', 3, '0') });
    await until('v1 ready', (m) => m?.tracks.stable?.readyReplicas === 3);
    await ns.apps.createNamespacedDeployment({ namespace: ns.name, body: deployment('v2', 1, '1') });
    const split = await until(
      'v2 ready, split 75/25',
      (m) => m?.tracks.canary?.readyReplicas === 1 && m.split.canary === 25,
    );
    assert.equal(split?.split.source, 'replicas');
    assert.equal(split?.tracks.stable?.version, 'v1');
    assert.equal(split?.tracks.canary?.version, 'v2');

    // A 5 s window that starts after the split (plus a scrape of slack).
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    const counts = await requestsBy(5);
    const v1 = (counts['v1/200'] ?? 0) + (counts['v1/500'] ?? 0);
    const v2 = (counts['v2/200'] ?? 0) + (counts['v2/500'] ?? 0);
    assert.ok(v1 + v2 > 100, `too few requests: ${JSON.stringify(counts)}`);
    const share = v2 / (v1 + v2);
    assert.ok(Math.abs(share - 0.25) <= 0.03, `v2 share ${share}: ${JSON.stringify(counts)}`);
    assert.equal(counts['v2/200'] ?? 0, 0);
    assert.equal(counts['v1/500'] ?? 0, 0);

    await ns.apps.patchNamespacedDeploymentScale({
      namespace: ns.name,
      name: `${MODEL}-v2`,
      body: [{ op: 'replace', path: '/spec/replicas', value: 0 }],
    });
    await until('v2 gone from the split', (m) => m?.split.stable === 100 && m.tracks.canary === undefined);
  });
});
