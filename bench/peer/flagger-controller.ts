// The Flagger controller for the peer bench's istio routing: built from the Go module proxy on first
// use (infra/local/build, target flagger), its CRDs (Canary, MetricTemplate, AlertProvider) applied
// to the local apiserver and awaited, then run as a process of the bench with the istio provider,
// watching the bench's namespace, talking to the apiserver through `kubeconfig` and to the stack's
// Prometheus. No mesh runs: Flagger writes VirtualServices and DestinationRules (networking.istio.io
// v1alpha3, which the stack's Istio CRDs serve) and the simulator routes by the VirtualService.
import { untilHealthy } from './controller-health.ts';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binaries, pinnedVersions } from '../../infra/local/stack/binaries.ts';
import { loadStackConfig } from '../../infra/local/stack/config.ts';
import { freePort } from '../../infra/local/stack/free-port.ts';
import { pkiPaths } from '../../infra/local/stack/pki.ts';

export const FLAGGER_CRDS = [
  'canaries.flagger.app',
  'metrictemplates.flagger.app',
  'alertproviders.flagger.app',
];

const buildScript = fileURLToPath(new URL('../../infra/local/build/build-kubernetes.sh', import.meta.url));

export interface FlaggerController {
  child: ChildProcess;
  pid: number;
  version: string;
  log: string;
  /** Flagger's own /metrics (flagger_canary_metric_analysis: the last value each check read). */
  metricsUrl: string;
  stop(): Promise<void>;
}

/** Builds Flagger if needed (a few minutes cold) and installs its CRDs (server-side apply, idempotent). */
export function installFlagger(): { controller: string; version: string } {
  const config = loadStackConfig();
  const version = pinnedVersions().FLAGGER_VERSION;
  if (!version) throw new Error('FLAGGER_VERSION missing from infra/local/build/versions.env');
  const dir = join(config.cacheDir, 'bin', `flagger-${version}`);
  if (!existsSync(join(dir, '.complete')))
    execFileSync('bash', [buildScript, 'flagger'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, SLIPWAY_CACHE: config.cacheDir },
    });
  const kubectl = (args: string[]) =>
    execFileSync(binaries(config).kubectl, [`--kubeconfig=${pkiPaths(config).kubeconfig}`, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  kubectl(['apply', '--server-side', '--field-manager=slipway-peer-bench', '-f', join(dir, 'crd.yaml')]);
  // Right after an apply a CRD may have no status yet (kubectl wait then errors): retry a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      kubectl([
        'wait',
        '--for=condition=Established',
        '--timeout=60s',
        ...FLAGGER_CRDS.map((c) => `crd/${c}`),
      ]);
      break;
    } catch (error) {
      if (attempt >= 10) throw error;
      execFileSync('sleep', ['0.5']);
    }
  }
  return { controller: join(dir, 'flagger'), version: `flagger ${version}` };
}

export async function startFlaggerController(
  namespace: string,
  kubeconfig: string,
): Promise<FlaggerController> {
  const config = loadStackConfig();
  const prometheus = process.env.PROMETHEUS_URL;
  if (!prometheus) throw new Error('PROMETHEUS_URL is not set');
  const { controller, version } = installFlagger();
  const log = join(config.stateDir, `flagger-${namespace}.log`);
  const out = createWriteStream(log);
  const port = await freePort();
  const child = spawn(
    controller,
    [
      `-kubeconfig=${kubeconfig}`,
      `-namespace=${namespace}`,
      '-mesh-provider=istio',
      `-metrics-server=${prometheus}`,
      `-port=${port}`,
      // Flagger's default log level (debug) logs every query it runs: the evidence of each check.
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await untilHealthy(child, `http://127.0.0.1:${port}/healthz`, 'Flagger', log);
  return {
    child,
    pid: child.pid ?? 0,
    version,
    log,
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
