// `npm run demo` (infra/local/demo/main.ts) runs its story to the end: v1 first release, v2 through
// shadow, canary and a human approval to promoted, v3 rolled back by its error-rate gate. Checked from
// the outside: the demo's exit code and output, what the cluster serves afterwards, and the
// Kubernetes Events on the Deployment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { DEMO_MODEL, DEMO_NAMESPACE } from '../../infra/local/demo/story.ts';
import { kubeConfig } from '../helpers/cluster.ts';
import { clusterState } from '../helpers/release-fixtures.ts';

const demo = fileURLToPath(new URL('../../infra/local/demo/main.ts', import.meta.url));

test('the demo story ends as told, and the cluster shows it', async () => {
  const child = spawn(process.execPath, [demo], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  try {
    assert.equal(code, 0, output.slice(-4000));
    assert.match(output, /outcome {2}Promoted: v1 promoted/);
    assert.match(output, /\$ slipway approve slipway-demo\/fraud-detector -m canary looks healthy/);
    assert.match(output, /^approved: fraud-detector v2 goes on/m);
    assert.match(output, /outcome {2}Promoted: v2 promoted/);
    assert.match(output, /outcome {2}RolledBack: gate error-rate failed: 0\.\d+ is above the maximum 0\.02/);
    assert.match(output, /story complete: v2 serves 100% of traffic/);

    const state = await clusterState(
      { apps: kc.makeApiClient(k8s.AppsV1Api), custom: kc.makeApiClient(k8s.CustomObjectsApi) },
      DEMO_NAMESPACE,
      DEMO_MODEL,
    );
    assert.deepEqual(state, {
      stableVersion: 'v2',
      stableImage: 'registry.example.com/fraud-detector:v2',
      candidateExists: false,
      weights: { stable: 100, canary: 0 },
      mirror: false,
    });
    const events = await kc.makeApiClient(k8s.EventsV1Api).listNamespacedEvent({ namespace: DEMO_NAMESPACE });
    const reasons = events.items
      .filter((e) => e.regarding?.name === DEMO_MODEL)
      .map((e) => `${e.reason}: ${e.note ?? ''}`);
    assert.ok(
      reasons.some((r) => r.startsWith('ReleasePromoted: v2 promoted')),
      reasons.join('\n'),
    );
    assert.ok(
      reasons.some((r) => r.startsWith('ReleaseRolledBack: rolled back: gate error-rate failed')),
      reasons.join('\n'),
    );
  } finally {
    await core.deleteNamespace({ name: DEMO_NAMESPACE }).catch(() => undefined);
  }
});
