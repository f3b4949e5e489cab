// Running one release through the chaos: started (again, if Temporal was down when it was asked),
// its result awaited across worker kills and Temporal restarts (a connection error is retried, a
// failed workflow is an outcome), then the cluster compared with what the outcome says.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import proto from '@temporalio/proto';
import type { TestNamespace } from '../../test/helpers/cluster.ts';
import { releaseWorkflowId } from '../../workflows/ids.ts';
import { statusQuery } from '../../workflows/messages.ts';
import { release, type ReleaseResult } from '../../workflows/release.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import { checkEndState, pictureOf } from './cluster-checks.ts';
import type { InFlight } from './killer.ts';
import type { PlannedRelease, Router } from './plan.ts';

export type Outcome = 'Promoted' | 'RolledBack' | 'Failed' | 'Stuck';

export interface ReleaseRecord {
  index: number;
  model: string;
  version: string;
  kind: PlannedRelease['kind'];
  router: Router;
  buildJob: boolean;
  expected: PlannedRelease['expected'];
  outcome: Outcome;
  failureType?: string;
  reason: string;
  /** ms since the run started. */
  startedMs: number;
  endedMs: number;
  /** The stable version the cluster should run now. */
  stableVersion: string;
  /** What differs from the state its outcome says (empty = as it should be). */
  stateProblems: string[];
  /** Gate measurements by stage (from the final status; absent when it could not be read). */
  measurements?: Record<string, number>;
}

export interface RunnerContext {
  client: Client;
  ns: TestNamespace;
  taskQueue: string;
  startedAt: number;
  /** Longest a release may take before it counts as stuck (and is terminated). */
  releaseTimeoutMs: number;
  inFlight: Map<string, InFlight>;
}

function connectionTrouble(error: unknown): boolean {
  return !(error instanceof WorkflowFailedError);
}

async function startSurviving(
  ctx: RunnerContext,
  spec: ReleaseSpecInput,
  deadline: number,
): Promise<WorkflowHandle<typeof release>> {
  const workflowId = releaseWorkflowId(spec.namespace, spec.model);
  // Bound to the run: a query must not reach the model's next release once this one has ended.
  const bound = (runId: string) => ctx.client.workflow.getHandle<typeof release>(workflowId, runId);
  for (;;) {
    try {
      const started = await ctx.client.workflow.start(release, {
        taskQueue: ctx.taskQueue,
        workflowId,
        args: [{ spec, submittedBy: 'chaos' }],
      });
      return bound(started.firstExecutionRunId);
    } catch (error) {
      // An earlier attempt reached the server before its answer was lost: that run is this release
      // (the model's previous release had ended before this one was started).
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        const described = await ctx.client.workflow
          .getHandle(workflowId)
          .describe()
          .catch(() => undefined);
        if (described) return bound(described.runId);
      }
      if (Date.now() > deadline) throw error;
      await delay(500);
    }
  }
}

type Ending =
  | { kind: 'result'; result: ReleaseResult }
  | { kind: 'failed'; reason: string; failureType?: string }
  | { kind: 'stuck'; reason: string };

async function endingOf(handle: WorkflowHandle<typeof release>, deadline: number): Promise<Ending> {
  // The wait that was still polling when the deadline came (it settles once the run is terminated).
  let outstanding: Promise<unknown> | undefined;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), left)));
    const waiting = handle.result();
    try {
      const result = await Promise.race([waiting, late]);
      if (result === 'late') {
        outstanding = waiting.catch(() => undefined);
        break;
      }
      return { kind: 'result', result };
    } catch (error) {
      if (!connectionTrouble(error)) {
        const cause = (error as WorkflowFailedError).cause;
        return {
          kind: 'failed',
          reason: cause?.message ?? String(error),
          ...(cause && 'type' in cause && typeof cause.type === 'string' ? { failureType: cause.type } : {}),
        };
      }
      await delay(500); // Temporal restarting: ask again
    } finally {
      clearTimeout(timer);
    }
  }
  const described = await handle.describe().catch(() => undefined);
  const pending = (described?.raw.pendingActivities ?? []).map(
    (a) => `${a.activityType?.name ?? '?'} (attempt ${a.attempt ?? '?'}, state ${a.state ?? '?'})`,
  );
  const task = described?.raw.pendingWorkflowTask;
  if (task) pending.push(`workflow task (attempt ${task.attempt ?? '?'}, state ${task.state ?? '?'})`);
  // Its history, to see where it hangs (replay it, or read it with `temporal workflow show`).
  const file = join(
    tmpdir(),
    `slipway-chaos-stuck-${handle.workflowId.replaceAll('/', '_')}-${Date.now()}.history.bin`,
  );
  const saved = await handle
    .fetchHistory()
    .then((history) => {
      writeFileSync(file, proto.temporal.api.history.v1.History.encode(history).finish());
      return ` (history in ${file}, encoded as test/fixtures/histories keeps them)`;
    })
    .catch((error: unknown) => ` (no history: ${String(error)})`);
  const status = await Promise.race([handle.query(statusQuery), delay(5_000).then(() => undefined)]).catch(
    () => undefined,
  );
  const where = status
    ? `; ${status.stage}/${status.phase}, pause reasons ${JSON.stringify(status.pauseReasons.map((p) => p.message))}, last ${JSON.stringify(status.timeline.slice(-3).map((e) => e.message))}`
    : '';
  await handle.terminate('chaos run: did not end in time').catch(() => undefined);
  await Promise.race([outstanding, delay(10_000)]);
  return {
    kind: 'stuck',
    reason: `did not end in time; pending activities [${pending.join(', ')}]${where}${saved}`,
  };
}

/** Runs one release and checks the cluster after it; `stableVersion` is what serves before it. */
export async function runRelease(
  ctx: RunnerContext,
  planned: PlannedRelease,
  spec: ReleaseSpecInput,
  stableVersion: string,
): Promise<ReleaseRecord> {
  const before = await pictureOf(ctx.ns, planned.model);
  const startedAt = Date.now();
  const deadline = startedAt + ctx.releaseTimeoutMs;
  const id = `${planned.model} ${planned.version}`;
  const handle = await startSurviving(ctx, spec, deadline);
  ctx.inFlight.set(id, { id, handle });
  let ending: Ending;
  try {
    ending = await endingOf(handle, deadline);
  } finally {
    ctx.inFlight.delete(id);
  }
  const endedAt = Date.now();
  const measurements = ending.kind === 'result' ? await measurementsByStage(handle) : undefined;
  const outcome: Outcome =
    ending.kind === 'result' ? ending.result.outcome.result : ending.kind === 'failed' ? 'Failed' : 'Stuck';
  const nextStable = outcome === 'Promoted' ? planned.version : stableVersion;
  const stateProblems =
    outcome === 'Promoted' || outcome === 'RolledBack'
      ? await checkEndState(ctx.ns, planned.model, planned.router, outcome, nextStable, before)
      : [`ended ${outcome}: the cluster state is not checked`];
  const failureType =
    ending.kind === 'result'
      ? ending.result.outcome.failureType
      : ending.kind === 'failed'
        ? ending.failureType
        : undefined;
  return {
    index: planned.index,
    model: planned.model,
    version: planned.version,
    kind: planned.kind,
    router: planned.router,
    buildJob: planned.buildJob,
    expected: planned.expected,
    outcome,
    ...(failureType ? { failureType } : {}),
    reason: ending.kind === 'result' ? ending.result.outcome.reason : ending.reason,
    startedMs: startedAt - ctx.startedAt,
    endedMs: endedAt - ctx.startedAt,
    stableVersion: nextStable,
    stateProblems,
    ...(measurements ? { measurements } : {}),
  };
}

/** How many gate measurements each stage took, read from the timeline-free part of the final status. */
async function measurementsByStage(
  handle: WorkflowHandle<typeof release>,
): Promise<Record<string, number> | undefined> {
  const status = await Promise.race([handle.query(statusQuery), delay(5_000).then(() => undefined)]).catch(
    () => undefined,
  );
  if (!status) return undefined;
  const counts: Record<string, number> = {};
  for (const m of status.measurements) {
    const stage = status.timeline.filter((e) => e.at <= m.at).at(-1)?.stage ?? '?';
    counts[stage] = (counts[stage] ?? 0) + 1;
  }
  return counts;
}
