// How deep a request body may nest: 100 levels, far more than any release spec needs (a pod
// template's deepest fields are about 15 levels down). A deeper body is a 400 before anything walks
// it: the spec's validation recurses, and a few thousand levels overflowed its stack (a 500).
import { ProblemError } from './errors.ts';

export const MAX_BODY_DEPTH = 100;

/** The 400 of a body nested deeper than MAX_BODY_DEPTH (or so deep that parsing it ran out of stack). */
export const TOO_DEEP = `the body is nested more than ${MAX_BODY_DEPTH} levels deep`;

/** `value`, when it nests at most MAX_BODY_DEPTH levels of arrays and objects; throws the 400 otherwise. */
export function withinBodyDepth<T>(value: T): T {
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH) throw new ProblemError(400, TOO_DEEP);
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return value;
}
