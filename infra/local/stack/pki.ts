// The local cluster's PKI, made with openssl: one CA and one certificate (CN admin, O=system:masters,
// serverAuth + clientAuth) used for serving, client auth and service-account signing, plus a kubeconfig.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackConfig } from './config.ts';

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
  kubeconfig: string;
}

export function pkiPaths(config: StackConfig): Pki {
  const dir = join(config.stateDir, 'pki');
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    cert: join(dir, 'admin.crt'),
    key: join(dir, 'admin.key'),
    kubeconfig: join(config.stateDir, 'kubeconfig'),
  };
}

const SANS = [
  'DNS:localhost',
  'IP:127.0.0.1',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
  // The `kubernetes` Service's ClusterIP: the first address of the Service range (service-range.ts).
  'IP:10.0.0.1',
].join(',');

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates the CA, certificate and kubeconfig once; later calls only rewrite the kubeconfig. */
export function ensurePki(config: StackConfig): Pki {
  const pki = pkiPaths(config);
  mkdirSync(pki.dir, { recursive: true });
  if (!existsSync(pki.cert)) {
    openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      pki.caKey,
      '-out',
      pki.caCert,
      '-days',
      '3650',
      '-subj',
      '/CN=slipway-local-ca',
    ]);
    const csr = join(pki.dir, 'admin.csr');
    const ext = join(pki.dir, 'admin.ext');
    writeFileSync(
      ext,
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth,clientAuth',
        `subjectAltName=${SANS}`,
      ].join('\n'),
    );
    openssl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      pki.key,
      '-out',
      csr,
      '-subj',
      '/O=system:masters/CN=admin',
    ]);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      pki.caCert,
      '-CAkey',
      pki.caKey,
      '-CAcreateserial',
      '-out',
      pki.cert,
      '-days',
      '3650',
      '-extfile',
      ext,
    ]);
  }
  writeFileSync(pki.kubeconfig, kubeconfigYaml(config, pki));
  return pki;
}

function kubeconfigYaml(config: StackConfig, pki: Pki): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: slipway-local
  cluster:
    server: https://127.0.0.1:${config.ports.apiserver}
    certificate-authority: ${pki.caCert}
users:
- name: admin
  user:
    client-certificate: ${pki.cert}
    client-key: ${pki.key}
contexts:
- name: slipway-local
  context: { cluster: slipway-local, user: admin }
current-context: slipway-local
`;
}
