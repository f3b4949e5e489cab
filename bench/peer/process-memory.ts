// The resident memory of a process (VmRSS in /proc/<pid>/status), sampled while a tool runs.
import { readFileSync } from 'node:fs';

export function rssKiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export interface MemorySampler {
  /** Peak and last sample, MiB. */
  stop(): { peakMiB: number; lastMiB: number; samples: number };
}

export function sampleMemory(pid: number, everyMs = 250): MemorySampler {
  let peak = 0;
  let last = 0;
  let samples = 0;
  const take = () => {
    const kib = rssKiB(pid);
    if (kib === undefined) return;
    samples++;
    last = kib;
    peak = Math.max(peak, kib);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      take();
      clearInterval(timer);
      const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
      return { peakMiB: mib(peak), lastMiB: mib(last), samples };
    },
  };
}
