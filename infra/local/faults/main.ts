// The apiserver fault proxy on its own, in front of the local stack's kube-apiserver:
//   node infra/local/faults/main.ts --plan '{"throttle":0.05,"dropWatch":0.2}' [--listen 127.0.0.1:PORT]
//                                   [--kubeconfig PATH]
// The plan comes from --plan or else SLIPWAY_FAULTS (JSON, plan.ts; a bad one exits 2 saying which
// field). Prints `export KUBECONFIG=…` (a kubeconfig through the proxy) on stdout once it listens;
// on SIGINT or SIGTERM prints what it injected and what survived (JSON) and exits 0. The local
// stack's `faults` component runs it the same way.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadStackConfig } from '../stack/config.ts';
import { pkiPaths } from '../stack/pki.ts';
import { parseListen, parsePlanJson } from './inputs.ts';
import { startFaultProxy } from './proxy.ts';

const USAGE =
  "usage: node infra/local/faults/main.ts --plan '<json>' [--listen 127.0.0.1:PORT] [--kubeconfig PATH] (or SLIPWAY_FAULTS=<json>)";

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { plan: { type: 'string' }, listen: { type: 'string' }, kubeconfig: { type: 'string' } },
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  const source = values.plan !== undefined ? '--plan' : 'SLIPWAY_FAULTS';
  const text = values.plan ?? (process.env.SLIPWAY_FAULTS?.trim() || undefined);
  if (text === undefined) {
    console.error(`no fault plan: give --plan or SLIPWAY_FAULTS\n${USAGE}`);
    return 2;
  }
  const plan = parsePlanJson(text, source);
  if (!plan.ok) {
    console.error(plan.error);
    return 2;
  }
  const port = parseListen(values.listen);
  if (typeof port === 'string') {
    console.error(`${port}\n${USAGE}`);
    return 2;
  }
  // The stack's ports and PKI; its own SLIPWAY_FAULTS is the plan, read above.
  const config = loadStackConfig({ ...process.env, SLIPWAY_FAULTS: undefined });
  const proxy = await startFaultProxy({
    upstreamPort: config.ports.apiserver,
    pki: pkiPaths(config),
    plan: plan.plan,
    port,
  });
  const kubeconfig = proxy.kubeconfigFor(
    values.kubeconfig ?? join(mkdtempSync(join(tmpdir(), 'slipway-faults-')), 'kubeconfig'),
  );
  console.error(
    `fault proxy on https://127.0.0.1:${proxy.port} -> kube-apiserver :${config.ports.apiserver}, plan ${JSON.stringify(plan.plan)}; stats: https://127.0.0.1:${proxy.port}/_faults/stats`,
  );
  console.log(`export KUBECONFIG=${kubeconfig}`);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const { requests, watches, injected, summary } = proxy.stats();
  console.log(JSON.stringify({ requests, watches, injected, summary }, null, 2));
  await proxy.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
