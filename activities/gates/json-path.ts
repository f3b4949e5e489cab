// A tiny JSON path evaluator for HTTP gate values: `$`, `$.a.b`, `$.scores[0].value`, `$['f1-score']`.
// Pure. The spec's JSON_PATH regex admits exactly these forms.

type Segment = string | number;

/** The path's segments, or an error naming where it stopped making sense. */
export function parseJsonPath(path: string): Segment[] {
  if (!path.startsWith('$')) throw new Error(`a JSON path starts with $: ${JSON.stringify(path)}`);
  const segments: Segment[] = [];
  const pattern = /\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\]/y;
  let at = 1;
  while (at < path.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(path);
    if (!match) throw new Error(`cannot read the JSON path ${JSON.stringify(path)} at position ${at}`);
    const [, name, index, single, double] = match;
    if (name !== undefined) segments.push(name);
    else if (index !== undefined) segments.push(Number(index));
    else segments.push((single ?? double ?? '').replace(/\\(.)/g, '$1'));
    at = pattern.lastIndex;
  }
  return segments;
}

/** The value at `path` in `document`, or undefined when any step is missing. */
export function selectJsonPath(document: unknown, path: string): unknown {
  let current: unknown = document;
  for (const segment of parseJsonPath(path)) {
    if (typeof segment === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[segment];
    } else {
      if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
    if (current === undefined) return undefined;
  }
  return current;
}

/** A number, or a string holding one; anything else is not a gate value. */
export function numericValue(value: unknown): number | undefined {
  if (typeof value === 'number' && !Number.isNaN(value)) return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    if (!Number.isNaN(parsed)) return parsed;
  }
  return undefined;
}
