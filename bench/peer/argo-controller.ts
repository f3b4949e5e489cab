// The Argo Rollouts controller for the peer bench: built from the Go module proxy on first use
// (infra/local/build), its CRDs applied to the local apiserver and awaited, then the controller run
// as a process of the bench, namespaced to the bench's namespace, talking through `kubeconfig`.
import { untilHealthy } from './controller-health.ts';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureArgoRollouts, binaries } from '../../infra/local/stack/binaries.ts';
import { loadStackConfig } from '../../infra/local/stack/config.ts';
import { freePort } from '../../infra/local/stack/free-port.ts';
import { pkiPaths } from '../../infra/local/stack/pki.ts';

export const ARGO_CRDS = [
  'rollouts.argoproj.io',
  'analysistemplates.argoproj.io',
  'clusteranalysistemplates.argoproj.io',
  'analysisruns.argoproj.io',
  'experiments.argoproj.io',
];

export interface ArgoController {
  child: ChildProcess;
  pid: number;
  version: string;
  log: string;
  stop(): Promise<void>;
}

/** Builds Argo Rollouts if needed and installs its CRDs (server-side apply, idempotent). */
export function installArgoRollouts(): { controller: string; version: string } {
  const config = loadStackConfig();
  const argo = ensureArgoRollouts(config);
  const kubectl = (args: string[]) =>
    execFileSync(binaries(config).kubectl, [`--kubeconfig=${pkiPaths(config).kubeconfig}`, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const files = readdirSync(argo.crds).filter((f) => f.endsWith('.yaml'));
  for (const f of files)
    kubectl(['apply', '--server-side', '--field-manager=slipway-peer-bench', '-f', join(argo.crds, f)]);
  // Right after an apply a CRD may have no status yet (kubectl wait then errors): retry a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...ARGO_CRDS.map((c) => `crd/${c}`)]);
      break;
    } catch (error) {
      if (attempt >= 10) throw error;
      execFileSync('sleep', ['0.5']);
    }
  }
  const version = execFileSync(argo.controller, ['--version'], { encoding: 'utf8' }).trim().split('\n')[0];
  return { controller: argo.controller, version: version ?? 'unknown' };
}

export async function startArgoController(namespace: string, kubeconfig: string): Promise<ArgoController> {
  const config = loadStackConfig();
  const { controller, version } = installArgoRollouts();
  const log = join(config.stateDir, `argo-rollouts-${namespace}.log`);
  const out = createWriteStream(log);
  const [healthz, metrics] = [await freePort(), await freePort()];
  const child = spawn(
    controller,
    [
      `--kubeconfig=${kubeconfig}`,
      '--namespaced',
      `--namespace=${namespace}`,
      '--leader-elect=false',
      `--healthzPort=${healthz}`,
      `--metricsPort=${metrics}`,
      '--loglevel=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await untilHealthy(child, `http://127.0.0.1:${healthz}/healthz`, 'Argo Rollouts', log);
  return {
    child,
    pid: child.pid ?? 0,
    version,
    log,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
