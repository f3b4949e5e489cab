// Argument parsing and dispatch of `slipway` (main.ts is only the process entry). Every error is
// one line on stderr (no stack trace) and an exit code.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiClient } from './api-client.ts';
import {
  ACTIONS,
  act,
  listReleases,
  parseTarget,
  retryRelease,
  schedule,
  showHistory,
  showStatus,
  startRelease,
  watchRelease,
  type Action,
  type CommandContext,
} from './commands.ts';
import { CliError, ExitCode } from './exit-codes.ts';

export const USAGE = `usage: slipway <command> [options]

commands:
  release start -f <spec.yaml> [--watch] [--dry-run] [--supersede]   start a release (or validate it)
  release retry <namespace>/<model> [--watch]  start the latest (rolled back or failed) release again, same spec
  status <namespace>/<model>                   the current or latest release's status
  watch <namespace>/<model>                    follow a release until it ends (exit 0 promoted, 1 not)
  list [--namespace N] [--model M] [--stage S] [--outcome O] [--page-size N] [--page-token T]
  history <namespace>/<model>                  past releases of a model
  approve|reject|pause|resume|abort|promote <namespace>/<model> [-m comment]   (reject needs -m)
  schedule <namespace>/<model> --at <ISO time> | --delete | (show)

options:
  --api-url URL     the Slipway API (default $SLIPWAY_API_URL or http://127.0.0.1:8080)
  --token TOKEN     a bearer token (default $SLIPWAY_TOKEN)
  -o, --output FMT  text (default) or json
  -h, --help        this help
exit codes: 0 promoted/ok, 1 rolled back/failed, 2 usage, 3 auth, 4 other API problems
`;

const OPTIONS = {
  'api-url': { type: 'string' },
  token: { type: 'string' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
  file: { type: 'string', short: 'f' },
  watch: { type: 'boolean', short: 'w' },
  'dry-run': { type: 'boolean' },
  supersede: { type: 'boolean' },
  message: { type: 'string', short: 'm' },
  namespace: { type: 'string' },
  model: { type: 'string' },
  stage: { type: 'string' },
  outcome: { type: 'string' },
  'page-size': { type: 'string' },
  'page-token': { type: 'string' },
  at: { type: 'string' },
  delete: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

export interface Terminal {
  write(text: string): void;
  error(text: string): void;
  tty: boolean;
}

/** A message on one line (parseArgs and some errors span several). */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliError(
      `${oneLine(error instanceof Error ? error.message : String(error))}; see slipway --help`,
      ExitCode.usage,
    );
  }
}

async function dispatch(argv: string[], env: NodeJS.ProcessEnv, terminal: Terminal): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help || positionals.length === 0) {
    terminal.write(USAGE);
    return positionals.length === 0 && !values.help ? ExitCode.usage : ExitCode.ok;
  }
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json')
    throw new CliError(`--output is text or json (got ${output})`, ExitCode.usage);
  const ctx: CommandContext = {
    api: new ApiClient({
      baseUrl: values['api-url'] ?? env.SLIPWAY_API_URL ?? 'http://127.0.0.1:8080',
      token: values.token ?? env.SLIPWAY_TOKEN,
    }),
    out: { json: output === 'json', tty: terminal.tty, write: (text) => terminal.write(text) },
  };
  const [command, ...rest] = positionals;
  const target = () => parseTarget(rest[0]);
  switch (command) {
    case 'release':
      if (rest[0] === 'retry')
        return retryRelease(ctx, parseTarget(rest[1]), { watch: values.watch ?? false });
      if (rest[0] !== 'start') {
        throw new CliError(
          `unknown command: release ${rest[0] ?? ''}; try: slipway release start -f spec.yaml, or slipway release retry <namespace>/<model>`,
          ExitCode.usage,
        );
      }
      return startRelease(ctx, {
        file: values.file,
        dryRun: values['dry-run'] ?? false,
        supersede: values.supersede ?? false,
        watch: values.watch ?? false,
      });
    case 'status':
      return showStatus(ctx, target());
    case 'watch':
      return watchRelease(ctx, target());
    case 'list':
      return listReleases(ctx, {
        namespace: values.namespace,
        model: values.model,
        stage: values.stage,
        outcome: values.outcome,
        pageSize: values['page-size'],
        pageToken: values['page-token'],
      });
    case 'history':
      return showHistory(ctx, target());
    case 'schedule':
      return schedule(ctx, target(), { at: values.at, remove: values.delete ?? false });
    default:
      if ((ACTIONS as readonly string[]).includes(command ?? ''))
        return act(ctx, command as Action, target(), values.message);
      throw new CliError(`unknown command: ${command}; see slipway --help`, ExitCode.usage);
  }
}

/** Runs one invocation; returns the exit code. User errors print a message, never a stack trace. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, terminal: Terminal): Promise<number> {
  try {
    return await dispatch(argv, env, terminal);
  } catch (error) {
    if (error instanceof CliError) {
      terminal.error(`slipway: ${oneLine(error.message)}\n`);
      return error.exitCode;
    }
    terminal.error(
      `slipway: unexpected error: ${oneLine(error instanceof Error ? error.message : String(error))}\n`,
    );
    return ExitCode.apiProblem;
  }
}
