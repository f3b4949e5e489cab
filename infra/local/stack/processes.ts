// Starting and stopping the stack's background processes. Each started process is recorded in
// `<state>/pids/<name>.json` with its pid and kernel start time, so `down` stops exactly the
// processes `up` started (a recycled pid is never signalled).
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

interface PidRecord {
  pid: number;
  startTime: string;
  command: string;
}

export interface StartOptions {
  name: string;
  command: string;
  args: readonly string[];
  stateDir: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

function pidFile(stateDir: string, name: string): string {
  return join(stateDir, 'pids', `${name}.json`);
}

export function logFile(stateDir: string, name: string): string {
  return join(stateDir, 'logs', `${name}.log`);
}

/** Fields 3.. of /proc/<pid>/stat (state first), or undefined when there is no such process. */
function procStatFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the fields after it start past the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat: the process start time in clock ticks since boot; undefined for a zombie. */
function kernelStartTime(pid: number): string | undefined {
  const fields = procStatFields(pid);
  if (!fields || fields[0] === 'Z') return undefined;
  return fields[19];
}

function readRecord(stateDir: string, name: string): PidRecord | undefined {
  try {
    return JSON.parse(readFileSync(pidFile(stateDir, name), 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

/** The pid of the recorded process when it is still the same process and alive. */
export function runningPid(stateDir: string, name: string): number | undefined {
  const record = readRecord(stateDir, name);
  if (!record) return undefined;
  const startTime = kernelStartTime(record.pid);
  if (startTime === undefined || startTime !== record.startTime) return undefined;
  return record.pid;
}

export function startDetached(options: StartOptions): number {
  const { name, stateDir } = options;
  mkdirSync(join(stateDir, 'pids'), { recursive: true });
  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  const log = openSync(logFile(stateDir, name), 'a');
  const child = spawn(options.command, options.args, {
    cwd: options.cwd ?? stateDir,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${options.command})`);
  child.unref();
  const startTime = kernelStartTime(child.pid);
  if (startTime === undefined) throw new Error(`${name} exited at once; see ${logFile(stateDir, name)}`);
  const record: PidRecord = { pid: child.pid, startTime, command: options.command };
  writeFileSync(pidFile(stateDir, name), JSON.stringify(record));
  return child.pid;
}

/** Stops the recorded process (SIGTERM, then SIGKILL after `graceMs`) and forgets it. */
export async function stopProcess(stateDir: string, name: string, graceMs = 10_000): Promise<boolean> {
  const pid = runningPid(stateDir, name);
  rmSync(pidFile(stateDir, name), { force: true });
  if (pid === undefined) return false;
  // Processes are started detached, so each leads its own process group: signal the group.
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (kernelStartTime(pid) === undefined) return true;
    await delay(100);
  }
  signal('SIGKILL');
  return true;
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(200);
  }
}
