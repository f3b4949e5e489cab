// Configuration of the local stack: folders and loopback ports, each overridable by environment,
// and the optional apiserver fault plan (SLIPWAY_FAULTS, JSON; unset = no fault proxy).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parsePlanJson } from '../faults/inputs.ts';
import type { FaultPlan } from '../faults/plan.ts';

const port = (fallback: number) => z.coerce.number().int().min(1024).max(65535).default(fallback);

const StackEnv = z.object({
  SLIPWAY_CACHE: z
    .string()
    .min(1)
    .default(join(homedir(), '.cache', 'slipway')),
  SLIPWAY_STATE: z.string().min(1).optional(),
  SLIPWAY_TEMPORAL_PORT: port(17233),
  SLIPWAY_TEMPORAL_UI_PORT: port(18233),
  SLIPWAY_ETCD_PORT: port(12379),
  SLIPWAY_ETCD_PEER_PORT: port(12380),
  SLIPWAY_APISERVER_PORT: port(16443),
  SLIPWAY_CONTROLLER_MANAGER_PORT: port(16444),
  SLIPWAY_SCHEDULER_PORT: port(16445),
  SLIPWAY_KWOK_PORT: port(16446),
  SLIPWAY_PROMETHEUS_PORT: port(19090),
  SLIPWAY_SIMULATOR_PORT: port(19091),
  SLIPWAY_FAULTS_PORT: port(16447),
  /** A fault plan (infra/local/faults/plan.ts) as JSON: the stack then runs the fault proxy. */
  SLIPWAY_FAULTS: z.string().optional(),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  /** Debian's package installs it here (infra/local/setup.sh). */
  SLIPWAY_PROMETHEUS_BIN: z.string().min(1).default('/usr/bin/prometheus'),
});

export interface StackConfig {
  cacheDir: string;
  stateDir: string;
  ports: {
    temporal: number;
    temporalUi: number;
    etcd: number;
    etcdPeer: number;
    apiserver: number;
    controllerManager: number;
    scheduler: number;
    kwok: number;
    prometheus: number;
    simulator: number;
    faults: number;
  };
  temporalCli: string;
  prometheusBin: string;
  /** SLIPWAY_FAULTS, validated: the fault proxy's plan; undefined (the default) = no proxy. */
  faults: FaultPlan | undefined;
}

export function loadStackConfig(env: NodeJS.ProcessEnv = process.env): StackConfig {
  const parsed = StackEnv.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid local stack configuration:\n${z.prettifyError(parsed.error)}`);
  }
  const e = parsed.data;
  const faults = e.SLIPWAY_FAULTS?.trim() ? parsePlanJson(e.SLIPWAY_FAULTS, 'SLIPWAY_FAULTS') : undefined;
  if (faults && !faults.ok) throw new Error(`invalid local stack configuration: ${faults.error}`);
  return {
    cacheDir: e.SLIPWAY_CACHE,
    stateDir: e.SLIPWAY_STATE ?? join(e.SLIPWAY_CACHE, 'state'),
    ports: {
      temporal: e.SLIPWAY_TEMPORAL_PORT,
      temporalUi: e.SLIPWAY_TEMPORAL_UI_PORT,
      etcd: e.SLIPWAY_ETCD_PORT,
      etcdPeer: e.SLIPWAY_ETCD_PEER_PORT,
      apiserver: e.SLIPWAY_APISERVER_PORT,
      controllerManager: e.SLIPWAY_CONTROLLER_MANAGER_PORT,
      scheduler: e.SLIPWAY_SCHEDULER_PORT,
      kwok: e.SLIPWAY_KWOK_PORT,
      prometheus: e.SLIPWAY_PROMETHEUS_PORT,
      simulator: e.SLIPWAY_SIMULATOR_PORT,
      faults: e.SLIPWAY_FAULTS_PORT,
    },
    temporalCli: e.TEMPORAL_CLI_PATH ?? 'temporal',
    prometheusBin: e.SLIPWAY_PROMETHEUS_BIN,
    faults: faults?.plan,
  };
}
