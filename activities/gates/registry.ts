// Gate providers by name. The `satisfies` clause makes a provider that the spec knows but this
// registry lacks (or one measuring the wrong kind of gate) a type error.
import type { GateSpec } from '../../workflows/spec/index.ts';
import { measureByHttp } from './http-provider.ts';
import { measureByJob } from './job-provider.ts';
import { measureByJudge } from './judge-provider.ts';
import { measureByPrometheus } from './prometheus-provider.ts';
import type {
  GateOf,
  GateProvider,
  MeasureContext,
  ProviderDeps,
  ProviderName,
  RawMeasurement,
} from './provider.ts';

export const gateProviders = {
  prometheus: measureByPrometheus,
  http: measureByHttp,
  job: measureByJob,
  judge: measureByJudge,
} satisfies { [K in ProviderName]: GateProvider<GateOf<K>> };

const PROVIDER_NAMES = Object.keys(gateProviders) as ProviderName[];

/** The provider key of a gate spec. */
export function providerName(gate: GateSpec): ProviderName {
  const name = PROVIDER_NAMES.find((key) => key in gate);
  if (!name) throw new Error(`gate ${gate.name} names no provider`);
  return name;
}

/** Measures `gate` with its provider. */
export function measureWithProvider(
  gate: GateSpec,
  context: MeasureContext,
  deps: ProviderDeps,
): Promise<RawMeasurement> {
  // The registry's type ties each key to its gate kind; indexing by a runtime key loses that link,
  // and providerName(gate) is exactly the key `gate` has.
  const provider = gateProviders[providerName(gate)] as GateProvider;
  return provider(gate, context, deps);
}
