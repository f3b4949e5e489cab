// The scale bench runs its workers with the manifest's process settings (bench/scale/manifest-process-env.ts):
// read from infra/k8s/base/worker.yaml, with the image's jemalloc path swapped for this machine's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { localProcessEnv, manifestProcessEnv } from '../../bench/scale/manifest-process-env.ts';

describe('the worker manifest’s process settings', () => {
  it('are read from the manifest: jemalloc preloaded, its background thread on, 8 MiB semi-spaces', () => {
    assert.deepEqual(manifestProcessEnv(), {
      LD_PRELOAD: '/usr/local/lib/libjemalloc.so.2',
      MALLOC_CONF: 'background_thread:true',
      NODE_OPTIONS: '--max-semi-space-size=8',
    });
  });

  it('leave Slipway’s own settings and other containers out', () => {
    const text = `
apiVersion: v1
kind: ConfigMap
metadata: { name: x }
---
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: sidecar
          env: [{ name: NODE_OPTIONS, value: '--inspect' }]
        - name: worker
          env:
            - { name: SLIPWAY_SHUTDOWN_GRACE, value: 30s }
            - { name: MALLOC_ARENA_MAX, value: '2' }
            - name: FROM_SECRET
              valueFrom: { secretKeyRef: { name: s, key: k } }
`;
    assert.deepEqual(manifestProcessEnv(text), { MALLOC_ARENA_MAX: '2' });
    assert.throws(
      () => manifestProcessEnv('kind: ConfigMap\n'),
      /no Deployment with a container named worker/,
    );
  });

  it('point LD_PRELOAD at the jemalloc setup installed, or say how to get it', () => {
    const manifest = {
      LD_PRELOAD: '/usr/local/lib/libjemalloc.so.2',
      NODE_OPTIONS: '--max-semi-space-size=8',
    };
    const here = process.env.SLIPWAY_JEMALLOC;
    if (here) assert.equal(localProcessEnv(manifest, here).LD_PRELOAD, here);
    assert.throws(() => localProcessEnv(manifest, '/nonexistent/libjemalloc.so.2'), /--node-defaults/);
    assert.throws(() => localProcessEnv(manifest, ''), /libjemalloc2/);
    assert.deepEqual(localProcessEnv({ NODE_OPTIONS: '--max-semi-space-size=8' }, ''), {
      NODE_OPTIONS: '--max-semi-space-size=8',
    });
  });
});
