// A small client of the Slipway HTTP API (api/): bearer token, JSON in and out, RFC 9457 problem
// details turned into CliErrors with the right exit code.
import { z } from 'zod';
import { CliError, ExitCode } from './exit-codes.ts';

const Problem = z.object({
  title: z.string().optional(),
  status: z.number().optional(),
  detail: z.string().optional(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
type Problem = z.infer<typeof Problem>;

export interface ApiClientOptions {
  baseUrl: string;
  token?: string | undefined;
}

function exitCodeFor(status: number): ExitCode {
  if (status === 401 || status === 403) return ExitCode.auth;
  if (status === 400 || status === 413 || status === 415) return ExitCode.usage;
  return ExitCode.apiProblem;
}

/** A readable message, on one line, from a problem-details body: title, detail and every issue path. */
export function describeProblem(status: number, problem: Problem | undefined): string {
  const detail = problem?.detail?.replace(/\s+/g, ' ').trim();
  const head = `${problem?.title ?? `HTTP ${status}`}${detail ? `: ${detail}` : ''}`;
  // The API's detail names the issues already; name those it leaves out.
  const issues = (problem?.issues ?? [])
    .map((issue) => `${issue.path || '(root)'}: ${issue.message}`)
    .filter((issue) => !detail?.includes(issue));
  return issues.length > 0 ? `${head} (${issues.join('; ')})` : head;
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly token: string | undefined;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      accept: 'application/json',
      ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      ...extra,
    };
  }

  /** A request; non-2xx answers become CliErrors. */
  async request(
    method: string,
    path: string,
    body?: { text: string; contentType: string },
  ): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: this.headers(body ? { 'content-type': body.contentType } : {}),
        ...(body ? { body: body.text } : {}),
      });
    } catch (error) {
      const cause =
        error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new CliError(`cannot reach the Slipway API at ${this.baseUrl}: ${cause}`, ExitCode.apiProblem, {
        transient: true,
      });
    }
    const text = await response.text();
    let json: unknown = undefined;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    if (!response.ok) {
      const problem = Problem.safeParse(json);
      throw new CliError(
        describeProblem(response.status, problem.success ? problem.data : undefined),
        exitCodeFor(response.status),
        { transient: response.status >= 500 },
      );
    }
    return json;
  }

  /** Opens a Server-Sent Events stream. */
  async stream(path: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        headers: this.headers({ accept: 'text/event-stream' }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      const cause =
        error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new CliError(`cannot reach the Slipway API at ${this.baseUrl}: ${cause}`, ExitCode.apiProblem, {
        transient: true,
      });
    }
    if (!response.ok || !response.body) {
      const problem = Problem.safeParse(await response.json().catch(() => undefined));
      throw new CliError(
        describeProblem(response.status, problem.success ? problem.data : undefined),
        exitCodeFor(response.status),
        { transient: response.status >= 500 },
      );
    }
    return response.body;
  }
}
