// The preflight the API runs before it starts (or retries) a release, and for ?dryRun=true: the
// build stage's own checks (render, server-side dry-run, RBAC, capacity), in the API process.
// A refusal is a 422 with the cluster's reason, so no workflow starts for a spec the cluster refuses;
// only an unreachable cluster is a 503. No raw client error text reaches the caller.
import * as k8s from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { createKubernetesActivities, type PreflightResult } from '../activities/kubernetes/activities.ts';
import { apiMessage, type KubernetesClients } from '../activities/kubernetes/clients.ts';
import type { ReleaseSpec } from '../workflows/spec/index.ts';
import { ProblemError } from './errors.ts';
import { clusterUnreachable } from './unavailable.ts';

export interface DryRunObject {
  kind: string;
  name: string;
  namespace: string;
}

export interface PreflightReport {
  objects: DryRunObject[];
  capacity: PreflightResult['capacity'];
}

/** One line of an apiserver's message (they can carry newlines and long lists). */
function sentence(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 1000 ? `${line.slice(0, 1000)}…` : line;
}

/** The HTTP status the apiserver answered, as activities/kubernetes/cluster-errors.ts records it. */
function answeredStatus(failure: ApplicationFailure): number | undefined {
  const details: unknown = failure.details?.[0];
  if (details && typeof details === 'object' && 'status' in details && typeof details.status === 'number') {
    return details.status;
  }
  return undefined;
}

const refused = (reason: string, failureType: string) =>
  new ProblemError(422, `the cluster refuses this release: ${sentence(reason)}`, { extra: { failureType } });

/** The problem for a failed preflight: what the cluster said, as a 422, or 503 when it was not reached. */
export function preflightProblem(error: unknown): ProblemError {
  if (error instanceof ApplicationFailure) {
    const status = answeredStatus(error);
    // A retryable failure without an answer (unreachable, timed out) or a throttled request says
    // nothing about the release; any answer to the release's objects does — even a 5xx (the apiserver
    // answers 500 to some objects it cannot decode).
    if (!error.nonRetryable && (status === undefined || status === 429)) {
      return new ProblemError(
        503,
        `the cluster could not check this release right now: ${sentence(error.message)}`,
      );
    }
    return refused(error.message, error.type ?? 'DryRunFailed');
  }
  const apiError = causeChain(error).find(
    (e): e is k8s.ApiException<unknown> => e instanceof k8s.ApiException,
  );
  if (apiError) {
    if (apiError.code === 401)
      return new ProblemError(503, "the cluster does not accept the API's credentials (HTTP 401)");
    if (apiError.code === 429)
      return new ProblemError(503, 'the cluster is throttling requests (HTTP 429); try again shortly');
    return refused(`its API server answered HTTP ${apiError.code}: ${apiMessage(apiError)}`, 'DryRunFailed');
  }
  const unreachable = clusterUnreachable(error);
  if (unreachable) return new ProblemError(503, unreachable);
  return refused(error instanceof Error ? error.message : String(error), 'DryRunFailed');
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (
    let current = error;
    current !== undefined && chain.length < 8;
    current = current instanceof Error ? current.cause : undefined
  ) {
    chain.push(current);
  }
  return chain;
}

/** How long a preflight may take by default before the API answers 503 instead. */
export const PREFLIGHT_DEADLINE_MS = 20_000;

/** The 503 of a preflight that ran past its deadline; a retry after a few seconds may find the cluster freer. */
export function preflightLate(deadlineMs: number): ProblemError {
  return new ProblemError(
    503,
    `the cluster did not finish checking this release within ${deadlineMs % 1000 === 0 ? `${deadlineMs / 1000} s` : `${deadlineMs} ms`} (it is saturated or slow); nothing was started, try again shortly`,
    { retryAfterSeconds: 5 },
  );
}

/**
 * Runs the preflight; throws the ProblemError of preflightProblem when it fails, and preflightLate
 * when it has not finished within `deadlineMs` (its reads and dry-runs then end on their own: none
 * of them changes the cluster).
 */
export async function preflight(
  kubernetes: KubernetesClients,
  spec: ReleaseSpec,
  options: { deadlineMs?: number | undefined } = {},
): Promise<PreflightReport> {
  const kube = createKubernetesActivities(kubernetes);
  const deadlineMs = options.deadlineMs ?? PREFLIGHT_DEADLINE_MS;
  let result: PreflightResult;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(preflightLate(deadlineMs)), deadlineMs);
  });
  try {
    result = await Promise.race([kube.preflight({ releaseId: 'preflight', spec }), late]);
  } catch (error) {
    if (error instanceof ProblemError) throw error;
    throw preflightProblem(error);
  } finally {
    clearTimeout(timer);
  }
  const objects = result.objects.map((ref) => {
    const [kind = '', name = ''] = ref.split('/');
    return { kind, name, namespace: spec.namespace };
  });
  return { objects, capacity: result.capacity };
}
