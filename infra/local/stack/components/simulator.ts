// The traffic simulator (infra/local/simulator): a Node process of ours, watching the local cluster.
import { fileURLToPath } from 'node:url';
import type { Component } from '../component.ts';
import type { StackConfig } from '../config.ts';
import { httpOk } from '../health.ts';
import { pkiPaths } from '../pki.ts';
import { startDetached, stopProcess, waitUntil } from '../processes.ts';

const NAME = 'traffic-simulator';
const MAIN = fileURLToPath(new URL('../../simulator/main.ts', import.meta.url));

export function simulatorUrl(config: StackConfig): string {
  return `http://127.0.0.1:${config.ports.simulator}`;
}

const healthy = (config: StackConfig) => httpOk(`${simulatorUrl(config)}/healthz`).catch(() => false);

export const trafficSimulator: Component = {
  name: NAME,
  async up(config) {
    startDetached({
      name: NAME,
      stateDir: config.stateDir,
      command: process.execPath,
      args: [MAIN],
      env: {
        ...process.env,
        // Always the local cluster, whatever KUBECONFIG the caller has.
        KUBECONFIG: pkiPaths(config).kubeconfig,
        SIMULATOR_HOST: '127.0.0.1',
        SIMULATOR_PORT: String(config.ports.simulator),
      },
    });
    await waitUntil('the traffic simulator', () => healthy(config), 30_000);
  },
  healthy,
  async down(config) {
    await stopProcess(config.stateDir, NAME);
  },
  describe: (config) => `${simulatorUrl(config)} (/metrics, /state)`,
  env: (config) => ({ SIMULATOR_URL: simulatorUrl(config) }),
};
