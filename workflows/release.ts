// The release workflow: takes one model release from its spec to an outcome.
// Deterministic: no I/O here; side effects live in activities.
import { ApplicationFailure, log, sleep } from '@temporalio/workflow';
import { z } from 'zod';
import { durationMs } from './duration.ts';
import { ReleaseSpec, type ReleaseSpecInput } from './spec.ts';

export interface ReleaseResult {
  outcome: 'Promoted' | 'RolledBack';
  model: string;
  namespace: string;
  version: string;
}

export async function release(input: ReleaseSpecInput): Promise<ReleaseResult> {
  const parsed = ReleaseSpec.safeParse(input);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `invalid release spec: ${z.prettifyError(parsed.error)}`,
      'InvalidReleaseSpec',
      parsed.error.issues,
    );
  }
  const spec = parsed.data;
  log.info('release started', { model: spec.model, namespace: spec.namespace, version: spec.version });
  if (spec.hold) await sleep(durationMs(spec.hold));
  return { outcome: 'Promoted', model: spec.model, namespace: spec.namespace, version: spec.version };
}
