// The build stage's preflight: render every object and server-side dry-run it (RBAC, quota,
// admission, schema with strict field validation), then check that the candidate's pods fit the
// nodes and the namespace's quotas. Every refusal is a final `DryRunFailed` naming what was refused.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../workflows/failures.ts';
import type { ReleaseSpec } from '../../workflows/spec/index.ts';
import { ALL_STABLE } from '../traffic/router.ts';
import { serverSideApply } from './apply.ts';
import { checkCapacity, toResourceList, type CapacityVerdict } from './capacity.ts';
import { clusterCall, type ClusterTarget } from './cluster-errors.ts';
import { apiStatus, type KubernetesClients } from './clients.ts';
import { renderDeployment, renderHttpRoute, renderServices } from './manifests.ts';

export interface PreflightInput {
  releaseId: string;
  spec: ReleaseSpec;
}

export interface PreflightResult {
  objects: string[];
  capacity: CapacityVerdict;
}

/** A read the preflight needs: any final refusal (RBAC above all) fails the build at once, saying which. */
function preflightRead<T>(target: ClusterTarget, read: () => Promise<T>): Promise<T> {
  return clusterCall(target, read, { finalAs: FailureType.DryRunFailed });
}

async function requireNamespace(clients: KubernetesClients, namespace: string): Promise<void> {
  await preflightRead({ verb: 'get', resource: 'namespaces', name: namespace }, async () => {
    try {
      await clients.core.readNamespace({ name: namespace });
    } catch (error) {
      if (apiStatus(error) === 404) {
        throw ApplicationFailure.nonRetryable(
          `namespace ${namespace} does not exist`,
          FailureType.DryRunFailed,
          { cause: FailureType.NotFound },
        );
      }
      throw error;
    }
  });
}

export async function preflight(
  clients: KubernetesClients,
  { releaseId, spec }: PreflightInput,
): Promise<PreflightResult> {
  const { namespace } = spec;
  await requireNamespace(clients, namespace);
  const objects = [
    ...renderServices(spec),
    renderDeployment(spec, { track: 'canary', replicas: spec.serving.replicas, releaseId }),
    ...(spec.traffic.router === 'gateway-api' ? [renderHttpRoute(spec, ALL_STABLE, null)] : []),
  ];
  // The dry-runs and the reads for the capacity check are independent: all at once.
  const [nodes, pods, quotas] = await Promise.all([
    Promise.all(objects.map((object) => serverSideApply(clients, object, { dryRun: true }))).then(() =>
      preflightRead({ verb: 'list', resource: 'nodes' }, () => clients.core.listNode()),
    ),
    preflightRead({ verb: 'list', resource: 'pods' }, () =>
      clients.core.listPodForAllNamespaces({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' }),
    ),
    preflightRead({ verb: 'list', resource: 'resourcequotas', namespace }, () =>
      clients.core.listNamespacedResourceQuota({ namespace }),
    ),
  ]);
  const capacity = checkCapacity({
    nodes: nodes.items,
    pods: pods.items,
    quotas: quotas.items,
    request: toResourceList(spec.serving.resources?.requests),
    replicas: spec.serving.replicas,
  });
  if (!capacity.fits) {
    throw ApplicationFailure.nonRetryable(
      `the candidate does not fit: ${capacity.reasons.join('; ')}`,
      FailureType.InsufficientCapacity,
      capacity,
    );
  }
  return { objects: objects.map((o) => `${o.kind}/${o.metadata?.name ?? ''}`), capacity };
}
