// Keeps the simulator's picture of the cluster current through watches (informers, not polling):
// Deployments labelled app.kubernetes.io/managed-by=slipway in all namespaces, Gateway API
// HTTPRoutes and Istio VirtualServices; and, for other tools' pods (pod-groups.ts), Services and pods
// labelled sim.slipway.dev/traffic=pods (routed by those routes when they name the tools' Services).
// A failed watch is restarted with a growing back-off; the cache is kept meanwhile.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  MANAGED_SELECTOR,
  deploymentView,
  groupModels,
  routeView,
  type ModelObjects,
  type RouteView,
} from './objects.ts';
import { POD_TRAFFIC_SELECTOR, podGroupModels, podView, serviceView } from './pod-groups.ts';
import { virtualServiceView } from './virtual-service.ts';

export const HTTPROUTE = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' } as const;
export const VIRTUALSERVICE = {
  group: 'networking.istio.io',
  version: 'v1',
  plural: 'virtualservices',
} as const;

export interface WatchHealth {
  name: string;
  synced: boolean;
  lastError: string | undefined;
}

export interface ClusterWatch {
  /** Resolves once every watch has listed its objects (or keeps trying in the background). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The models as the watches see them now. */
  models(): ModelObjects[];
  health(): WatchHealth[];
}

interface Watched<V> {
  health: WatchHealth;
  views: Map<string, V>;
  /** Lists and starts watching; on failure the 'error' handler schedules another attempt. */
  run(): Promise<void>;
  stop(): Promise<void>;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null) return JSON.stringify(error);
  return String(error);
}

export function createClusterWatch(kc: k8s.KubeConfig, logger: Logger): ClusterWatch {
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  let stopped = false;
  let cachedModels: ModelObjects[] | undefined;

  function watched<T extends k8s.KubernetesObject, V>(
    name: string,
    informer: k8s.Informer<T>,
    view: (o: T) => V | undefined,
  ): Watched<V> {
    const health: WatchHealth = { name, synced: false, lastError: undefined };
    const views = new Map<string, V>();
    const keyOf = (o: k8s.KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    const upsert = (o: T) => {
      const v = view(o);
      if (v === undefined) views.delete(keyOf(o));
      else views.set(keyOf(o), v);
      cachedModels = undefined;
    };
    informer.on('add', upsert);
    informer.on('update', upsert);
    informer.on('delete', (o) => {
      views.delete(keyOf(o));
      cachedModels = undefined;
    });

    let failures = 0;
    let backoffMs = 500;
    const failed = (error: unknown): void => {
      failures++;
      health.synced = false;
      health.lastError = describeError(error);
      if (stopped) return;
      logger.warn({ watch: name, error: health.lastError, retryInMs: backoffMs }, 'watch failed; restarting');
      setTimeout(() => void run(), backoffMs);
      backoffMs = Math.min(backoffMs * 2, 30_000);
    };
    const run = async (): Promise<void> => {
      if (stopped) return;
      const failuresBefore = failures;
      try {
        await informer.start();
      } catch (error) {
        failed(error);
        return;
      }
      // ListWatch reports list and watch failures through 'error' instead of rejecting.
      if (failures !== failuresBefore) return;
      if (health.lastError !== undefined) logger.info({ watch: name }, 'watch restored');
      health.synced = true;
      health.lastError = undefined;
      backoffMs = 500;
    };
    // The informer's error callback is typed `(err?: any) => void`; the value is only described.
    informer.on('error', failed);
    return { health, views, run, stop: () => informer.stop() };
  }

  const deployments = watched(
    'deployments',
    k8s.makeInformer<k8s.V1Deployment>(
      kc,
      '/apis/apps/v1/deployments',
      () => apps.listDeploymentForAllNamespaces({ labelSelector: MANAGED_SELECTOR }),
      MANAGED_SELECTOR,
    ),
    deploymentView,
  );
  const customWatch = (
    resource: typeof HTTPROUTE | typeof VIRTUALSERVICE,
    view: (object: unknown) => RouteView | undefined,
  ): Watched<RouteView> =>
    watched(
      resource.plural,
      k8s.makeInformer<k8s.KubernetesObject>(
        kc,
        `/apis/${resource.group}/${resource.version}/${resource.plural}`,
        // The generated client types custom objects as `any`; the list is checked by the view.
        async () =>
          (await custom.listClusterCustomObject({
            ...resource,
          })) as k8s.KubernetesListObject<k8s.KubernetesObject>,
      ),
      view,
    );
  const routes = customWatch(HTTPROUTE, routeView);
  const virtualServices = customWatch(VIRTUALSERVICE, virtualServiceView);
  const services = watched(
    'services',
    k8s.makeInformer<k8s.V1Service>(
      kc,
      '/api/v1/services',
      () => core.listServiceForAllNamespaces({ labelSelector: POD_TRAFFIC_SELECTOR }),
      POD_TRAFFIC_SELECTOR,
    ),
    serviceView,
  );
  const pods = watched(
    'pods',
    k8s.makeInformer<k8s.V1Pod>(
      kc,
      '/api/v1/pods',
      () => core.listPodForAllNamespaces({ labelSelector: POD_TRAFFIC_SELECTOR }),
      POD_TRAFFIC_SELECTOR,
    ),
    podView,
  );
  const all = [deployments, routes, virtualServices, services, pods];

  return {
    async start() {
      stopped = false;
      await Promise.all(all.map((w) => w.run()));
    },
    async stop() {
      stopped = true;
      await Promise.all(all.map((w) => w.stop()));
    },
    models() {
      if (cachedModels) return cachedModels;
      const allRoutes = [...routes.views.values(), ...virtualServices.views.values()];
      const slipway = groupModels(deployments.views.values(), allRoutes);
      const others = podGroupModels(
        services.views.values(),
        pods.views.values(),
        new Set(slipway.map((m) => m.key)),
        allRoutes,
      );
      cachedModels =
        others.length === 0 ? slipway : [...slipway, ...others].sort((a, b) => a.key.localeCompare(b.key));
      return cachedModels;
    },
    health: () => all.map((w) => ({ ...w.health })),
  };
}
