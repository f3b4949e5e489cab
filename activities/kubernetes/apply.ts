// Server-side apply with field manager `slipway`, for real or as a dry-run.
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../workflows/failures.ts';
import { apiMessage, apiStatus, type KubernetesClients } from './clients.ts';
import { FIELD_MANAGER } from './labels.ts';

export interface ApplyOptions {
  dryRun?: boolean;
}

function describe(object: KubernetesObject): string {
  return `${object.kind ?? 'object'} ${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/**
 * Applies one object. Idempotent: applying the same object again changes nothing. Conflicts with
 * other field managers are forced (Slipway owns the fields it sets). Client errors (4xx other than
 * 409/429) are not retryable: they mean the object itself is wrong or not allowed.
 */
export async function serverSideApply<T extends KubernetesObject>(
  clients: KubernetesClients,
  object: T,
  options: ApplyOptions = {},
): Promise<T> {
  try {
    return await clients.objects.patch(
      object,
      undefined,
      options.dryRun ? 'All' : undefined,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
  } catch (error) {
    const status = apiStatus(error);
    if (status !== undefined && status >= 400 && status < 500 && status !== 409 && status !== 429) {
      throw ApplicationFailure.nonRetryable(
        `${options.dryRun ? 'server-side dry-run' : 'apply'} of ${describe(object)} rejected (HTTP ${status}): ${apiMessage(error)}`,
        FailureType.DryRunFailed,
        { status, object: describe(object) },
      );
    }
    throw error;
  }
}
