// The commands of `slipway`: each talks to the API through ApiClient and prints text or JSON.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { validateReleaseSpec } from '../workflows/spec/index.ts';
import { RELEASE_ACTIONS, type ReleaseAction } from '../workflows/vocabulary.ts';
import type { ApiClient } from './api-client.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { changeLines, outcomeLines, renderStatus } from './render.ts';
import { parseServerSentEvents } from './sse.ts';
import { parseStatus, type StatusView } from './status-view.ts';

export interface Output {
  json: boolean;
  tty: boolean;
  write(text: string): void;
}

export interface CommandContext {
  api: ApiClient;
  out: Output;
}

/** `<namespace>/<model>` → its two parts. */
export function parseTarget(target: string | undefined): { namespace: string; model: string } {
  const match = /^([a-z0-9-]+)\/([a-z0-9-]+)$/.exec(target ?? '');
  if (!match)
    throw new CliError(
      `name the release as <namespace>/<model>, e.g. ml-serving/fraud-detector (got ${JSON.stringify(target ?? '')})`,
      ExitCode.usage,
    );
  return { namespace: match[1]!, model: match[2]! };
}

function releasePath(target: { namespace: string; model: string }): string {
  return `/v1/releases/${encodeURIComponent(target.namespace)}/${encodeURIComponent(target.model)}`;
}

function printJson(out: Output, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Reads a spec file and checks that it is YAML or JSON (the API validates the content). */
export async function readSpecFile(file: string | undefined): Promise<string> {
  if (!file) throw new CliError('give the release spec with -f <file> (YAML or JSON)', ExitCode.usage);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      ExitCode.usage,
    );
  }
  try {
    parseYaml(text); // YAML is a superset of JSON
  } catch (error) {
    throw new CliError(
      `${file} is not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      ExitCode.usage,
    );
  }
  return text;
}

export async function startRelease(
  ctx: CommandContext,
  options: { file: string | undefined; dryRun: boolean; supersede: boolean; watch: boolean },
): Promise<number> {
  const text = await readSpecFile(options.file);
  // The same validation as the API's and the workflow's: a bad spec never leaves this machine.
  const validated = validateReleaseSpec(parseYaml(text));
  if (!validated.ok) {
    const what = validated.unsupported ? 'cannot be carried out' : 'is invalid';
    throw new CliError(`the release spec ${what}: ${validated.summary}`, ExitCode.usage);
  }
  const query = new URLSearchParams();
  if (options.dryRun) query.set('dryRun', 'true');
  if (options.supersede) query.set('supersede', 'true');
  const suffix = query.size > 0 ? `?${query.toString()}` : '';
  const result = (await ctx.api.request('POST', `/v1/releases${suffix}`, {
    text,
    contentType: 'application/yaml',
  })) as Record<string, unknown>;
  if (ctx.out.json && !options.watch) {
    printJson(ctx.out, result);
    return ExitCode.ok;
  }
  if (options.dryRun) {
    const objects = (result.objects as Array<{ kind: string; name: string }> | undefined) ?? [];
    ctx.out.write(`dry run passed: ${objects.map((o) => `${o.kind}/${o.name}`).join(', ')}\n`);
    return ExitCode.ok;
  }
  const namespace = String(result.namespace);
  const model = String(result.model);
  if (!ctx.out.json)
    ctx.out.write(
      `release ${result.releaseId as string} started (${model} ${result.version as string} in ${namespace})\n`,
    );
  if (!options.watch) return ExitCode.ok;
  return watchRelease(ctx, { namespace, model });
}

export async function showStatus(
  ctx: CommandContext,
  target: { namespace: string; model: string },
): Promise<number> {
  const json = await ctx.api.request('GET', releasePath(target));
  const status = parseStatus(json);
  if (ctx.out.json) printJson(ctx.out, json);
  else ctx.out.write(`${renderStatus(status).join('\n')}\n`);
  return ExitCode.ok;
}

/** `release retry`: the latest release again, same spec, as a new run (after a rollback or a failure). */
export async function retryRelease(
  ctx: CommandContext,
  target: { namespace: string; model: string },
  options: { watch: boolean },
): Promise<number> {
  const result = (await ctx.api.request('POST', `${releasePath(target)}/retry`)) as Record<string, unknown>;
  if (ctx.out.json && !options.watch) {
    printJson(ctx.out, result);
    return ExitCode.ok;
  }
  if (!ctx.out.json) {
    ctx.out.write(
      `release ${String(result.releaseId)} retried (${target.model} ${String(result.version)} in ${target.namespace}, retry of run ${String(result.retryOf)})\n`,
    );
  }
  if (!options.watch) return ExitCode.ok;
  return watchRelease(ctx, target);
}

interface ReleaseListItem {
  releaseId: string;
  namespace?: string;
  model?: string;
  version?: string;
  stage?: string;
  outcome?: string;
  status: string;
  startTime?: string;
}

function printList(ctx: CommandContext, list: { items?: ReleaseListItem[]; nextPageToken?: string }): void {
  if (ctx.out.json) return printJson(ctx.out, list);
  const rows = (list.items ?? []).map((r) => [
    r.namespace && r.model ? `${r.namespace}/${r.model}` : r.releaseId,
    r.version ?? '?',
    r.stage ?? '',
    r.outcome ?? r.status,
    r.startTime ?? '',
  ]);
  const header = ['RELEASE', 'VERSION', 'STAGE', 'OUTCOME', 'STARTED'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [header, ...rows])
    ctx.out.write(
      `${row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  if (list.nextPageToken) ctx.out.write(`(more: --page-token ${list.nextPageToken})\n`);
}

export async function listReleases(
  ctx: CommandContext,
  filters: Record<string, string | undefined>,
): Promise<number> {
  const query = new URLSearchParams(
    Object.entries(filters).filter((e): e is [string, string] => e[1] !== undefined),
  );
  printList(
    ctx,
    (await ctx.api.request('GET', `/v1/releases${query.size ? `?${query.toString()}` : ''}`)) as {
      items?: ReleaseListItem[];
    },
  );
  return ExitCode.ok;
}

export async function showHistory(
  ctx: CommandContext,
  target: { namespace: string; model: string },
): Promise<number> {
  printList(
    ctx,
    (await ctx.api.request('GET', `${releasePath(target)}/history`)) as { items?: ReleaseListItem[] },
  );
  return ExitCode.ok;
}

export const ACTIONS = RELEASE_ACTIONS;
export type Action = ReleaseAction;

/** What the API accepted: the release acts on it in its next step (its phase may not show it yet). */
const ACTION_DONE: Record<Action, string> = {
  approve: 'approved',
  reject: 'rejected',
  pause: 'paused',
  resume: 'resumed',
  abort: 'abort requested',
  promote: 'promote-now requested',
};
const ACTION_EFFECT: Record<Action, string> = {
  approve: 'goes on',
  reject: 'rolls back',
  pause: 'holds (its clocks stop)',
  resume: 'goes on',
  abort: 'rolls back',
  promote: 'skips its remaining steps and approvals',
};

export async function act(
  ctx: CommandContext,
  action: Action,
  target: { namespace: string; model: string },
  comment: string | undefined,
): Promise<number> {
  if (action === 'reject' && !comment) throw new CliError('reject needs a reason: -m "why"', ExitCode.usage);
  const body = JSON.stringify(comment ? { comment } : {});
  const json = await ctx.api.request('POST', `${releasePath(target)}/${action}`, {
    text: body,
    contentType: 'application/json',
  });
  const status = parseStatus(json);
  if (ctx.out.json) printJson(ctx.out, json);
  else
    ctx.out.write(
      `${ACTION_DONE[action]}: ${status.model} ${status.version} ${ACTION_EFFECT[action]} (stage ${status.stage})\n`,
    );
  return ExitCode.ok;
}

export async function schedule(
  ctx: CommandContext,
  target: { namespace: string; model: string },
  options: { at: string | undefined; remove: boolean },
): Promise<number> {
  const path = `${releasePath(target)}/promotion-schedule`;
  let result: unknown;
  if (options.remove) result = await ctx.api.request('DELETE', path);
  else if (options.at) {
    if (Number.isNaN(Date.parse(options.at)))
      throw new CliError(
        `--at must be an ISO 8601 date-time such as 2026-12-01T09:00:00Z (got ${options.at})`,
        ExitCode.usage,
      );
    result = await ctx.api.request('PUT', path, {
      text: JSON.stringify({ at: options.at }),
      contentType: 'application/json',
    });
  } else result = await ctx.api.request('GET', path);
  if (ctx.out.json || !result || typeof result !== 'object') printJson(ctx.out, result ?? { deleted: true });
  else {
    const s = result as { scheduleId?: string; nextActionTimes?: string[]; paused?: boolean };
    ctx.out.write(
      `schedule ${s.scheduleId ?? ''}: next ${s.nextActionTimes?.[0] ?? 'none'}${s.paused ? ' (paused)' : ''}\n`,
    );
  }
  return ExitCode.ok;
}

/** The `detail` of an `error` event, as one line. */
function streamErrorDetail(data: string): string {
  try {
    const parsed: unknown = JSON.parse(data);
    if (parsed && typeof parsed === 'object' && 'detail' in parsed && typeof parsed.detail === 'string')
      return parsed.detail;
  } catch {
    // not JSON: the text itself, on one line
  }
  return data.replace(/\s+/g, ' ').slice(0, 300);
}

function parseEventData(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw new CliError('the API sent an event this CLI cannot read (not JSON)', ExitCode.apiProblem);
  }
}

/** How long `watch` keeps trying to reconnect when the API goes away (e.g. a rolling restart). */
const RECONNECT_MS = 1000;
const RECONNECT_ATTEMPTS = 60;

/**
 * Follows the release's event stream until it ends; exit 0 when promoted, 1 otherwise. A stream that
 * ends early or an API that is briefly unreachable is reconnected to (the release goes on regardless).
 */
export async function watchRelease(
  ctx: CommandContext,
  target: { namespace: string; model: string },
): Promise<number> {
  const hint = `approve with: slipway approve ${target.namespace}/${target.model} -m "…"`;
  let last: StatusView | undefined;
  let drawn = 0;
  const show = (json: unknown) => {
    const status = parseStatus(json);
    if (ctx.out.json) ctx.out.write(`${JSON.stringify(json)}\n`);
    else if (ctx.out.tty) {
      const lines = renderStatus(status, hint);
      ctx.out.write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[J` : ''}${lines.join('\n')}\n`);
      drawn = lines.length;
    } else for (const line of changeLines(last, status)) ctx.out.write(`${line}\n`);
    last = status;
  };
  for (let failures = 0; ;) {
    let ended = false;
    let problem: unknown;
    try {
      const stream = await ctx.api.stream(`${releasePath(target)}/events`);
      for await (const event of parseServerSentEvents(stream)) {
        if (event.event === 'end') {
          ended = true;
          break;
        }
        if (event.event === 'error')
          problem = new CliError(
            `the API could not read the release: ${streamErrorDetail(event.data)}`,
            ExitCode.apiProblem,
          );
        if (event.event !== 'status') continue;
        failures = 0; // progress: every (re)connection starts with the current status
        show(parseEventData(event.data));
      }
    } catch (error) {
      // 401/403/404 will not get better; a refused connection, a 5xx or a cut stream may.
      if (error instanceof CliError && !error.transient) throw error;
      problem = error;
    }
    if (ended || last?.outcome) break;
    if (++failures > RECONNECT_ATTEMPTS) {
      throw problem instanceof CliError
        ? problem
        : new CliError(
            `the event stream keeps failing${problem ? `: ${problem instanceof Error ? problem.message : JSON.stringify(problem)}` : ''}; run \`slipway watch\` again`,
            ExitCode.apiProblem,
          );
    }
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
  }
  if (!last?.outcome) {
    // The stream ended without the final status (e.g. the release had ended already): ask for it.
    const json = await ctx.api.request('GET', releasePath(target));
    const final = parseStatus(json);
    if (ctx.out.json) ctx.out.write(`${JSON.stringify(json)}\n`);
    else if (ctx.out.tty) ctx.out.write(`${outcomeLines(final).join('\n')}\n`);
    else for (const line of changeLines(last, final)) ctx.out.write(`${line}\n`);
    last = final;
  }
  if (!last.outcome)
    throw new CliError(
      'the event stream ended before the release did; run `slipway watch` again',
      ExitCode.apiProblem,
    );
  return last.outcome.result === 'Promoted' ? ExitCode.ok : ExitCode.releaseFailed;
}
