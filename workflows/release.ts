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
import { events, kube, specParser, specParsing } from './activities.ts';
import { rollbackStage } from './compensations.ts';
import { workflowIsoNow } from './clock.ts';
import { FailureType } from './failures.ts';
import { searchAttributes } from './ids.ts';
import { countRelease } from './metrics.ts';
import {
  abortSignal,
  abortUpdate,
  actorProblem,
  type Actor,
  approveSignal,
  approveUpdate,
  pauseSignal,
  pauseUpdate,
  promoteSignal,
  promoteUpdate,
  rejectionProblem,
  rejectSignal,
  rejectUpdate,
  resumeSignal,
  resumeUpdate,
  statusQuery,
} from './messages.ts';
import { STRATEGIES } from './vocabulary.ts';
import { initialStatus, ReleaseRun, type ReleasePolicy } from './release-run.ts';
import type { ReleaseSpec, ReleaseSpecInput } from './spec/index.ts';
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

function invalidSpec(message: string, issues: unknown[]): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `invalid release spec: ${message}`,
    FailureType.InvalidReleaseSpec,
    issues,
  );
}

/**
 * The parsed spec. One validation for every entry point: the API ran this same schema (and the
 * preflight) before it started the workflow; a spec that still fails here ends the workflow as
 * Failed. Parsed by an activity, so the sandbox never builds the schemas
 * (workflows/spec/reading.ts says why); releases that began before parse as they did.
 */
async function parsedSpec(raw: unknown): Promise<ReleaseSpec> {
  // A regular activity: with a local activity, a status query during the release's first task
  // split that task and the history no longer replayed (a worker restart left the release stuck).
  const byActivity = patched('spec-parsed-by-activity-task')
    ? specParsing
    : patched('spec-parsed-by-activity')
      ? specParser
      : undefined;
  if (byActivity) {
    const parsed = await byActivity.parseReleaseSpec(raw);
    if (!parsed.ok) throw invalidSpec(parsed.message, parsed.issues);
    return parsed.spec;
  }
  const { parseReleaseSpec } = await import(/* webpackMode: "eager" */ './spec/parse.ts');
  const parsed = parseReleaseSpec(raw);
  if (!parsed.ok) throw invalidSpec(parsed.message, parsed.issues);
  return parsed.spec;
}

/** The payload as an actor, or the update refused with what is wrong with it. */
function parseActor<T extends Actor>(problem: (input: unknown) => string | undefined, input: unknown): T {
  const found = problem(input);
  if (found) throw new Error(found);
  return input as T;
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
    validator: (input) => run.validateDecision(parseActor(actorProblem, input)),
  });
  setHandler(rejectUpdate, (input) => (run.decide('rejected', input), run.status), {
    validator: (input) => run.validateDecision(parseActor(rejectionProblem, input)),
  });
  setHandler(pauseUpdate, (input) => (run.pause(input, input.comment ?? 'paused by request'), run.status), {
    validator: (input) => {
      parseActor(actorProblem, input);
      mustBeActive();
      if (run.conditions.has('human')) throw new Error('the release is already paused');
    },
  });
  setHandler(resumeUpdate, (input) => (run.resume(input), run.status), {
    validator: (input) => {
      parseActor(actorProblem, input);
      mustBeActive();
      if (!run.status.paused) throw new Error('the release is not paused');
    },
  });
  setHandler(abortUpdate, (input) => (abort(input), run.status), {
    validator: (input) => {
      parseActor(actorProblem, input);
      mustBeActive();
    },
  });
  setHandler(promoteUpdate, (input) => (run.requestPromoteNow(input), run.status), {
    validator: (input) => orThrow(run.promoteNowProblem(parseActor(actorProblem, input))),
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

/** What the status says while the spec is being parsed (read off the input as submitted). */
function statusWhileParsing(input: ReleaseInput): ReleaseStatus {
  const raw: Partial<Record<'model' | 'namespace' | 'version', unknown>> & { strategy?: { type?: unknown } } =
    typeof input?.spec === 'object' && input.spec !== null ? input.spec : {};
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  const strategy = STRATEGIES.find((s) => s === raw.strategy?.type) ?? 'canary';
  const status = initialStatus(
    { model: text(raw.model), namespace: text(raw.namespace), version: text(raw.version), strategy },
    input?.submittedBy ?? 'unknown',
    { separationOfDuties: input?.separationOfDuties ?? false },
  );
  if (input?.retryOf) status.retryOf = input.retryOf;
  return status;
}

export async function release(input: ReleaseInput): Promise<ReleaseResult> {
  // The status is answered from the first activation on, while the parse (a local activity) runs.
  const started: { run?: ReleaseRun } = {};
  const whileParsing = statusWhileParsing(input);
  setHandler(statusQuery, () => started.run?.status ?? whileParsing);
  const spec = await parsedSpec(input?.spec);
  const run = new ReleaseRun(spec, input.submittedBy ?? 'unknown', {
    separationOfDuties: input.separationOfDuties ?? false,
  });
  started.run = run;
  if (input.retryOf) run.status.retryOf = input.retryOf;
  upsertSearchAttributes([
    { key: searchAttributes.model, value: spec.model },
    { key: searchAttributes.namespace, value: spec.namespace },
    { key: searchAttributes.version, value: spec.version },
    { key: searchAttributes.stage, value: 'build' },
  ]);
  const main = new CancellationScope();
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
