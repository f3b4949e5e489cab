#!/usr/bin/env node
// `slipway`: the command line of Slipway. Talks to the HTTP API (SLIPWAY_API_URL, SLIPWAY_TOKEN).
// Exit codes: 0 promoted / done, 1 rolled back or failed, 2 usage, 3 auth, 4 other API problems.
import { runCli } from './run.ts';

process.exitCode = await runCli(process.argv.slice(2), process.env, {
  write: (text) => void process.stdout.write(text),
  error: (text) => void process.stderr.write(text),
  tty: process.stdout.isTTY === true,
});
