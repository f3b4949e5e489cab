// Slipway's side of the peer scenario: the same weights, holds and gate, through the replica-ratio
// router (routing `replicas`: no route, the Service `m` spreads requests over the ready pods of both
// tracks) or the istio router (routing `istio`: the VirtualService `m`, weights to `m-stable` and
// `m-canary`).
import type { Client } from '@temporalio/client';
import { statusQuery } from '../../workflows/messages.ts';
import { release, type ReleaseResult } from '../../workflows/release.ts';
import type { ReleaseStatus } from '../../workflows/status.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import { releaseSpec } from '../../test/helpers/release-fixtures.ts';
import {
  BAD_ANNOTATIONS,
  BAD_STEP,
  GATE,
  GOOD_STEPS,
  POD_READY_DELAY,
  REPLICAS,
  type Routing,
} from './scenario.ts';

type Steps = ReadonlyArray<{ weight: number; holdMs: number }>;

export function slipwaySpec(
  namespace: string,
  model: string,
  version: string,
  steps: Steps | undefined,
  bad: boolean,
  routing: Routing = 'replicas',
): ReleaseSpecInput {
  const spec = releaseSpec({
    namespace,
    model,
    version,
    annotations: { ...POD_READY_DELAY, ...(bad ? BAD_ANNOTATIONS : {}) },
  });
  const gates = (spec.gates ?? []).map((g) => ({ ...g, interval: `${GATE.intervalMs / 1000}s` }));
  return {
    ...spec,
    serving: { ...spec.serving, replicas: REPLICAS },
    traffic: routing === 'istio' ? { router: 'istio' } : { router: 'replica-ratio' },
    gates,
    promote: { approval: { required: false } },
    canary: steps
      ? { steps: steps.map((s) => ({ weight: s.weight, hold: `${s.holdMs}ms` })), gates: ['error-rate'] }
      : undefined,
  };
}

export class SlipwaySide {
  readonly client: Client;
  readonly taskQueue: string;
  readonly namespace: string;
  readonly routing: Routing;
  constructor(client: Client, taskQueue: string, namespace: string, routing: Routing) {
    this.client = client;
    this.taskQueue = taskQueue;
    this.namespace = namespace;
    this.routing = routing;
  }

  async run(
    model: string,
    version: string,
    steps: Steps | undefined,
    bad = false,
  ): Promise<{ result: ReleaseResult; status: ReleaseStatus; startedAt: number }> {
    const spec = slipwaySpec(this.namespace, model, version, steps, bad, this.routing);
    const startedAt = Date.now();
    const handle = await this.client.workflow.start(release, {
      taskQueue: this.taskQueue,
      workflowId: `peer-${this.namespace}-${model}-${version}`,
      args: [{ spec, submittedBy: 'peer-bench' }],
    });
    const result = await handle.result();
    return { result, status: await handle.query(statusQuery), startedAt };
  }

  /** Step k's duration minus its hold, from the workflow's timeline. */
  static overheads(status: ReleaseStatus, steps: Steps = GOOD_STEPS): number[] {
    const starts = status.timeline
      .filter((t) => /^canary step \d+\/\d+:/.test(t.message))
      .map((t) => Date.parse(t.at));
    const promote = status.timeline.find((t) => t.stage === 'promote');
    const ends = [...starts.slice(1), promote ? Date.parse(promote.at) : NaN];
    return starts.map((s, k) => (ends[k] ?? NaN) - s - (steps[k]?.holdMs ?? 0));
  }
}

export const SLIPWAY_BAD_STEPS: Steps = [BAD_STEP];
