// The release workflow: takes one model release from its spec to Promoted or RolledBack.
// Deterministic: no I/O here; side effects live in activities (see activities/).
//
// Reading it when something fails: a stage throws (a gate in stages/gates.ts, a lost candidate in
// stages/candidate-watch.ts, a rollout, a rejection) → the catch below → `rollbackStage` in
// compensations.ts runs what the stages recorded there → the cluster is as it was.
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  patched,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { z } from 'zod';
import { events, kube } from './activities.ts';
import { rollbackStage } from './compensations.ts';
import { workflowIsoNow } from './clock.ts';
import { FailureType } from './failures.ts';
import { searchAttributes } from './ids.ts';
import { countRelease } from './metrics.ts';
import {
  abortSignal,
  abortUpdate,
  Actor,
  approveSignal,
  approveUpdate,
  pauseSignal,
  pauseUpdate,
  promoteSignal,
  promoteUpdate,
  RejectInput,
  rejectSignal,
  rejectUpdate,
  resumeSignal,
  resumeUpdate,
  statusQuery,
} from './messages.ts';
import { ReleaseRun, type ReleasePolicy } from './release-run.ts';
import { ReleaseSpec, type ReleaseSpecInput } from './spec/index.ts';
import { adoptStage } from './stages/adopt.ts';
import { blueGreenStages } from './stages/blue-green.ts';
import { buildStage } from './stages/build.ts';
import { deployCandidate } from './stages/candidate.ts';
import { canaryStage } from './stages/canary.ts';
import { firstReleaseStage } from './stages/first-release.ts';
import { inPlaceStage } from './stages/in-place.ts';
import { promoteStage } from './stages/promote.ts';
import { shadowStage } from './stages/shadow.ts';
import type { Measurement } from './gates/evaluation.ts';
import type { ReleaseStatus } from './status.ts';

export interface ReleaseInput {
  spec: ReleaseSpecInput;
  /** Who submitted the release (recorded; checked for separation of duties). */
  submittedBy: string;
  /**
   * Older API versions passed their own setting here. The rule now comes from the installation and
   * the namespace (the `releasePolicy` activity); a `true` here still applies.
   */
  separationOfDuties?: boolean;
  /** The run id of the release this one retries with the same spec (`POST …/retry`). */
  retryOf?: string;
}

export type ReleaseResult = Pick<
  ReleaseStatus,
  'releaseId' | 'model' | 'namespace' | 'version' | 'outcome' | 'approvals' | 'qualityScores'
> & {
  outcome: NonNullable<ReleaseStatus['outcome']>;
};

function invalidSpec(error: z.ZodError): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `invalid release spec: ${z.prettifyError(error)}`,
    FailureType.InvalidReleaseSpec,
    error.issues,
  );
}

function parseActor<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new Error(z.prettifyError(parsed.error));
  return parsed.data;
}

function registerHandlers(run: ReleaseRun, main: CancellationScope): void {
  const abort = (actor: Actor) => {
    if (run.abortedBy || run.finished) return;
    run.abortedBy = actor;
    run.note(`abort requested by ${actor.actor}${actor.comment ? `: ${actor.comment}` : ''}`);
    main.cancel();
  };
  const mustBeActive = () => {
    if (run.finished) throw new Error(`release ${run.status.releaseId} has ended or is rolling back`);
  };
  const orThrow = (problem: string | undefined) => {
    if (problem) throw new Error(problem);
  };

  setHandler(approveUpdate, (input) => (run.decide('approved', input), run.status), {
    validator: (input) => run.validateDecision(parseActor(Actor, input)),
  });
  setHandler(rejectUpdate, (input) => (run.decide('rejected', input), run.status), {
    validator: (input) => run.validateDecision(parseActor(RejectInput, input)),
  });
  setHandler(pauseUpdate, (input) => (run.pause(input, input.comment ?? 'paused by request'), run.status), {
    validator: (input) => {
      parseActor(Actor, input);
      mustBeActive();
      if (run.conditions.has('human')) throw new Error('the release is already paused');
    },
  });
  setHandler(resumeUpdate, (input) => (run.resume(input), run.status), {
    validator: (input) => {
      parseActor(Actor, input);
      mustBeActive();
      if (!run.status.paused) throw new Error('the release is not paused');
    },
  });
  setHandler(abortUpdate, (input) => (abort(input), run.status), {
    validator: (input) => {
      parseActor(Actor, input);
      mustBeActive();
    },
  });
  setHandler(promoteUpdate, (input) => (run.requestPromoteNow(input), run.status), {
    validator: (input) => orThrow(run.promoteNowProblem(parseActor(Actor, input))),
  });

  // Signals (operators with the Temporal CLI, promotion schedules): the same rules, refusals noted.
  setHandler(approveSignal, (input) => run.decide('approved', input));
  setHandler(rejectSignal, (input) => run.decide('rejected', input));
  setHandler(pauseSignal, (input) => run.pause(input, input.comment ?? 'paused by signal'));
  setHandler(resumeSignal, (input) => run.resume(input));
  setHandler(abortSignal, (input) => abort(input));
  setHandler(promoteSignal, (input) => run.requestPromoteNow(input));
}

function describeFailure(
  run: ReleaseRun,
  error: unknown,
): { reason: string; failureType?: string; measurement?: Measurement } {
  if (
    run.abortedBy &&
    (isCancellation(error) ||
      (error instanceof ApplicationFailure && error.type === FailureType.ReleaseAborted))
  ) {
    const by = run.abortedBy;
    return {
      reason: `aborted by ${by.actor}${by.comment ? `: ${by.comment}` : ''}`,
      failureType: FailureType.ReleaseAborted,
    };
  }
  if (isCancellation(error))
    return { reason: 'the workflow was cancelled', failureType: FailureType.ReleaseAborted };
  let cause: unknown = error;
  // Unwrap ActivityFailure → ApplicationFailure.
  while (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure) {
    const measurement =
      cause.type === FailureType.GateFailed ? (cause.details?.[0] as Measurement | undefined) : undefined;
    return {
      reason: cause.message,
      ...(cause.type ? { failureType: cause.type } : {}),
      ...(measurement ? { measurement } : {}),
    };
  }
  return { reason: error instanceof Error ? error.message : String(error) };
}

/** The installation's and the namespace's rules for this release. */
async function releasePolicy(input: ReleaseInput, namespace: string): Promise<ReleasePolicy> {
  const fromInput = input.separationOfDuties ?? false;
  // Added after releases were running: older runs took the rule from their input only.
  if (!patched('release-policy')) return { separationOfDuties: fromInput };
  const policy = await kube.releasePolicy({ namespace });
  return { separationOfDuties: fromInput || policy.separationOfDuties };
}

export async function release(input: ReleaseInput): Promise<ReleaseResult> {
  // One validation for every entry point: the API ran this same schema (and the preflight) before
  // it started the workflow; a spec that still fails here ends the workflow as Failed.
  const parsed = ReleaseSpec.safeParse(input?.spec);
  if (!parsed.success) throw invalidSpec(parsed.error);
  const spec = parsed.data;
  const run = new ReleaseRun(spec, input.submittedBy ?? 'unknown', {
    separationOfDuties: input.separationOfDuties ?? false,
  });
  if (input.retryOf) run.status.retryOf = input.retryOf;
  upsertSearchAttributes([
    { key: searchAttributes.model, value: spec.model },
    { key: searchAttributes.namespace, value: spec.namespace },
    { key: searchAttributes.version, value: spec.version },
    { key: searchAttributes.stage, value: 'build' },
  ]);
  const main = new CancellationScope();
  setHandler(statusQuery, () => run.status);
  registerHandlers(run, main);
  if (input.retryOf)
    run.note(`retry of run ${input.retryOf} with the same spec, by ${run.status.submittedBy}`);
  run.setPolicy(await releasePolicy(input, spec.namespace));

  try {
    await main.run(async () => {
      // The stable state is recorded before anything else: build gates compare with its scores.
      const snapshot = await kube.captureStableState({ spec });
      if (snapshot.version !== undefined) run.status.stableVersion = snapshot.version;
      if (snapshot.qualityScores) run.status.stableQualityScores = snapshot.qualityScores;
      // Added after releases were running: older runs left the Services and route they created.
      if (patched('created-objects'))
        run.compensations.objectsMayBeCreated(await kube.releaseObjectsPresent({ spec }));
      await buildStage(run, snapshot);
      if (!snapshot.exists) {
        run.status.firstRelease = true;
        await firstReleaseStage(run, snapshot);
        return;
      }
      if (snapshot.adopted?.unchanged) {
        await adoptStage(run, snapshot);
        return;
      }
      // Strategies other than canary came after releases were running; an older spec is a canary.
      if (spec.strategy.type === 'rolling' || spec.strategy.type === 'recreate') {
        await inPlaceStage(run, snapshot);
        return;
      }
      if (spec.strategy.type === 'blueGreen') {
        await blueGreenStages(run, snapshot);
        return;
      }
      await run.enterStage(
        'shadow',
        `stable is ${snapshot.version ?? 'unversioned'}; deploying candidate ${spec.version}`,
      );
      await deployCandidate(run, snapshot);
      await shadowStage(run);
      await canaryStage(run);
      await promoteStage(run, snapshot);
    });
  } catch (error) {
    const { reason, failureType, measurement } = describeFailure(run, error);
    const errors = await rollbackStage(run, reason);
    await removePromotionSchedule(run);
    return finish(
      run,
      'RolledBack',
      errors.length ? `${reason} (rollback errors: ${errors.join('; ')})` : reason,
      failureType,
      measurement,
    );
  }
  await removePromotionSchedule(run);
  // Added after releases were running: older histories end without this Event.
  if (patched('promoted-event'))
    await run.event('Normal', 'ReleasePromoted', `${spec.version} promoted: it serves 100% of traffic`);
  return finish(run, 'Promoted', `${spec.version} promoted`);
}

/** A promotion schedule outliving its release would promote the next one: remove it (best effort). */
async function removePromotionSchedule(run: ReleaseRun): Promise<void> {
  // Added after releases were running: older histories do not have this activity.
  if (!patched('delete-promotion-schedule')) return;
  await CancellationScope.nonCancellable(async () => {
    try {
      if (await events.deletePromotionSchedule({ namespace: run.spec.namespace, model: run.spec.model }))
        run.note('promotion schedule removed');
    } catch (error) {
      log.warn('could not remove the promotion schedule', { error: String(error) });
    }
  });
}

function finish(
  run: ReleaseRun,
  result: 'Promoted' | 'RolledBack',
  reason: string,
  failureType?: string,
  measurement?: Measurement,
): ReleaseResult {
  countRelease({ namespace: run.spec.namespace, model: run.spec.model }, result);
  run.end(result, {
    result,
    reason,
    at: workflowIsoNow(),
    ...(failureType ? { failureType } : {}),
    ...(measurement ? { decidingMeasurement: measurement } : {}),
  });
  run.note(`${result}: ${reason}`);
  upsertSearchAttributes([
    { key: searchAttributes.stage, value: 'done' },
    { key: searchAttributes.outcome, value: result },
  ]);
  const { releaseId, model, namespace, version, approvals, qualityScores } = run.status;
  return {
    releaseId,
    model,
    namespace,
    version,
    approvals,
    outcome: run.status.outcome!,
    ...(qualityScores ? { qualityScores } : {}),
  };
}
