// build: validate, render, server-side dry-run, capacity check, optional Job, build gates.
// Nothing user-visible changes in this stage.
import { ApplicationFailure, isCancellation, patched } from '@temporalio/workflow';
import { kube, waiting } from '../activities.ts';
import { FailureType } from '../failures.ts';
import type { ReleaseRun } from '../release-run.ts';
import type { StableSnapshot } from '../../activities/kubernetes/deployments.ts';
import { untilGatesPass } from './gates.ts';

/**
 * The stable's template changed outside Slipway since it last released it: never silently undone.
 * `serving.onDrift: refuse` ends the release here, before anything changes; `adopt` takes the live
 * template as the stable version the release starts from and rolls back to, and says so.
 */
async function checkDrift(run: ReleaseRun, snapshot: StableSnapshot): Promise<void> {
  const drift = snapshot.drift;
  // Added after releases were running: older runs did not look for drift.
  if (!drift || !patched('stable-drift')) return;
  const live = snapshot.version === undefined ? 'an unversioned template' : `version ${snapshot.version}`;
  if (run.spec.serving.onDrift === 'refuse') {
    throw ApplicationFailure.nonRetryable(
      `${drift.message}; it runs ${live}. Slipway does not overwrite a change it did not make: put the template back, or set serving.onDrift: adopt to release on top of it`,
      FailureType.StableDrifted,
      drift,
    );
  }
  const message = `${drift.message}; adopting it (serving.onDrift: adopt): ${live} is the stable this release starts from and rolls back to`;
  run.note(message);
  await run.event('Warning', 'StableDrifted', message);
}

export async function buildStage(run: ReleaseRun, snapshot: StableSnapshot): Promise<void> {
  const { spec } = run;
  await run.enterStage('build', `building release of ${spec.model} ${spec.version}`);
  await checkDrift(run, snapshot);
  const preflight = await kube.preflight({ releaseId: run.status.releaseId, spec });
  run.note(
    `server-side dry-run passed (${preflight.objects.join(', ')}); ${preflight.capacity.placeablePods} pods fit at the release's peak (candidate and promotion surge)`,
  );

  const job = spec.build?.job;
  if (job) {
    const timeoutMs = job.timeout.ms;
    const name = run.jobName('build');
    // Added after releases were running: older runs left an aborted build Job running.
    const deletesJob = patched('build-job-compensation');
    if (deletesJob) run.compensations.buildJobMayRun(name);
    const outcome = await keepFailedJob(
      run,
      waiting(timeoutMs + 120_000).runJob({
        namespace: spec.namespace,
        name,
        model: spec.model,
        version: spec.version,
        image: job.image,
        command: job.command,
        args: job.args,
        timeoutSeconds: Math.ceil(timeoutMs / 1000),
        backoffLimit: job.backoffLimit,
        annotations: job.annotations,
      }),
    );
    if (deletesJob) run.compensations.settled('build-job');
    run.note(
      `build job succeeded${outcome.terminationMessage ? `: ${outcome.terminationMessage.slice(0, 200)}` : ''}`,
    );
  }
  const gates = spec.build?.gates ?? [];
  if (gates.length === 0) return;
  await untilGatesPass(run, gates, false);
  // The passing scores go with the release: recorded on the stable Deployment when it is promoted,
  // they are what the next release's quality gates compare with.
  const scores: Record<string, number> = {};
  for (const name of gates) {
    const value = run.status.gates[name]?.last?.value;
    if (value !== undefined) scores[name] = value;
  }
  if (Object.keys(scores).length > 0) run.status.qualityScores = scores;
}

/** A Job that ran and failed stays for its logs; only one cut short (an abort) is deleted. */
async function keepFailedJob<T>(run: ReleaseRun, job: Promise<T>): Promise<T> {
  try {
    return await job;
  } catch (error) {
    if (!isCancellation(error)) run.compensations.settled('build-job');
    throw error;
  }
}
