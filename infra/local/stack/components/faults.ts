// The apiserver fault proxy (infra/local/faults) as an optional part of the stack: started only when
// SLIPWAY_FAULTS holds a plan, on 127.0.0.1:16447 (SLIPWAY_FAULTS_PORT), in front of the stack's
// kube-apiserver. `env` then exports a KUBECONFIG through the proxy (and the direct one as
// SLIPWAY_DIRECT_KUBECONFIG), so a worker, a test or the demo started from that env meets the faults
// while the stack's own processes (controllers, KWOK, the simulator) keep talking to the apiserver
// directly. Healthy = it answers /_faults/healthz with the configured plan: `up` with the same plan
// changes nothing, another plan restarts it; `down` prints its stats into its log.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Component } from '../component.ts';
import type { StackConfig } from '../config.ts';
import { pkiPaths } from '../pki.ts';
import { startDetached, stopProcess, waitUntil } from '../processes.ts';

const NAME = 'apiserver-faults';
const MAIN = fileURLToPath(new URL('../../faults/main.ts', import.meta.url));

export function faultsUrl(config: StackConfig): string {
  return `https://127.0.0.1:${config.ports.faults}`;
}

/** The kubeconfig through the proxy (written by the proxy when it starts). */
export function faultsKubeconfig(config: StackConfig): string {
  return join(config.stateDir, 'faults-kubeconfig');
}

/** GET one of the proxy's own paths; undefined when it does not answer 200 with JSON. */
export function proxyGet(config: StackConfig, path: string, timeoutMs = 2_000): Promise<unknown> {
  return new Promise((resolve) => {
    const req = request(
      `${faultsUrl(config)}${path}`,
      { ca: readFileSync(pkiPaths(config).caCert), timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          try {
            resolve(res.statusCode === 200 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined);
          } catch {
            resolve(undefined);
          }
        });
      },
    );
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function healthy(config: StackConfig): Promise<boolean> {
  if (!config.faults) return false;
  const answer = (await proxyGet(config, '/_faults/healthz').catch(() => undefined)) as
    { ok?: boolean; plan?: unknown } | undefined;
  return answer?.ok === true && JSON.stringify(answer.plan) === JSON.stringify(config.faults);
}

const activeRates = (config: StackConfig) =>
  Object.entries(config.faults ?? {})
    .filter(([key, value]) => key !== 'seed' && !/Ms$|Seconds$/.test(key) && value !== 0)
    .map(([key, value]) => `${key} ${String(value)}`)
    .join(', ');

export const faultProxy: Component = {
  name: NAME,
  enabled: (config) => config.faults !== undefined,
  async up(config) {
    if (!config.faults) return;
    startDetached({
      name: NAME,
      stateDir: config.stateDir,
      command: process.execPath,
      args: [
        MAIN,
        '--plan',
        JSON.stringify(config.faults),
        '--listen',
        `127.0.0.1:${config.ports.faults}`,
        '--kubeconfig',
        faultsKubeconfig(config),
      ],
      // The same stack as this configuration's, whatever the caller's environment says.
      env: {
        ...process.env,
        SLIPWAY_STATE: config.stateDir,
        SLIPWAY_APISERVER_PORT: String(config.ports.apiserver),
      },
    });
    await waitUntil('the apiserver fault proxy', () => healthy(config), 30_000);
  },
  healthy,
  async down(config) {
    await stopProcess(config.stateDir, NAME);
  },
  describe: (config) =>
    `${faultsUrl(config)} -> kube-apiserver :${config.ports.apiserver}; ${activeRates(config) || 'no faults'} (seed ${config.faults?.seed ?? '-'}); /_faults/stats`,
  env: (config) => ({
    KUBECONFIG: faultsKubeconfig(config),
    SLIPWAY_DIRECT_KUBECONFIG: pkiPaths(config).kubeconfig,
    SLIPWAY_FAULTS_STATS_URL: `${faultsUrl(config)}/_faults/stats`,
  }),
};
