// The CLI's exit codes: scripts and CI jobs branch on them.
export const ExitCode = {
  /** Promoted, or the command succeeded. */
  ok: 0,
  /** The release rolled back or failed. */
  releaseFailed: 1,
  /** Bad usage: flags, files, a spec the API rejected (400). */
  usage: 2,
  /** Missing or refused credentials (401, 403). */
  auth: 3,
  /** The API answered with another problem (404, 409, 422, 5xx) or could not be reached. */
  apiProblem: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports as a message (no stack trace) with its exit code. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  /** The API could not be reached or answered 5xx: trying again later may work. */
  readonly transient: boolean;
  constructor(message: string, exitCode: ExitCode, options: { transient?: boolean } = {}) {
    super(message);
    this.exitCode = exitCode;
    this.transient = options.transient ?? false;
  }
}
