// The local stack's GPU pools are shared by every test file that runs at the same time (node's
// runner runs two at once). A file that fills them (the examples' releases) or that needs them free
// to assert exact capacity figures (capacity.test.ts) holds this lock from its `before` to its
// `after`: a directory made atomically under the stack's state, with the holder's pid so that a
// lock left by a killed run is taken over.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';

const lockDir = join(
  process.env.SLIPWAY_CACHE ?? join(homedir(), '.cache', 'slipway'),
  'state',
  'gpu-pools.lock',
);

function holderAlive(): boolean {
  try {
    const pid = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits (up to `timeoutMs`) until this process holds the GPU pools; returns the release. */
export async function holdGpuPools(timeoutMs = 300_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lockDir, { recursive: false });
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      return () => rmSync(lockDir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A holder that is gone (killed mid-run) leaves its lock: take it over. A lock being made
      // right now has no pid file yet for a moment: give it that moment.
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (!holderAlive()) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        if (!holderAlive()) rmSync(lockDir, { recursive: true, force: true });
      }
    }
    if (Date.now() > deadline)
      throw new Error(`the GPU pools stayed held for ${timeoutMs / 1000}s (${lockDir})`);
  }
}
