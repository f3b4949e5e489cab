// Parsing a submitted release spec for the release workflow (an activity, its result recorded in
// the history). The spec's zod schemas are built once per worker process here instead of once
// per workflow in the sandbox, where each workflow gets its own module instances: at a thousand
// releases that was seconds of CPU at every cache refill and megabytes per cached workflow. The
// same schema as the API's and the CLI's (one validation for every entry point).
import { parseReleaseSpec, type ParsedReleaseSpec } from '../workflows/spec/parse.ts';

export function createSpecActivities() {
  return {
    // An activity returns a promise (Temporal's ActivityFunction); the parse itself is synchronous.
    parseReleaseSpec(input: unknown): Promise<ParsedReleaseSpec> {
      return Promise.resolve(parseReleaseSpec(input));
    },
  };
}
