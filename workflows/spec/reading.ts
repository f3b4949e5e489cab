// What workflow code reads off a parsed spec, and nothing that builds a schema. The Temporal sandbox
// runs the module scope of every module a workflow imports once per workflow (each gets its own
// module instances), so importing index.ts there would build every zod schema of the spec for every
// release the worker holds: tens of ms and a few MB each. The spec is parsed by an activity
// (activities/release-spec.ts); test/unit/workflow-sandbox-imports.test.ts keeps zod out.
export { expectedDowntime, type ExpectedDowntime } from './downtime.ts';
export {
  canaryHoldMs,
  candidateHeaders,
  canaryWeights,
  finalCanaryWeight,
  firstReleaseGates,
  gateByName,
  gateProvider,
  gatesFor,
  isFirstWeightStep,
  plannedStages,
  routeKind,
  routeName,
  weightBefore,
} from './lookup.ts';
export { routerOf, type RouterCapabilities } from './router-capabilities.ts';
export { replicasToApply, servingReplicas } from './serving-lookup.ts';
