// Prometheus from Debian's `prometheus` package, run by the stack itself (never its system service)
// with a config in the state folder: scrapes the traffic simulator every second.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Component } from '../component.ts';
import type { StackConfig } from '../config.ts';
import { httpOk } from '../health.ts';
import { startDetached, stopProcess, waitUntil } from '../processes.ts';

const NAME = 'prometheus';

export function prometheusUrl(config: StackConfig): string {
  return `http://127.0.0.1:${config.ports.prometheus}`;
}

function configYaml(config: StackConfig): string {
  return `# Written by infra/local/stack/components/prometheus.ts on every start; edits are overwritten.
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: traffic-simulator
    static_configs:
      - targets: ['127.0.0.1:${config.ports.simulator}']
`;
}

const healthy = (config: StackConfig) => httpOk(`${prometheusUrl(config)}/-/ready`).catch(() => false);

export const prometheus: Component = {
  name: NAME,
  async up(config) {
    if (!existsSync(config.prometheusBin)) {
      throw new Error(
        `Prometheus is not installed (${config.prometheusBin}): run infra/local/setup.sh as root, or ` +
          '`apt-get install --no-install-recommends prometheus`, or set SLIPWAY_PROMETHEUS_BIN',
      );
    }
    const dir = join(config.stateDir, 'prometheus');
    mkdirSync(dir, { recursive: true });
    const configFile = join(config.stateDir, 'prometheus.yml');
    writeFileSync(configFile, configYaml(config));
    startDetached({
      name: NAME,
      stateDir: config.stateDir,
      command: config.prometheusBin,
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${dir}`,
        '--storage.tsdb.retention.time=6h',
        `--web.listen-address=127.0.0.1:${config.ports.prometheus}`,
        `--web.external-url=${prometheusUrl(config)}`,
        '--web.enable-lifecycle',
        '--log.level=warn',
      ],
    });
    await waitUntil('Prometheus', () => healthy(config), 60_000);
  },
  healthy,
  async down(config) {
    await stopProcess(config.stateDir, NAME);
  },
  describe: (config) => `${prometheusUrl(config)} (scrapes the simulator every 1 s)`,
  env: (config) => ({ PROMETHEUS_URL: prometheusUrl(config) }),
};
