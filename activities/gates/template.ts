// `{{model}}`, `{{version}}`, `{{namespace}}`, `{{stableVersion}}` and `{{window}}` in gate queries
// and URLs. Pure.
import type { GateSpec } from '../../workflows/spec/index.ts';
import { gateMisconfigured } from './misconfiguration.ts';
import type { MeasureContext } from './provider.ts';

export interface TemplateContext {
  model: string;
  namespace: string;
  version: string;
  stableVersion?: string | undefined;
  /** `<n>s`: how long the current step's traffic has been in effect (or the gate's interval). */
  window: string;
}

const PLACEHOLDER = /\{\{\s*([a-zA-Z]+)\s*\}\}/g;
const KNOWN = ['model', 'namespace', 'version', 'stableVersion', 'window'] as const;

/** `<n>s` with n a whole number of seconds ≥ 1. */
export function windowOf(seconds: number): string {
  return `${Math.max(1, Math.round(Number.isFinite(seconds) ? seconds : 1))}s`;
}

export function templateContext(context: MeasureContext, gate: Pick<GateSpec, 'interval'>): TemplateContext {
  const { spec, stableVersion, windowSeconds } = context;
  const window = windowOf(windowSeconds ?? gate.interval.ms / 1000);
  return { model: spec.model, namespace: spec.namespace, version: spec.version, stableVersion, window };
}

/**
 * Replaces placeholders. An unknown placeholder is a misconfiguration naming it (a typo must not
 * query nothing); `{{stableVersion}}` without a stable version (a first release) is an ordinary error.
 */
export function renderTemplate(
  template: string,
  context: TemplateContext,
  escape: (value: string) => string = (v) => v,
): string {
  return template.replace(PLACEHOLDER, (_match, key: string) => {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw gateMisconfigured(
        `unknown placeholder {{${key}}} in ${JSON.stringify(template)} (known: ${KNOWN.map((k) => `{{${k}}}`).join(', ')})`,
      );
    }
    const value = context[key as (typeof KNOWN)[number]];
    if (value === undefined)
      throw new Error(
        `placeholder {{${key}}} has no value here (no stable version yet) in ${JSON.stringify(template)}`,
      );
    return escape(value);
  });
}

/** Escapes a value for use inside a double-quoted PromQL label matcher. */
export function escapePromQLString(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}
