// Extra KWOK nodes for a scale run (the stack's own hold 440 pods; 1,000 models need more). KWOK
// manages every node (--manage-all-nodes), so a Node object with its annotation is a node that
// reports Ready and runs pods. Labelled so the run removes exactly the nodes it added.
import type * as k8s from '@kubernetes/client-node';

const LABEL = 'bench.slipway.dev/scale';
const PODS_PER_NODE = 110;

export async function addNodes(core: k8s.CoreV1Api, pods: number): Promise<string[]> {
  const count = Math.ceil(pods / PODS_PER_NODE);
  const names = Array.from({ length: count }, (_, i) => `kwok-scale-${i}`);
  await Promise.all(
    names.map((name) =>
      core
        .createNode({
          body: {
            metadata: {
              name,
              annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
              labels: {
                type: 'kwok',
                [LABEL]: 'true',
                'kubernetes.io/hostname': name,
                'kubernetes.io/os': 'linux',
              },
            },
            status: {
              capacity: { cpu: '64', memory: '256Gi', pods: String(PODS_PER_NODE) },
              allocatable: { cpu: '64', memory: '256Gi', pods: String(PODS_PER_NODE) },
            },
          },
        })
        .catch((error: unknown) => {
          // Left by an earlier run that did not end cleanly: it is the same node.
          if ((error as { code?: number }).code !== 409) throw error;
        }),
    ),
  );
  return names;
}

export async function removeNodes(core: k8s.CoreV1Api): Promise<void> {
  await core.deleteCollectionNode({ labelSelector: `${LABEL}=true` }).catch(() => undefined);
}
