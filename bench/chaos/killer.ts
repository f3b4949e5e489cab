// The chaos itself: kill -9 of the worker at random moments (seeded gaps), each followed by a new
// worker, and the Temporal dev server stopped and started again between kills (SIGTERM, then kill -9
// the next time, alternating), its SQLite file kept. Each kill records the stage of the release it
// aimed at, read with the `status` query just before the kill; to hit every stage the next kill aims
// at the stage hit least so far among those in flight, and while a stage has never been hit it waits
// a little (hunting) for a release to be in it. After each kill it measures how long the tasks that
// died with the worker took to run again (bench/chaos/recovery.ts), and waits for that, up to a
// limit, before the next gap.
import { setTimeout as delay } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { Random } from '../../infra/local/simulator/random.ts';
import { statusQuery } from '../../workflows/messages.ts';
import type { Stage } from '../../workflows/status.ts';
import { awaitRecovery, lostTasks } from './recovery.ts';
import type { OwnTemporal, StopSignal } from './temporal-server.ts';
import type { WorkerSupervisor } from './worker-supervisor.ts';

/** The stages a kill should land in. */
export const KILL_STAGES = ['build', 'shadow', 'canary', 'promote', 'rollback'] as const satisfies Stage[];
export type KillStage = (typeof KILL_STAGES)[number];

export interface KillRecord {
  /** ms since the run started. */
  atMs: number;
  /** The stage of the release it aimed at, just before the kill (`unknown`: no answer). */
  stage: Stage | 'unknown';
  release: string;
  /** How many releases were in each stage at that moment. */
  inFlight: Partial<Record<Stage, number>>;
  /** From the kill to the next worker polling. */
  restartMs: number;
  /** Tasks that died with the worker (activity attempts, workflow tasks running then). */
  lostTasks: number;
  /** From the kill until every lost task had started again (or ended); absent when that took too long. */
  recoveredMs?: number;
}

export interface TemporalRestartRecord {
  atMs: number;
  signal: StopSignal;
  /** From the stop to the server answering again. */
  downMs: number;
}

export interface InFlight {
  id: string;
  handle: WorkflowHandle;
}

export interface KillerOptions {
  kills: number;
  temporalRestarts: number;
  random: Random;
  /** Gap before each kill, drawn uniformly from [min, max] ms. */
  gapMs: [number, number];
  /** How long a kill may wait for a stage never hit yet to show up. */
  huntMs: number;
  /** How long after a kill the next one waits, at most, for the lost tasks to be started again. */
  recoverWaitMs: number;
  inFlight: () => InFlight[];
  /** True once every release has ended. */
  finished: () => boolean;
  worker: WorkerSupervisor;
  temporal: OwnTemporal;
  startedAt: number;
  log: (line: string) => void;
  /** Called after each kill with the number of kills so far. */
  onKill?: (kills: number) => void;
}

async function stageOf(flight: InFlight): Promise<Stage | undefined> {
  const answer = flight.handle.query(statusQuery).then((s) => s.stage);
  const late = delay(3_000).then(() => undefined);
  return Promise.race([answer, late]).catch(() => undefined);
}

async function stagesNow(flights: InFlight[]): Promise<Array<{ flight: InFlight; stage: Stage }>> {
  const stages = await Promise.all(flights.map(async (flight) => ({ flight, stage: await stageOf(flight) })));
  return stages.filter(
    (s): s is { flight: InFlight; stage: Stage } => s.stage !== undefined && s.stage !== 'done',
  );
}

/** How long a kill's lost tasks are followed: longer than any activity timeout a release uses for them. */
const RECOVERY_LIMIT_MS = 150_000;

/** Kill indices before which the Temporal server restarts, spread evenly over the kills. */
export function restartPoints(kills: number, restarts: number): number[] {
  return Array.from({ length: restarts }, (_, j) => Math.floor(((j + 1) * kills) / (restarts + 1)));
}

export async function runKiller(o: KillerOptions): Promise<{
  kills: KillRecord[];
  restarts: TemporalRestartRecord[];
}> {
  const kills: KillRecord[] = [];
  const recoveries: Array<Promise<unknown>> = [];
  const restarts: TemporalRestartRecord[] = [];
  const hits = new Map<Stage | 'unknown', number>();
  const pending = restartPoints(o.kills, o.temporalRestarts);
  const uniform = ([min, max]: [number, number]) => min + o.random.next() * (max - min);

  for (let k = 0; k < o.kills && !o.finished(); k++) {
    await delay(uniform(o.gapMs));
    while (pending[0] === k && !o.finished()) {
      pending.shift();
      const signal: StopSignal = restarts.length % 2 === 0 ? 'SIGTERM' : 'SIGKILL';
      const stoppedAt = Date.now();
      await o.temporal.stop(signal);
      await delay(uniform([1_000, 3_000]));
      await o.temporal.start();
      restarts.push({ atMs: stoppedAt - o.startedAt, signal, downMs: Date.now() - stoppedAt });
      o.log(`temporal restarted (${signal}), down ${Date.now() - stoppedAt} ms`);
      await delay(uniform(o.gapMs));
    }
    let present = await stagesNow(o.inFlight());
    const neverHit = (stage: Stage) => !hits.has(stage);
    const huntUntil = Date.now() + o.huntMs;
    while (
      KILL_STAGES.some(neverHit) &&
      !present.some((p) => neverHit(p.stage)) &&
      Date.now() < huntUntil &&
      !o.finished()
    ) {
      await delay(150);
      present = await stagesNow(o.inFlight());
    }
    if (present.length === 0) {
      if (o.finished()) break;
      k--; // nothing answers right now (a worker still recovering): try again after the next gap
      continue;
    }
    const least = Math.min(...present.map((p) => hits.get(p.stage) ?? 0));
    const aimed = present.filter((p) => (hits.get(p.stage) ?? 0) === least);
    const target = aimed[Math.floor(o.random.next() * aimed.length)]!;
    const inFlight: Partial<Record<Stage, number>> = {};
    for (const p of present) inFlight[p.stage] = (inFlight[p.stage] ?? 0) + 1;
    // Read again right before the kill: the stage it really hit.
    const stage: Stage | 'unknown' = (await stageOf(target.flight)) ?? 'unknown';
    const killedAt = Date.now();
    await o.worker.kill9();
    await delay(uniform([0, 1_500])); // timers fire and activities time out while no worker runs
    await o.worker.start();
    const restartMs = Date.now() - killedAt;
    // The next kill waits (a while) for this one's lost tasks to run again, so that kills in a row
    // do not keep a release from ever finishing a task.
    const lost = await lostTasks(o.inFlight(), killedAt);
    const record: KillRecord = {
      atMs: killedAt - o.startedAt,
      stage,
      release: target.flight.id,
      inFlight,
      restartMs,
      lostTasks: lost.length,
    };
    kills.push(record);
    // Measured to the end in the background (later kills do not change which tasks this one lost);
    // the next kill waits for it only `recoverWaitMs`.
    const recovery = awaitRecovery(o.inFlight, killedAt, RECOVERY_LIMIT_MS).then((r) => {
      if (r.recoveredMs !== undefined) record.recoveredMs = r.recoveredMs;
      return r;
    });
    recoveries.push(recovery);
    await Promise.race([recovery, delay(o.recoverWaitMs)]);
    hits.set(stage, (hits.get(stage) ?? 0) + 1);
    o.onKill?.(kills.length);
    o.log(
      `kill ${kills.length} at ${record.atMs} ms: ${record.release} in ${stage}; ${lost.length} tasks lost${record.recoveredMs === undefined ? '' : `, all running again after ${record.recoveredMs} ms`}`,
    );
  }
  await Promise.all(recoveries);
  return { kills, restarts };
}
