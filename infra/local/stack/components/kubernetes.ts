// The local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
// (all built from source, see infra/local/build), KWOK playing the kubelets, fake nodes, the
// Gateway API CRDs and Istio's networking CRDs. Everything listens on 127.0.0.1 only; RBAC is on.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binaries, ensureBinaries } from '../binaries.ts';
import type { Component } from '../component.ts';
import type { StackConfig } from '../config.ts';
import { httpOk } from '../health.ts';
import { ensurePki, pkiPaths } from '../pki.ts';
import { startDetached, stopProcess, waitUntil } from '../processes.ts';
import { SERVICE_CLUSTER_IP_RANGE } from './service-range.ts';

const kwokDir = fileURLToPath(new URL('../../kwok/', import.meta.url));

function processComponent(spec: {
  name: string;
  args: (config: StackConfig) => { command: string; args: string[] };
  healthUrl: (config: StackConfig) => string;
  useClientCert: boolean;
  startTimeoutMs: number;
  /** Defaults to the health URL. */
  describe?: (config: StackConfig) => string;
  env?: Component['env'];
}): Component {
  const healthy = (config: StackConfig) =>
    httpOk(spec.healthUrl(config), spec.useClientCert ? pkiPaths(config) : undefined).catch(() => false);
  return {
    name: spec.name,
    async up(config) {
      ensureBinaries(config);
      ensurePki(config);
      const { command, args } = spec.args(config);
      startDetached({ name: spec.name, stateDir: config.stateDir, command, args });
      await waitUntil(spec.name, () => healthy(config), spec.startTimeoutMs);
    },
    healthy,
    async down(config) {
      await stopProcess(config.stateDir, spec.name);
    },
    describe: spec.describe ?? spec.healthUrl,
    ...(spec.env ? { env: spec.env } : {}),
  };
}

export const etcd = processComponent({
  name: 'etcd',
  useClientCert: false,
  startTimeoutMs: 60_000,
  args: (config) => {
    const dataDir = join(config.stateDir, 'etcd');
    mkdirSync(dataDir, { recursive: true });
    const client = `http://127.0.0.1:${config.ports.etcd}`;
    const peer = `http://127.0.0.1:${config.ports.etcdPeer}`;
    return {
      command: binaries(config).etcd,
      args: [
        '--name=slipway-local',
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=slipway-local=${peer}`,
        '--unsafe-no-fsync=true',
        '--quota-backend-bytes=4294967296',
        '--log-level=warn',
      ],
    };
  },
  healthUrl: (config) => `http://127.0.0.1:${config.ports.etcd}/health`,
  describe: (config) => `http://127.0.0.1:${config.ports.etcd}`,
});

export const kubeApiserver = processComponent({
  name: 'kube-apiserver',
  useClientCert: true,
  startTimeoutMs: 120_000,
  args: (config) => {
    const pki = pkiPaths(config);
    return {
      command: binaries(config).kubeApiserver,
      args: [
        `--etcd-servers=http://127.0.0.1:${config.ports.etcd}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${config.ports.apiserver}`,
        '--endpoint-reconciler-type=none',
        `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
        `--tls-cert-file=${pki.cert}`,
        `--tls-private-key-file=${pki.key}`,
        `--client-ca-file=${pki.caCert}`,
        `--service-account-key-file=${pki.key}`,
        `--service-account-signing-key-file=${pki.key}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--proxy-client-cert-file=${pki.cert}`,
        `--proxy-client-key-file=${pki.key}`,
        `--requestheader-client-ca-file=${pki.caCert}`,
        '--requestheader-allowed-names=admin',
        '--authorization-mode=Node,RBAC',
        '--enable-priority-and-fairness=false',
        '--v=1',
      ],
    };
  },
  healthUrl: (config) => `https://127.0.0.1:${config.ports.apiserver}/readyz`,
  describe: (config) => `https://127.0.0.1:${config.ports.apiserver}`,
  env: (config) => ({ KUBECONFIG: pkiPaths(config).kubeconfig, SLIPWAY_KUBECTL: binaries(config).kubectl }),
});

/** Flags kube-controller-manager and kube-scheduler share: the admin kubeconfig, loopback, no leader election. */
function controllerFlags(kubeconfig: string, port: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    '--leader-elect=false',
  ];
}

export const kubeControllerManager = processComponent({
  name: 'kube-controller-manager',
  useClientCert: false,
  startTimeoutMs: 90_000,
  args: (config) => {
    const pki = pkiPaths(config);
    return {
      command: binaries(config).kubeControllerManager,
      args: [
        ...controllerFlags(pki.kubeconfig, config.ports.controllerManager),
        `--root-ca-file=${pki.caCert}`,
        `--service-account-private-key-file=${pki.key}`,
        '--use-service-account-credentials=true',
        '--node-monitor-grace-period=60s',
        '--v=1',
      ],
    };
  },
  healthUrl: (config) => `https://127.0.0.1:${config.ports.controllerManager}/healthz`,
});

export const kubeScheduler = processComponent({
  name: 'kube-scheduler',
  useClientCert: false,
  startTimeoutMs: 90_000,
  args: (config) => {
    const pki = pkiPaths(config);
    return {
      command: binaries(config).kubeScheduler,
      args: [...controllerFlags(pki.kubeconfig, config.ports.scheduler), '--v=1'],
    };
  },
  healthUrl: (config) => `https://127.0.0.1:${config.ports.scheduler}/healthz`,
});

export const kwok = processComponent({
  name: 'kwok',
  useClientCert: false,
  startTimeoutMs: 60_000,
  args: (config) => ({
    command: binaries(config).kwok,
    args: [
      `--kubeconfig=${pkiPaths(config).kubeconfig}`,
      `--config=${join(kwokDir, 'stages.yaml')}`,
      '--manage-all-nodes=true',
      '--node-lease-duration-seconds=40',
      '--cidr=10.244.0.0/16',
      '--node-ip=10.10.0.1',
      `--server-address=127.0.0.1:${config.ports.kwok}`,
    ],
  }),
  healthUrl: (config) => `http://127.0.0.1:${config.ports.kwok}/healthz`,
});

function kubectl(config: StackConfig, args: string[], input?: string): string {
  return execFileSync(binaries(config).kubectl, [`--kubeconfig=${pkiPaths(config).kubeconfig}`, ...args], {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** The fake nodes `nodes.yaml` defines, by name: a cached cluster missing one is not healthy, so `up` applies them. */
export function fakeNodeNames(): string[] {
  const text = readFileSync(join(kwokDir, 'nodes.yaml'), 'utf8');
  return [...text.matchAll(/^kind: Node\nmetadata:\n {2}name: (\S+)$/gm)].map((m) => m[1] ?? '');
}

function clusterObjectsReady(config: StackConfig): boolean {
  try {
    const nodes = kubectl(config, [
      'get',
      'nodes',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
    ]);
    const ready = new Set(
      nodes
        .split('\n')
        .filter((line) => line.endsWith('=True'))
        .map((line) => line.slice(0, -'=True'.length)),
    );
    const crds = kubectl(config, ['get', 'crd', ...ROUTE_CRDS, '-o', 'name']);
    return fakeNodeNames().every((name) => ready.has(name)) && ROUTE_CRDS.every((crd) => crds.includes(crd));
  } catch {
    return false;
  }
}

/** The CRDs of the route objects Slipway applies (HTTPRoute, VirtualService): installed and awaited. */
const ROUTE_CRDS = ['httproutes.gateway.networking.k8s.io', 'virtualservices.networking.istio.io'];

/** Cluster objects the stack needs: fake nodes (Ready), the Gateway API and Istio CRDs (Established). */
export const clusterObjects: Component = {
  name: 'cluster-objects',
  async up(config) {
    // A stack that was up before a CRD was added to the cache list fetches it here.
    const { gatewayApiCrds, istioCrds } = ensureBinaries(config);
    kubectl(config, [
      'apply',
      '--server-side',
      '--field-manager=slipway-local-stack',
      '-f',
      join(kwokDir, 'nodes.yaml'),
    ]);
    for (const crds of [gatewayApiCrds, istioCrds]) {
      kubectl(config, ['apply', '--server-side', '--field-manager=slipway-local-stack', '-f', crds]);
    }
    kubectl(config, [
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      ...ROUTE_CRDS.map((crd) => `crd/${crd}`),
    ]);
    kubectl(config, ['wait', '--for=condition=Ready', '--timeout=60s', 'node', '--all']);
    await waitUntil('cluster objects', () => clusterObjects.healthy(config), 30_000);
  },
  healthy(config) {
    return Promise.resolve(clusterObjectsReady(config));
  },
  down() {
    // Objects live in etcd's data folder; stopping etcd is enough.
    return Promise.resolve();
  },
  describe: () =>
    `${fakeNodeNames().length} fake nodes (2 with 4 GPUs each, a tainted A100 pool, a MIG node), Gateway API and Istio CRDs`,
};
