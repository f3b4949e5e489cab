// Zod issue paths as users write them, and the mark of an issue that is a combination the
// strategy or router cannot carry out. Pure.

/** A zod issue path as users write it: `canary.steps[2].weight`, `serving.resources.requests["nvidia.com/gpu"]`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) text += text ? `.${key}` : key;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text;
}

/**
 * The `params` key of an issue whose spec is well-formed but asks for what its strategy or router
 * cannot do (the API answers 422 when every issue is such, 400 otherwise).
 */
export const UNSUPPORTED = 'unsupportedCombination';
