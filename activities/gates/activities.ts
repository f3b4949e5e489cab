// Gate measurement activities. An activity measures; the workflow decides (pure, replay-safe rules
// in workflows/gates/evaluation.ts). Provider errors are thrown so Temporal retries them a bounded
// number of times; the workflow then records the gate as inconclusive with the error.
// - measureGate: prometheus, http and judge gates (quick).
// - runJobGate: job gates (long: heartbeats while the Job runs; cancelling deletes the Job).
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { gateByName, type ReleaseSpec } from '../../workflows/spec/index.ts';
import { whileHeartbeating } from '../heartbeat.ts';
import type { KubernetesClients } from '../kubernetes/clients.ts';
import { measureWithProvider, type ProviderDeps, type RawMeasurement } from './provider.ts';

export type { RawMeasurement } from './provider.ts';

export interface MeasureGateInput {
  spec: ReleaseSpec;
  gate: string;
  stableVersion?: string | undefined;
  /** Unique per measurement, the same on retries. */
  measurementId: string;
}

/** The scalar fields of the input (the spec was validated by the workflow that sends it). */
const MeasureGateFields = z.object({
  gate: z.string().min(1),
  stableVersion: z.string().optional(),
  measurementId: z.string().min(1).max(200),
});

export interface GateActivityDeps {
  kubernetes: KubernetesClients;
  prometheusUrl?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

function gateOf(input: MeasureGateInput) {
  MeasureGateFields.parse(input);
  const gate = gateByName(input.spec, input.gate);
  if (!gate) throw new Error(`gate ${input.gate} is not defined in the spec`);
  return gate;
}

export function createGateActivities(deps: GateActivityDeps) {
  const providerDeps: ProviderDeps = deps;
  return {
    async measureGate(input: MeasureGateInput): Promise<RawMeasurement> {
      const gate = gateOf(input);
      if ('job' in gate) throw new Error(`gate ${input.gate} is a job gate: it is measured by runJobGate`);
      return measureWithProvider(gate, { ...input, signal: Context.current().cancellationSignal }, providerDeps);
    },

    async runJobGate(input: MeasureGateInput): Promise<RawMeasurement> {
      const gate = gateOf(input);
      if (!('job' in gate)) throw new Error(`gate ${input.gate} is not a job gate`);
      return whileHeartbeating((heartbeat) =>
        measureWithProvider(gate, { ...input, signal: heartbeat.signal, onProgress: (message) => heartbeat.update({ message }) }, providerDeps),
      );
    },
  };
}

export type GateActivities = ReturnType<typeof createGateActivities>;
