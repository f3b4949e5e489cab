// The only 503s the API answers: Temporal or the cluster could not be reached. Each becomes one
// clean sentence (never a client's dump, a stack trace or headers); anything else is not a 503.
import {
  isGrpcServiceError,
  ServiceError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';

/** gRPC codes that mean "Temporal did not answer", not "Temporal said no". */
const UNREACHABLE_GRPC_CODES = new Set([
  1, // CANCELLED
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED
  14, // UNAVAILABLE
]);

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && chain.length < 8;) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

/** A sentence when `error` says Temporal could not be reached or did not answer in time. */
export function temporalUnreachable(error: unknown): string | undefined {
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return 'Temporal did not answer in time; try again shortly';
  }
  const grpc = causes(error).find(isGrpcServiceError);
  if (grpc && UNREACHABLE_GRPC_CODES.has(grpc.code))
    return 'Temporal cannot be reached right now; try again shortly';
  if (error instanceof ServiceError && !grpc)
    return 'Temporal cannot be reached right now; try again shortly';
  return undefined;
}

/** A system error code such as ECONNREFUSED, ENOTFOUND or ETIMEDOUT anywhere in the cause chain. */
function systemCode(error: unknown): string | undefined {
  for (const link of causes(error)) {
    const code = link instanceof Error ? (link as NodeJS.ErrnoException).code : undefined;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  }
  return undefined;
}

/** A sentence when `error` says the Kubernetes API server could not be reached (no HTTP answer). */
export function clusterUnreachable(error: unknown): string | undefined {
  const code = systemCode(error);
  if (code) return `the cluster's API server cannot be reached (${code}); try again shortly`;
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) {
    return "the cluster's API server cannot be reached; try again shortly";
  }
  return undefined;
}

/** The sentence of a 503 for an unreachable Temporal or cluster, or undefined. */
export function unavailableSentence(error: unknown): string | undefined {
  return temporalUnreachable(error) ?? clusterUnreachable(error);
}
