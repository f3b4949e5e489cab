// Waiting for a peer controller process to answer its health endpoint (or to die trying).
import type { ChildProcess } from 'node:child_process';

export async function untilHealthy(
  child: ChildProcess,
  url: string,
  what: string,
  log: string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the ${what} controller did not become healthy; see ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
