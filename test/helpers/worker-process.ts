// A release worker in its own process (worker/main.ts, as operators run it), so tests can kill -9 it
// mid-release or stop it with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../../worker/main.ts', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** host:port of its health and metrics endpoint. */
  httpAddress: string;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with its exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export async function startWorkerProcess(
  taskQueue: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [entry], {
    env: {
      ...process.env,
      SLIPWAY_TASK_QUEUE: taskQueue,
      SLIPWAY_LOG_LEVEL: 'info',
      SLIPWAY_WORKER_HTTP: '127.0.0.1:0',
      SLIPWAY_TEMPORAL_METRICS: 'off',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const httpAddress = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker did not start within 90 s:\n${output.slice(-2000)}`)),
      90_000,
    );
    const onData = () => {
      const line = output
        .split('\n')
        .slice(0, -1)
        .find((l) => l.includes('"worker started"'));
      if (!line) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve(String((JSON.parse(line) as { http?: string }).http ?? 'off'));
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}:\n${output.slice(-2000)}`));
    });
  });
  return {
    child,
    httpAddress,
    output: () => output,
    exited,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
