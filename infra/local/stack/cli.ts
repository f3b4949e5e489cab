// `npm run stack -- up | down | status | env [--only temporal|kubernetes|traffic|faults]`
import { parseArgs } from 'node:util';
import { loadStackConfig } from './config.ts';
import { COMPONENT_GROUPS, stackDown, stackEnv, stackStatus, stackUp, type ComponentGroup } from './stack.ts';

const USAGE = 'usage: npm run stack -- up | down | status | env [--only temporal|kubernetes|traffic|faults]';

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { only: { type: 'string' } },
  });
  const [command] = positionals;
  const group = (values.only ?? 'all') as ComponentGroup;
  if (!COMPONENT_GROUPS.includes(group)) {
    console.error(`unknown component group ${values.only}\n${USAGE}`);
    return 2;
  }
  const config = loadStackConfig();
  switch (command) {
    case 'up': {
      const started = Date.now();
      await stackUp(config, group);
      console.error(
        `stack up in ${((Date.now() - started) / 1000).toFixed(1)} s (state: ${config.stateDir})`,
      );
      return printStatus();
    }
    case 'down':
      await stackDown(config, group);
      return 0;
    case 'status':
      return printStatus();
    case 'env':
      for (const [key, value] of Object.entries(stackEnv(config, group)))
        console.log(`export ${key}=${value}`);
      return 0;
    default:
      console.error(USAGE);
      return 2;
  }

  async function printStatus(): Promise<number> {
    const statuses = await stackStatus(config, group);
    for (const s of statuses) console.log(`${s.healthy ? 'ok  ' : 'DOWN'}  ${s.name.padEnd(24)} ${s.detail}`);
    return statuses.every((s) => s.healthy) ? 0 : 1;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
