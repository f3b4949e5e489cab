// The release spec a user submits (DESIGN §4), with the checks that span its parts: gates named by
// stages exist, are listed once and can run there; a regression check is on a build gate; the traffic
// router can do what the spec asks (workflows/spec/router-capabilities.ts).
import { z } from 'zod';
import { GateSpec } from './gates.ts';
import { UNSUPPORTED } from './issue-path.ts';
import { dnsLabel, labelValue, modelName } from './names.ts';
import { PromoteSpec } from './promotion.ts';
import { routerIssues } from './router-capabilities.ts';
import { ServingSpec } from './serving.ts';
import { BuildSpec, CanarySpec, ShadowSpec } from './stages.ts';
import { strategyGates, strategyIssues, StrategySpec } from './strategy.ts';
import { trafficDefaults, TrafficSpec } from './traffic.ts';

const GATED_STAGES = ['build', 'shadow', 'canary'] as const;

export const ReleaseSpec = z
  .strictObject({
    model: modelName,
    namespace: dnsLabel,
    version: labelValue,
    serving: ServingSpec,
    traffic: TrafficSpec.default({ router: 'gateway-api' }),
    strategy: StrategySpec.default({ type: 'canary' }),
    build: BuildSpec.optional(),
    shadow: ShadowSpec.optional(),
    canary: CanarySpec.optional(),
    promote: PromoteSpec.optional(),
    gates: z.array(GateSpec).default([]),
  })
  .superRefine((spec, ctx) => {
    const defined = new Map<string, GateSpec>();
    spec.gates.forEach((gate, index) => {
      if (defined.has(gate.name))
        ctx.addIssue({
          code: 'custom',
          path: ['gates', index, 'name'],
          message: `gate ${gate.name} is defined twice`,
        });
      else defined.set(gate.name, gate);
    });
    for (const stage of GATED_STAGES) {
      const listed = new Set<string>();
      spec[stage]?.gates?.forEach((name, index) => {
        const path = [stage, 'gates', index];
        const gate = defined.get(name);
        if (!gate) ctx.addIssue({ code: 'custom', path, message: `gate ${name} is not defined in gates` });
        else if (listed.has(name))
          ctx.addIssue({ code: 'custom', path, message: `gate ${name} is listed twice` });
        else if (stage === 'build' && 'judge' in gate) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `gate ${name} is a judge of live traffic: it cannot run in build (no candidate serves yet)`,
          });
        }
        listed.add(name);
      });
    }
    // Gates measured where only one version serves: no judge of candidate against stable there.
    const oneVersionLists = [
      { path: ['promote', 'verify', 'gates'], names: spec.promote?.verify?.gates ?? [], oneVersion: true },
      ...strategyGates(spec.strategy),
    ];
    for (const list of oneVersionLists) {
      const listed = new Set<string>();
      list.names.forEach((name, index) => {
        const path = [...list.path, index];
        const gate = defined.get(name);
        if (!gate) ctx.addIssue({ code: 'custom', path, message: `gate ${name} is not defined in gates` });
        else if (listed.has(name))
          ctx.addIssue({ code: 'custom', path, message: `gate ${name} is listed twice` });
        else if ('judge' in gate && list.oneVersion)
          ctx.addIssue({
            code: 'custom',
            path,
            message: `gate ${name} is a judge of candidate against stable: there is only one version to measure there`,
          });
        listed.add(name);
      });
    }
    spec.gates.forEach((gate, index) => {
      if (!('regression' in gate) || gate.regression === undefined) return;
      if (spec.build?.gates?.includes(gate.name)) return;
      const listedIn = GATED_STAGES.filter((stage) => spec[stage]?.gates?.includes(gate.name));
      const where =
        listedIn.length === 0
          ? 'no stage lists it'
          : `it is listed only in ${listedIn.map((stage) => `${stage}.gates`).join(' and ')}`;
      ctx.addIssue({
        code: 'custom',
        path: ['gates', index, 'regression'],
        message: `gate ${gate.name} has a regression check, which only build gates make (scores are recorded from build): list it in build.gates or drop regression (${where})`,
      });
    });
    if (spec.serving.deploymentRef === `${spec.model}-canary`)
      ctx.addIssue({
        code: 'custom',
        path: ['serving', 'deploymentRef'],
        message: `${spec.model}-canary is the name of ${spec.model}'s candidate Deployment: it cannot be the stable one`,
      });
    // Well-formed, but asking for what the strategy or the router cannot do (the API's 422).
    for (const issue of [...strategyIssues(spec), ...routerIssues(spec)])
      ctx.addIssue({ code: 'custom', ...issue, params: { [UNSUPPORTED]: true } });
  })
  .transform((spec) => ({
    ...spec,
    traffic: trafficDefaults(spec.traffic, spec.model),
  }));

export type ReleaseSpecInput = z.input<typeof ReleaseSpec>;
export type ReleaseSpec = z.output<typeof ReleaseSpec>;
