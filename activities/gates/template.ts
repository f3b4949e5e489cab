// `{{model}}`, `{{version}}`, `{{namespace}}`, `{{stableVersion}}` in gate queries and URLs. Pure.
export interface TemplateContext {
  model: string;
  namespace: string;
  version: string;
  stableVersion?: string | undefined;
}

const PLACEHOLDER = /\{\{\s*([a-zA-Z]+)\s*\}\}/g;

/** Replaces placeholders; an unknown placeholder is an error naming it (a typo must not query nothing). */
export function renderTemplate(template: string, context: TemplateContext, escape: (value: string) => string = (v) => v): string {
  return template.replace(PLACEHOLDER, (_match, key: string) => {
    const value = (context as unknown as Record<string, string | undefined>)[key];
    if (value === undefined) throw new Error(`unknown or empty placeholder {{${key}}} in ${JSON.stringify(template)}`);
    return escape(value);
  });
}

/** Escapes a value for use inside a double-quoted PromQL label matcher. */
export function escapePromQLString(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}
