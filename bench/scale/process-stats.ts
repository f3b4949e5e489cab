// CPU time and resident memory of processes (from /proc), sampled on a timer into a time series:
// the workers', the Temporal dev server's, whatever pid the bench names.
import { readFileSync } from 'node:fs';
import { rssKiB } from '../peer/process-memory.ts';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds the process has used, or undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start at state (field 3).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

export interface ProcessSample {
  /** ms since the sampler started. */
  t: number;
  rssMiB: number;
  /** CPU used since the previous sample, as a share of one core. */
  cpu: number;
}

export interface ProcessSampler {
  samples(): ProcessSample[];
  /** Follows another pid under the same name from now on (a restarted worker). */
  follow(pid: number): void;
  stop(): ProcessSample[];
}

export function sampleProcess(pid: number, everyMs = 1_000): ProcessSampler {
  const started = Date.now();
  const samples: ProcessSample[] = [];
  let current = pid;
  let last = { at: Date.now(), cpu: cpuSeconds(pid) ?? 0 };
  const take = () => {
    const kib = rssKiB(current);
    const cpu = cpuSeconds(current);
    const now = Date.now();
    if (kib === undefined || cpu === undefined) return;
    const share = now > last.at ? Math.max(0, cpu - last.cpu) / ((now - last.at) / 1000) : 0;
    samples.push({
      t: now - started,
      rssMiB: Math.round(kib / 102.4) / 10,
      cpu: Math.round(share * 100) / 100,
    });
    last = { at: now, cpu };
  };
  const timer = setInterval(take, everyMs);
  return {
    samples: () => samples,
    follow(next) {
      current = next;
      last = { at: Date.now(), cpu: cpuSeconds(next) ?? 0 };
    },
    stop() {
      take();
      clearInterval(timer);
      return samples;
    },
  };
}

/** A time series cut into `buckets` equal spans: the peak RSS and mean CPU of each (to print "over time"). */
export function overTime(
  samples: ProcessSample[],
  buckets: number,
): Array<{ untilS: number; rssMiB: number; cpu: number }> {
  if (samples.length === 0) return [];
  const end = samples[samples.length - 1]!.t;
  const span = Math.max(1, end / buckets);
  const out: Array<{ untilS: number; rssMiB: number; cpu: number }> = [];
  for (let b = 0; b < buckets; b++) {
    const inSpan = samples.filter(
      (s) => s.t >= b * span && (b === buckets - 1 ? s.t <= end : s.t < (b + 1) * span),
    );
    if (inSpan.length === 0) continue;
    out.push({
      untilS: Math.round(((b + 1) * span) / 1000),
      rssMiB: Math.max(...inSpan.map((s) => s.rssMiB)),
      cpu: Math.round((inSpan.reduce((sum, s) => sum + s.cpu, 0) / inSpan.length) * 100) / 100,
    });
  }
  return out;
}
