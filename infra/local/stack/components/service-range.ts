// The Service IP range of the local cluster: 10.0.0.0/16 (65,534 addresses; a model needs three
// Services, so well over 1,000 models fit). kube-apiserver gets it as --service-cluster-ip-range,
// and since Kubernetes 1.33 allocates ClusterIPs from ServiceCIDR objects: a fresh cluster's default
// ServiceCIDR `kubernetes` is made from the flag, but an existing one keeps the range it was made
// with (the apiserver never changes it, it only reports the mismatch). A cluster whose etcd state
// dates from the old /24 therefore gets a second ServiceCIDR with the wide range — ranges may
// overlap, the allocator uses them all — so `stack up` widens a cached cluster without losing it.
import { execFileSync } from 'node:child_process';
import { binaries } from '../binaries.ts';
import type { Component } from '../component.ts';
import type { StackConfig } from '../config.ts';
import { pkiPaths } from '../pki.ts';
import { waitUntil } from '../processes.ts';

export const SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/16';
/** The extra ServiceCIDR for clusters made with a narrower range. */
export const WIDE_SERVICE_CIDR = 'slipway-local-services';

function kubectl(config: StackConfig, args: string[], input?: string): string {
  return execFileSync(binaries(config).kubectl, [`--kubeconfig=${pkiPaths(config).kubeconfig}`, ...args], {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** `cidr ready` per ServiceCIDR, e.g. `10.0.0.0/24 True`. */
function serviceCidrs(config: StackConfig): Array<{ name: string; cidrs: string[]; ready: boolean }> {
  const out = kubectl(config, ['get', 'servicecidrs', '-o', 'json']);
  const list = JSON.parse(out) as {
    items: Array<{
      metadata: { name: string };
      spec?: { cidrs?: string[] };
      status?: { conditions?: Array<{ type: string; status: string }> };
    }>;
  };
  return list.items.map((item) => ({
    name: item.metadata.name,
    cidrs: item.spec?.cidrs ?? [],
    ready: item.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
  }));
}

function wideRangeReady(config: StackConfig): boolean {
  try {
    return serviceCidrs(config).some((s) => s.ready && s.cidrs.includes(SERVICE_CLUSTER_IP_RANGE));
  } catch {
    return false;
  }
}

export const serviceRange: Component = {
  name: 'service-range',
  async up(config) {
    if (!serviceCidrs(config).some((s) => s.cidrs.includes(SERVICE_CLUSTER_IP_RANGE))) {
      const manifest = JSON.stringify({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'ServiceCIDR',
        metadata: {
          name: WIDE_SERVICE_CIDR,
          labels: { 'app.kubernetes.io/managed-by': 'slipway-local-stack' },
        },
        spec: { cidrs: [SERVICE_CLUSTER_IP_RANGE] },
      });
      kubectl(config, ['apply', '--server-side', '--field-manager=slipway-local-stack', '-f', '-'], manifest);
    }
    // kube-controller-manager's service-cidr controller marks it Ready; only then are its IPs handed out.
    await waitUntil('service range', () => Promise.resolve(wideRangeReady(config)), 60_000);
  },
  healthy(config) {
    return Promise.resolve(wideRangeReady(config));
  },
  down() {
    // The ServiceCIDR lives in etcd's data folder; stopping etcd is enough.
    return Promise.resolve();
  },
  describe: () => `Service IPs from ${SERVICE_CLUSTER_IP_RANGE}`,
};
