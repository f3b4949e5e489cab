// Parsing a submitted release spec into the complete, parsed spec, or the reasons it is not one
// (zod's own words and issues). Called by the parse activity (activities/release-spec.ts) and, for
// releases that began before that activity existed, by the workflow itself (workflows/release.ts).
import { z } from 'zod';
import { ReleaseSpec } from './release-spec.ts';

export type ParsedReleaseSpec =
  { ok: true; spec: ReleaseSpec } | { ok: false; message: string; issues: z.core.$ZodIssue[] };

export function parseReleaseSpec(input: unknown): ParsedReleaseSpec {
  const parsed = ReleaseSpec.safeParse(input);
  if (parsed.success) return { ok: true, spec: parsed.data };
  return { ok: false, message: z.prettifyError(parsed.error), issues: parsed.error.issues };
}
