// The one validation of a release spec, for every entry point (API start and dry-run, retry, the
// CLI before it sends, the workflow): the parsed spec, or its issues with the paths users write
// and one sentence naming them. Pure.
import type { z } from 'zod';
import { formatIssuePath, UNSUPPORTED } from './issue-path.ts';
import { ReleaseSpec } from './release-spec.ts';

export interface SpecIssue {
  path: string;
  message: string;
}

export type SpecValidation =
  | { ok: true; spec: ReleaseSpec }
  | {
      ok: false;
      issues: SpecIssue[];
      summary: string;
      /** Every issue is a combination the strategy or router cannot carry out (well-formed otherwise). */
      unsupported: boolean;
    };

export function specIssues(error: z.ZodError): SpecIssue[] {
  return error.issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issue.message }));
}

/** `path: message; path: message` — what a person reads first. */
export function summarizeIssues(issues: readonly SpecIssue[]): string {
  return issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
}

export function validateReleaseSpec(input: unknown): SpecValidation {
  const parsed = ReleaseSpec.safeParse(input);
  if (parsed.success) return { ok: true, spec: parsed.data };
  const issues = specIssues(parsed.error);
  const unsupported = parsed.error.issues.every(
    (issue) =>
      issue.code === 'custom' &&
      (issue.params as Record<string, unknown> | undefined)?.[UNSUPPORTED] === true,
  );
  return { ok: false, issues, summary: summarizeIssues(issues), unsupported };
}
