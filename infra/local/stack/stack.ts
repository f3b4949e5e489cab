// The local stack as a whole: components in start order. The fault proxy (apiserver-faults) is in
// the Kubernetes group but enabled only by SLIPWAY_FAULTS; `down` stops it whenever it runs.
import type { Component } from './component.ts';
import type { StackConfig } from './config.ts';
import { temporalServer } from './components/temporal.ts';
import {
  clusterObjects,
  etcd,
  kubeApiserver,
  kubeControllerManager,
  kubeScheduler,
  kwok,
} from './components/kubernetes.ts';
import { serviceRange } from './components/service-range.ts';
import { prometheus } from './components/prometheus.ts';
import { trafficSimulator } from './components/simulator.ts';
import { apiTokens } from './components/api-tokens.ts';
import { faultProxy } from './components/faults.ts';

export const COMPONENT_GROUPS = ['all', 'temporal', 'kubernetes', 'traffic', 'faults'] as const;
/**
 * `traffic` = Prometheus and the traffic simulator (the simulator needs the Kubernetes group up);
 * `faults` = the fault proxy alone (also part of `kubernetes`), to turn it on or off by itself.
 */
export type ComponentGroup = (typeof COMPONENT_GROUPS)[number];

export function components(group: ComponentGroup = 'all'): Component[] {
  const temporal = [temporalServer, apiTokens];
  const kubernetes = [
    etcd,
    kubeApiserver,
    kubeControllerManager,
    kubeScheduler,
    kwok,
    clusterObjects,
    serviceRange,
    faultProxy,
  ];
  const traffic = [prometheus, trafficSimulator];
  if (group === 'temporal') return temporal;
  if (group === 'kubernetes') return kubernetes;
  if (group === 'traffic') return traffic;
  if (group === 'faults') return [faultProxy];
  return [...temporal, ...kubernetes, ...traffic];
}

/** The components this configuration wants (`up`, `status` and `env` act on these). */
export function enabledComponents(config: StackConfig, group: ComponentGroup = 'all'): Component[] {
  return components(group).filter((c) => c.enabled?.(config) ?? true);
}

export interface ComponentStatus {
  name: string;
  healthy: boolean;
  detail: string;
}

export async function stackUp(config: StackConfig, group: ComponentGroup = 'all'): Promise<void> {
  for (const component of enabledComponents(config, group)) {
    if (await component.healthy(config)) continue;
    await component.down(config); // a stale, unhealthy process of ours: replace it
    await component.up(config);
  }
}

export async function stackDown(config: StackConfig, group: ComponentGroup = 'all'): Promise<void> {
  for (const component of components(group).reverse()) await component.down(config);
}

export async function stackStatus(
  config: StackConfig,
  group: ComponentGroup = 'all',
): Promise<ComponentStatus[]> {
  return Promise.all(
    enabledComponents(config, group).map(async (c) => ({
      name: c.name,
      healthy: await c.healthy(config),
      detail: c.describe(config),
    })),
  );
}

export function stackEnv(config: StackConfig, group: ComponentGroup = 'all'): Record<string, string> {
  return Object.assign({}, ...enabledComponents(config, group).map((c) => c.env?.(config) ?? {})) as Record<
    string,
    string
  >;
}
