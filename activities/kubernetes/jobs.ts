// Running a Kubernetes Job to completion (build / evaluation steps) and reading its result from the
// pod's termination message. Idempotent: the Job's name is fixed per release, an existing Job is reused.
// A cancelled wait deletes the Job (and, through propagation, its pods): an aborted release leaves none.
import type { V1Job } from '@kubernetes/client-node';
import { asClusterFailure, clusterCall } from './cluster-errors.ts';
import { apiStatus, ignoreNotFound, type KubernetesClients } from './clients.ts';
import { LABEL_MANAGED_BY, LABEL_NAME, LABEL_VERSION } from './labels.ts';
import { watchUntil } from './watch-until.ts';

export interface JobRequest {
  namespace: string;
  name: string;
  model: string;
  version: string;
  image: string;
  command?: string[] | undefined;
  args?: string[] | undefined;
  timeoutSeconds: number;
  backoffLimit?: number | undefined;
  /** Pod template annotations (the local stack's KWOK markers use them). */
  annotations?: Record<string, string> | undefined;
  /** Environment of the Job's container. */
  env?: Array<{ name: string; value: string }> | undefined;
  /** Extra labels on the Job and its pods (e.g. which gate it measures). */
  labels?: Record<string, string> | undefined;
}

export interface JobOutcome {
  succeeded: boolean;
  reason: string;
  /** The first container's termination message (e.g. a result JSON), if any. */
  terminationMessage?: string;
}

export function renderJob(request: JobRequest): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: request.name,
      namespace: request.namespace,
      labels: {
        ...request.labels,
        [LABEL_NAME]: request.model,
        [LABEL_VERSION]: request.version,
        [LABEL_MANAGED_BY]: 'slipway',
      },
    },
    spec: {
      backoffLimit: request.backoffLimit ?? 0,
      activeDeadlineSeconds: request.timeoutSeconds,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: {
          labels: { ...request.labels, [LABEL_NAME]: request.model, [LABEL_VERSION]: request.version },
          ...(request.annotations ? { annotations: request.annotations } : {}),
        },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'job',
              image: request.image,
              ...(request.command ? { command: request.command } : {}),
              ...(request.args ? { args: request.args } : {}),
              ...(request.env ? { env: request.env } : {}),
              terminationMessagePolicy: 'FallbackToLogsOnError',
            },
          ],
        },
      },
    },
  };
}

/** Deletes a Job and its pods (propagation Background). Idempotent: an absent Job is fine. */
export async function deleteJob(clients: KubernetesClients, namespace: string, name: string): Promise<void> {
  await clusterCall({ verb: 'delete', resource: 'jobs', namespace, name }, () =>
    ignoreNotFound(clients.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' })),
  );
}

export async function runJob(
  clients: KubernetesClients,
  request: JobRequest,
  signal: AbortSignal,
  onProgress: (message: string) => void,
): Promise<JobOutcome> {
  try {
    return await runJobUntilDone(clients, request, signal, onProgress);
  } catch (error) {
    // Cancelled (release aborted, gate loop stopped): the Job is not wanted any more. If this delete
    // fails, the workflow's deleteJob compensation (and ttlSecondsAfterFinished) still remove it.
    if (signal.aborted) await deleteJob(clients, request.namespace, request.name).catch(() => undefined);
    throw error;
  }
}

async function runJobUntilDone(
  clients: KubernetesClients,
  request: JobRequest,
  signal: AbortSignal,
  onProgress: (message: string) => void,
): Promise<JobOutcome> {
  const target = { verb: 'create', resource: 'jobs', namespace: request.namespace, name: request.name };
  try {
    await clients.batch.createNamespacedJob({ namespace: request.namespace, body: renderJob(request) });
  } catch (error) {
    if (apiStatus(error) !== 409) throw asClusterFailure(error, target); // 409: created by an earlier attempt — reuse it
  }
  const finished = await watchUntil(clients, {
    path: `/apis/batch/v1/namespaces/${request.namespace}/jobs`,
    name: request.name,
    list: (fieldSelector) => clients.batch.listNamespacedJob({ namespace: request.namespace, fieldSelector }),
    signal,
    target: { ...target, verb: 'watch' },
    onObject: (job) =>
      onProgress(
        `job ${request.name}: active ${job.status?.active ?? 0}, succeeded ${job.status?.succeeded ?? 0}, failed ${job.status?.failed ?? 0}`,
      ),
    decide: (job) => {
      const conditions = job.status?.conditions ?? [];
      const complete = conditions.find(
        (c) => (c.type === 'Complete' || c.type === 'SuccessCriteriaMet') && c.status === 'True',
      );
      if (complete) return { succeeded: true, reason: 'Complete' };
      const failed = conditions.find(
        (c) => (c.type === 'Failed' || c.type === 'FailureTarget') && c.status === 'True',
      );
      if (failed)
        return { succeeded: false, reason: `${failed.reason ?? 'Failed'}: ${failed.message ?? ''}`.trim() };
      return undefined;
    },
  });
  const pods = await clusterCall({ verb: 'list', resource: 'pods', namespace: request.namespace }, () =>
    clients.core.listNamespacedPod({
      namespace: request.namespace,
      labelSelector: `job-name=${request.name}`,
    }),
  );
  const newest = [...pods.items].sort((a, b) =>
    String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')),
  )[0];
  const message = newest?.status?.containerStatuses?.[0]?.state?.terminated?.message;
  return message ? { ...finished, terminationMessage: message } : finished;
}
