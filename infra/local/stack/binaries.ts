// Where the locally built binaries live, and building them on first use (cached by version).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StackConfig } from './config.ts';

const buildDir = fileURLToPath(new URL('../build/', import.meta.url));

export function pinnedVersions(): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const line of readFileSync(join(buildDir, 'versions.env'), 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) versions[match[1]] = match[2];
  }
  return versions;
}

function version(name: string): string {
  const v = pinnedVersions()[name];
  if (!v) throw new Error(`${name} missing from infra/local/build/versions.env`);
  return v;
}

export interface Binaries {
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  etcd: string;
  kwok: string;
  gatewayApiCrds: string;
  /** Istio's networking.istio.io CRDs (VirtualService…), one file each. */
  istioCrds: string;
}

export function binaries(config: StackConfig): Binaries {
  const k8s = join(config.cacheDir, 'bin', `kubernetes-${version('KUBERNETES_VERSION')}`);
  return {
    kubeApiserver: join(k8s, 'kube-apiserver'),
    kubeControllerManager: join(k8s, 'kube-controller-manager'),
    kubeScheduler: join(k8s, 'kube-scheduler'),
    kubectl: join(k8s, 'kubectl'),
    etcd: join(config.cacheDir, 'bin', `etcd-${version('ETCD_VERSION')}`, 'etcd'),
    kwok: join(config.cacheDir, 'bin', `kwok-${version('KWOK_VERSION')}`, 'kwok'),
    gatewayApiCrds: join(config.cacheDir, `gateway-api-${version('GATEWAY_API_VERSION')}`),
    istioCrds: join(config.cacheDir, `istio-api-${version('ISTIO_API_VERSION')}`),
  };
}

/** Builds whatever is missing (a no-op when the cache is complete). */
export function ensureBinaries(config: StackConfig): Binaries {
  const b = binaries(config);
  const missing = [
    b.kubeApiserver,
    b.etcd,
    b.kwok,
    join(b.gatewayApiCrds, '.complete'),
    join(b.istioCrds, '.complete'),
  ].some((p) => !existsSync(p));
  if (missing) {
    execFileSync('bash', [join(buildDir, 'build-kubernetes.sh')], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, SLIPWAY_CACHE: config.cacheDir },
    });
  }
  return b;
}

/** The Argo Rollouts controller and its CRDs (the peer bench only; not part of `up`). */
export interface ArgoRollouts {
  controller: string;
  crds: string;
}

export function argoRollouts(config: StackConfig): ArgoRollouts {
  const dir = join(config.cacheDir, 'bin', `argo-rollouts-${version('ARGO_ROLLOUTS_VERSION')}`);
  return { controller: join(dir, 'rollouts-controller'), crds: join(dir, 'crds') };
}

/** Builds Argo Rollouts on first use (several minutes cold; a no-op once cached). */
export function ensureArgoRollouts(config: StackConfig): ArgoRollouts {
  const a = argoRollouts(config);
  if (!existsSync(join(a.controller, '..', '.complete'))) {
    execFileSync('bash', [join(buildDir, 'build-kubernetes.sh'), 'argo-rollouts'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, SLIPWAY_CACHE: config.cacheDir },
    });
  }
  return a;
}
