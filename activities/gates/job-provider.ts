// The `job` gate provider: a Kubernetes Job in the release's namespace whose container writes its
// result as termination message — a bare number or JSON `{"value": 0.93, …}`. A failed Job fails
// the gate (its own verdict). The Job's name derives from the measurement id, so a retry after a
// crash adopts the Job an earlier attempt created instead of starting another.
import { createHash } from 'node:crypto';
import type { JobGate } from '../../workflows/spec/index.ts';
import { runJob } from '../kubernetes/jobs.ts';
import { numericValue } from './json-path.ts';
import type { MeasureContext, ProviderDeps, RawMeasurement } from './provider.ts';

/** `<model>-gate-<gate>-<hash>`: deterministic per measurement, a DNS-1123 label of ≤ 63 characters. */
export function gateJobName(model: string, gate: string, measurementId: string): string {
  const hash = createHash('sha256').update(measurementId).digest('hex').slice(0, 10);
  const trim = (s: string, n: number) => s.slice(0, n).replace(/-+$/, '');
  return `${trim(model, 24)}-gate-${trim(gate, 21)}-${hash}`;
}

/** The number in a termination message: `0.93`, or JSON with a numeric `value` (other numbers become details). */
export function parseTerminationMessage(message: string | undefined): {
  value: number | null;
  details: Record<string, number>;
} {
  const text = message?.trim() ?? '';
  if (text === '') return { value: null, details: {} };
  const bare = numericValue(text);
  if (bare !== undefined) return { value: bare, details: {} };
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      return { value: null, details: {} };
    const details: Record<string, number> = {};
    for (const [key, raw] of Object.entries(parsed)) {
      const n = numericValue(raw);
      if (n !== undefined && key !== 'value') details[key] = n;
    }
    return { value: numericValue((parsed as Record<string, unknown>).value) ?? null, details };
  } catch {
    return { value: null, details: {} };
  }
}

export async function measureByJob(
  gate: JobGate,
  context: MeasureContext,
  deps: ProviderDeps,
): Promise<RawMeasurement> {
  const { spec } = context;
  const name = gateJobName(spec.model, gate.name, context.measurementId);
  const at = new Date().toISOString();
  const env = [
    { name: 'SLIPWAY_MODEL', value: spec.model },
    { name: 'SLIPWAY_NAMESPACE', value: spec.namespace },
    { name: 'SLIPWAY_VERSION', value: spec.version },
    ...(context.stableVersion ? [{ name: 'SLIPWAY_STABLE_VERSION', value: context.stableVersion }] : []),
    ...(spec.serving.modelUri ? [{ name: 'MODEL_URI', value: spec.serving.modelUri }] : []),
  ];
  // runJob deletes the Job when the measurement is cancelled (release aborted, gate loop stopped).
  const outcome = await runJob(
    deps.kubernetes,
    {
      namespace: spec.namespace,
      name,
      model: spec.model,
      version: spec.version,
      image: gate.job.image,
      command: gate.job.command,
      args: gate.job.args,
      timeoutSeconds: Math.ceil(gate.job.timeout.ms / 1000),
      backoffLimit: gate.job.backoffLimit,
      annotations: gate.job.annotations,
      labels: { 'slipway.dev/gate': gate.name },
      env,
    },
    context.signal,
    (message) => context.onProgress?.(message),
  );
  const parsed = parseTerminationMessage(outcome.terminationMessage);
  const query = `Job ${spec.namespace}/${name} (${gate.job.image})`;
  const details = { job: name, succeeded: outcome.succeeded, ...parsed.details };
  if (!outcome.succeeded) {
    const said = outcome.terminationMessage?.trim()
      ? `: ${outcome.terminationMessage.trim().slice(0, 300)}`
      : '';
    return {
      gate: gate.name,
      at,
      provider: 'job',
      query,
      value: parsed.value,
      verdict: 'fail',
      reason: `Job ${name} failed (${outcome.reason})${said}`,
      details,
    };
  }
  return {
    gate: gate.name,
    at,
    provider: 'job',
    query,
    value: parsed.value,
    ...(parsed.value === null
      ? { reason: `Job ${name} succeeded without a number in its termination message` }
      : {}),
    details,
  };
}
