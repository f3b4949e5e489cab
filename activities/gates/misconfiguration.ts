// A gate that cannot be measured as configured: retrying does not help, so it fails at once,
// non-retryable, naming what is missing or wrong.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../workflows/failures.ts';

export function gateMisconfigured(message: string, details?: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    message,
    FailureType.GateMisconfigured,
    ...(details ? [details] : []),
  );
}
