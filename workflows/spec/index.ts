// The release spec: what a user submits (DESIGN §4). One zod schema is the single source of truth
// for the workflow, the activities, the API and the CLI; TypeScript types are derived from it.
// Pure, no I/O, no clock. Workflow code does not import this file (it would build every schema in
// each workflow's sandbox): it reads a parsed spec through reading.ts, and an activity parses.
//
// Conventions:
// - every object is strict (an unknown field is an error at its own path);
// - "one of" shapes (a canary step, a gate provider, a header value) are told apart by the key
//   present, so an error is reported inside the chosen shape, never as a vague "invalid union";
// - durations are written as strings (`30s`, `10m`, `1h30m`) and parsed once: the parsed spec holds
//   `{ text, ms }` (workflows/duration.ts), shown by its text, used by its milliseconds, and accepted
//   again by parsing (so a parsed spec re-parses to itself);
// - defaults are filled in by parsing: the parsed spec (`ReleaseSpec`) is complete, and parsing it
//   again gives the same spec.
//
// This file is the public face of workflows/spec/: import from here, not from the parts.
export { ReleaseSpec, type ReleaseSpecInput } from './release-spec.ts';
export { dnsLabel, modelName } from './names.ts';
export { DEFAULT_CONTAINER, type Container, type PodTemplate } from './pod-template.ts';
export { canonical, PROBE_FIELDS, renderProbe, slipwayEnv } from './serving.ts';
export { servingContainerIndex } from './serving-lookup.ts';
export { quantityValue } from './quantities.ts';
export type { CanaryStep } from './stages.ts';
export {
  DEFAULT_PREVIEW_HEADERS,
  type HeaderMatches,
  type StrategySpec,
  type StrategyType,
} from './strategy.ts';
export { WEEKDAYS, type Freeze, type PromotionWindow, type Weekday } from './promotion.ts';
export {
  GATE_PROVIDERS,
  GateSpec,
  type HttpGate,
  type JobGate,
  type JudgeGate,
  type PrometheusGate,
} from './gates.ts';
export type { HeaderValue, PrometheusRange } from './gate-providers.ts';
// What workflow code reads off a parsed spec (lookups, router capabilities, downtime, replicas).
export * from './reading.ts';
export { formatIssuePath } from './issue-path.ts';
export { ROUTER_CAPABILITIES } from './router-capabilities.ts';
export { validateReleaseSpec, type SpecIssue, type SpecValidation } from './validate.ts';
export { unsupportedByRouter } from './router-capabilities.ts';
