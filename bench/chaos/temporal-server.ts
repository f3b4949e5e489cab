// A Temporal dev server of the chaos run's own — never the shared stack's, which other tests use at
// the same time. It is the stack's own component (infra/local/stack/components/temporal.ts: the same
// binary, flags and search attributes) with a state folder in a temp dir and two free ports, so it
// can be stopped (SIGTERM, or kill -9) and started again on the same SQLite file and port, and the
// workers and clients connected to it have to reconnect.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { loadStackConfig, type StackConfig } from '../../infra/local/stack/config.ts';
import { temporalAddress, temporalServer } from '../../infra/local/stack/components/temporal.ts';
import { freePort } from '../../infra/local/stack/free-port.ts';
import { runningPid } from '../../infra/local/stack/processes.ts';

export type StopSignal = 'SIGTERM' | 'SIGKILL';

export interface OwnTemporal {
  /** host:port, the same across restarts. */
  address: string;
  /** The SQLite file that survives every restart. */
  dbFile: string;
  /** Stops it with `signal` (SIGTERM: a graceful stop; SIGKILL: kill -9) and waits until it is gone. */
  stop(signal: StopSignal): Promise<void>;
  /** Starts it again on the same file and port; resolves once it answers. */
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  close(): Promise<void>;
}

/** Whether process `pid` has ended (gone, or a zombie nobody reaped yet). */
function ended(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

export async function startOwnTemporal(): Promise<OwnTemporal> {
  const stack = loadStackConfig();
  const stateDir = mkdtempSync(join(tmpdir(), 'slipway-chaos-temporal-'));
  const config: StackConfig = {
    ...stack,
    stateDir,
    ports: { ...stack.ports, temporal: await freePort(), temporalUi: await freePort() },
  };
  const start = () => temporalServer.up(config);
  await start();
  const stop = async (signal: StopSignal) => {
    const pid = runningPid(stateDir, temporalServer.name);
    if (pid === undefined) return;
    // The stack's own stop: SIGTERM, SIGKILL after a grace period.
    if (signal === 'SIGTERM') await temporalServer.down(config);
    // Started detached, it leads its own process group.
    else process.kill(-pid, 'SIGKILL');
    while (!ended(pid)) await delay(50);
  };
  return {
    address: temporalAddress(config),
    dbFile: join(stateDir, 'temporal', 'temporal.db'),
    stop,
    start,
    async close() {
      await stop('SIGKILL').catch(() => undefined);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
