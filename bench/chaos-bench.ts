// Chaos bench (issue 14): releases on the local stack (its Kubernetes, KWOK, Prometheus and traffic
// simulator; a Temporal dev server of its own) while the worker is killed with kill -9 at random
// points of every stage and restarted, and the Temporal server is stopped and started again on its
// SQLite file. Every release must end Promoted (good) or RolledBack (bad) with the cluster in the
// state its outcome says, no duplicate Job, no orphan. Prints a JSON document and a table.
//   npm run bench -- chaos [--releases 50] [--kills 50] [--models 10] [--temporal-restarts 2] [--seed 1]
// The CI-sized run is test/integration/chaos.test.ts; both run bench/chaos/run.ts.
import { parseArgs } from 'node:util';
import { chaosFigures, chaosTable } from './chaos/report.ts';
import { runChaos } from './chaos/run.ts';

const { values } = parseArgs({
  options: {
    releases: { type: 'string', default: '50' },
    kills: { type: 'string', default: '50' },
    models: { type: 'string', default: '10' },
    'temporal-restarts': { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});
const number = (name: string, text: string | undefined) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, not ${text}`);
  return n;
};

const run = await runChaos({
  releases: number('releases', values.releases),
  kills: number('kills', values.kills),
  models: number('models', values.models),
  temporalRestarts: number('temporal-restarts', values['temporal-restarts']),
  seed: number('seed', values.seed),
  keepNamespace: values.keep,
  log: (line) => {
    if (!values.quiet) process.stderr.write(`[chaos] ${line}\n`);
  },
});
const figures = chaosFigures(run);
console.log(JSON.stringify({ ...figures, killLog: run.kills }, null, 2));
console.log(`\n${chaosTable(figures)}`);
process.exit(0);
