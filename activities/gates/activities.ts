// Gate measurement activities. An activity measures; the workflow decides (pure, replay-safe rules
// in workflows/gates/evaluation.ts). Transient provider errors are thrown so Temporal retries them a
// bounded number of times; the workflow then records an `error` measurement. A misconfigured gate
// fails at once with a non-retryable `GateMisconfigured` naming what is missing.
// - measureGate: prometheus, http and judge gates (quick).
// - runJobGate: job gates (long: heartbeats while the Job runs; cancelling deletes the Job).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../../workflows/failures.ts';
import { gateByName, GateSpec, type ReleaseSpec } from '../../workflows/spec/index.ts';
import { whileHeartbeating } from '../heartbeat.ts';
import type { KubernetesClients } from '../kubernetes/clients.ts';
import { gateMisconfigured } from './misconfiguration.ts';
import type { ProviderDeps, RawMeasurement } from './provider.ts';
import { measureWithProvider } from './registry.ts';

export type { RawMeasurement } from './provider.ts';

export interface MeasureGateInput {
  spec: ReleaseSpec;
  gate: string;
  stableVersion?: string | undefined;
  /** Unique per measurement, the same on retries. */
  measurementId: string;
  /** How long the current step's traffic has been in effect, in seconds (`{{window}}`); absent = the gate's interval. */
  windowSeconds?: number | undefined;
}

/** The scalar fields of the input (the spec was validated by the workflow that sends it). */
const MeasureGateFields = z.object({
  gate: z.string().min(1),
  stableVersion: z.string().optional(),
  measurementId: z.string().min(1).max(200),
  windowSeconds: z.number().nonnegative().optional(),
});

export interface GateActivityDeps {
  kubernetes: KubernetesClients;
  prometheusUrl?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/**
 * The gate, parsed again by its schema. What today's workflow sends is parsed already (durations are
 * `{ text, ms }`, and parse to themselves); an activity scheduled by a workflow task of an older worker
 * (pending or retried across a deploy) carries durations as strings, which this parses.
 */
function gateOf(input: MeasureGateInput): GateSpec {
  MeasureGateFields.parse(input);
  const gate = gateByName(input.spec, input.gate);
  if (!gate) throw gateMisconfigured(`gate ${input.gate} is not defined in the spec`);
  const parsed = GateSpec.safeParse(gate);
  if (!parsed.success)
    throw gateMisconfigured(`gate ${input.gate} is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

const FINAL_CLUSTER_FAILURES: readonly string[] = [
  FailureType.Forbidden,
  FailureType.NotFound,
  FailureType.InvalidObject,
  FailureType.ClusterCapacityExhausted,
];

/**
 * A job gate's Job that the cluster refuses for good (RBAC, quota, an invalid Job) or a Secret it may
 * not read is a gate that cannot be measured as configured. (The Kubernetes calls of the providers
 * classify their own errors; transient ones stay retryable.)
 */
async function measured(
  input: MeasureGateInput,
  measure: () => Promise<RawMeasurement>,
): Promise<RawMeasurement> {
  try {
    return await measure();
  } catch (error) {
    if (
      error instanceof ApplicationFailure &&
      error.nonRetryable &&
      FINAL_CLUSTER_FAILURES.includes(error.type ?? '')
    ) {
      throw gateMisconfigured(`gate ${input.gate}: ${error.message}`, { cause: error.type });
    }
    throw error;
  }
}

export function createGateActivities(deps: GateActivityDeps) {
  const providerDeps: ProviderDeps = deps;
  return {
    async measureGate(input: MeasureGateInput): Promise<RawMeasurement> {
      const gate = gateOf(input);
      if ('job' in gate)
        throw gateMisconfigured(`gate ${input.gate} is a job gate: it is measured by runJobGate`);
      return measured(input, () =>
        measureWithProvider(gate, { ...input, signal: Context.current().cancellationSignal }, providerDeps),
      );
    },

    async runJobGate(input: MeasureGateInput): Promise<RawMeasurement> {
      const gate = gateOf(input);
      if (!('job' in gate)) throw gateMisconfigured(`gate ${input.gate} is not a job gate`);
      return measured(input, () =>
        whileHeartbeating((heartbeat) =>
          measureWithProvider(
            gate,
            { ...input, signal: heartbeat.signal, onProgress: (message) => heartbeat.update({ message }) },
            providerDeps,
          ),
        ),
      );
    },
  };
}

export type GateActivities = ReturnType<typeof createGateActivities>;
