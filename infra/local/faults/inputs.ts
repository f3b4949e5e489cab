// The fault proxy's inputs, checked before anything starts: the plan as JSON (validated with zod;
// a bad one is reported with the failing field's path, never a stack trace) and the listen address
// (loopback only).
import { z } from 'zod';
import { FaultPlan } from './plan.ts';

export type PlanResult = { ok: true; plan: FaultPlan } | { ok: false; error: string };

/** Parses and validates a plan; `source` names where it came from (`--plan`, `SLIPWAY_FAULTS`). */
export function parsePlanJson(text: string, source: string): PlanResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      error: `${source} is not JSON (${error instanceof Error ? error.message : String(error)})`,
    };
  }
  const parsed = FaultPlan.safeParse(json);
  if (!parsed.success)
    return { ok: false, error: `invalid fault plan in ${source}:\n${z.prettifyError(parsed.error)}` };
  return { ok: true, plan: parsed.data };
}

/** `127.0.0.1:PORT`, `localhost:PORT`, `:PORT` or `PORT` (0 = any free port); a sentence when it is none of these. */
export function parseListen(value: string | undefined): number | string {
  if (value === undefined) return 0;
  const match = /^(?:(?:127\.0\.0\.1|localhost)?:)?(\d{1,5})$/.exec(value);
  const port = Number(match?.[1]);
  if (!match || port > 65_535) return `--listen must be 127.0.0.1:PORT (loopback only), not ${value}`;
  return port;
}
