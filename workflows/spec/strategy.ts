// How the new version replaces the old one (`strategy.type`), and the settings each way has. Pure.
//
// - `canary` (default): a candidate Deployment beside stable, live traffic in the steps of `canary`.
// - `rolling`: no candidate; the stable Deployment rolls (serving.rollingUpdate) while gates run.
// - `recreate`: no candidate; the old pods stop before the new ones start (one version at a time,
//   for models whose GPUs cannot hold two): downtime, said in the status while it lasts.
// - `blueGreen`: the candidate at full size behind a preview (requests with the preview headers),
//   one atomic switch of all traffic, the old version kept warm for `scaleDownDelay`.
import { z } from 'zod';
import { duration } from '../duration.ts';
import { dnsLabel } from './names.ts';
import { LONGEST_WAIT, positiveDuration } from './zod-shapes.ts';

const gateNames = z.array(dnsLabel).optional();

/** An HTTP header name (RFC 9110 token), as Gateway API's HTTPHeaderName. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

/** Request headers (exact values) a route matches to send a request to the candidate. */
export const HeaderMatches = z
  .array(
    z.strictObject({
      name: z
        .string()
        .min(1)
        .max(256)
        .regex(HEADER_NAME, 'must be an HTTP header name such as x-model-variant'),
      value: z.string().min(1).max(4096),
    }),
  )
  .min(1, 'name at least one header')
  .max(16, 'at most 16 headers');
export type HeaderMatches = z.output<typeof HeaderMatches>;

/** What a rolling update or a recreate measures: gates while it rolls, and for `hold` after it. */
const RolloutGates = {
  /** Measured from the start of the rollout; once it is complete, for `hold` and until each passed. */
  gates: gateNames,
  hold: duration({ max: LONGEST_WAIT }).optional(),
};

const Canary = z.strictObject({ type: z.literal('canary') });

const Rolling = z.strictObject({ type: z.literal('rolling'), ...RolloutGates });

const Recreate = z.strictObject({ type: z.literal('recreate'), ...RolloutGates });

/** The header blue-green's preview matches when the spec names none. */
export const DEFAULT_PREVIEW_HEADERS: HeaderMatches = [{ name: 'x-slipway-preview', value: 'true' }];

const BlueGreen = z.strictObject({
  type: z.literal('blueGreen'),
  /** Before the switch: requests with these headers reach the candidate (smoke tests, gates). */
  preview: z
    .strictObject({
      headers: HeaderMatches.default(DEFAULT_PREVIEW_HEADERS),
      /** Measured on the preview for `hold` (and until each passed) before the switch. */
      gates: gateNames,
      hold: duration({ max: LONGEST_WAIT }).optional(),
    })
    .prefault({}),
  /** After the switch the old version stays up, unchanged, for this long: a rollback is a route flip. */
  scaleDownDelay: positiveDuration('7d').prefault('30s'),
  /** Measured on the new version while the old one is kept warm; a failure flips the route back. */
  afterSwitch: z.strictObject({ gates: z.array(dnsLabel).min(1, 'name at least one gate') }).optional(),
});

/** The ways a release can replace the stable version. Default: `{ type: canary }`. */
export const StrategySpec = z.discriminatedUnion('type', [Canary, Rolling, Recreate, BlueGreen], {
  error: (issue) =>
    issue.code === 'invalid_union'
      ? 'strategy.type must be canary, rolling, recreate or blueGreen'
      : undefined,
});
export type StrategySpec = z.output<typeof StrategySpec>;
export type StrategyType = StrategySpec['type'];

/** The parts of a spec the strategy checks read (the parsed spec, or inside the schema's own check). */
interface StrategiedSpec {
  strategy: StrategySpec;
  shadow?: unknown;
  canary?: unknown;
  serving: { deploymentRef?: string | undefined };
}

/** Combinations a strategy cannot carry out, each at its zod path. */
export function strategyIssues(spec: StrategiedSpec): Array<{ path: (string | number)[]; message: string }> {
  const type = spec.strategy.type;
  const issues: Array<{ path: (string | number)[]; message: string }> = [];
  if (type === 'canary') return issues;
  if (spec.canary !== undefined)
    issues.push({
      path: ['canary'],
      message: `canary steps need strategy.type canary (strategy ${type} has no weight steps)`,
    });
  if (spec.shadow !== undefined && (type === 'rolling' || type === 'recreate'))
    issues.push({
      path: ['shadow'],
      message: `shadow mirrors traffic to a candidate, and strategy ${type} runs none: use canary or blueGreen`,
    });
  if (type === 'recreate' && spec.serving.deploymentRef !== undefined)
    issues.push({
      path: ['strategy', 'type'],
      message:
        "strategy recreate sets the Deployment's update strategy, which belongs to the adopted Deployment's own manager: set strategy.type Recreate in its chart and release with strategy rolling",
    });
  return issues;
}

/** The gates a strategy lists, each with its path (checked like a stage's gates). */
export function strategyGates(
  strategy: StrategySpec,
): Array<{ path: (string | number)[]; names: string[]; oneVersion: boolean }> {
  switch (strategy.type) {
    case 'canary':
      return [];
    case 'rolling':
    case 'recreate':
      return [{ path: ['strategy', 'gates'], names: strategy.gates ?? [], oneVersion: true }];
    case 'blueGreen':
      return [
        { path: ['strategy', 'preview', 'gates'], names: strategy.preview.gates ?? [], oneVersion: false },
        {
          path: ['strategy', 'afterSwitch', 'gates'],
          names: strategy.afterSwitch?.gates ?? [],
          oneVersion: true,
        },
      ];
  }
}
