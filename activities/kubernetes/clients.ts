// The Kubernetes API clients activities use, built once per worker from one KubeConfig.
import * as k8s from '@kubernetes/client-node';
import { httpStatusOf } from './cluster-errors.ts';
import { callIdMiddleware } from './call-ids.ts';

export interface KubernetesClients {
  kc: k8s.KubeConfig;
  objects: k8s.KubernetesObjectApi;
  apps: k8s.AppsV1Api;
  core: k8s.CoreV1Api;
  batch: k8s.BatchV1Api;
  events: k8s.EventsV1Api;
  custom: k8s.CustomObjectsApi;
  autoscaling: k8s.AutoscalingV2Api;
}

/** From KUBECONFIG / ~/.kube/config, or the in-cluster service account when running in a pod. */
export function loadKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** What every client is configured with: the kubeconfig's cluster and auth, and the call-id header. */
function configurationOf(kc: k8s.KubeConfig): k8s.Configuration {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  return k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    middleware: [k8s.setHeaderMiddleware('User-Agent', 'slipway (kubernetes-client-javascript)')],
    promiseMiddleware: [callIdMiddleware],
  });
}

/** KubernetesObjectApi.makeApiClient, over our configuration. */
class ObjectApi extends k8s.KubernetesObjectApi {
  static over(kc: k8s.KubeConfig): k8s.KubernetesObjectApi {
    const api = new ObjectApi(configurationOf(kc));
    api.setDefaultNamespace(kc);
    return api;
  }
}

export function createKubernetesClients(kc: k8s.KubeConfig = loadKubeConfig()): KubernetesClients {
  const configuration = configurationOf(kc);
  return {
    kc,
    objects: ObjectApi.over(kc),
    apps: new k8s.AppsV1Api(configuration),
    core: new k8s.CoreV1Api(configuration),
    batch: new k8s.BatchV1Api(configuration),
    events: new k8s.EventsV1Api(configuration),
    custom: new k8s.CustomObjectsApi(configuration),
    autoscaling: new k8s.AutoscalingV2Api(configuration),
  };
}

/** The HTTP status of a client-node error, if it has one (an ApiException, or a watch's error). */
export function apiStatus(error: unknown): number | undefined {
  return httpStatusOf(error);
}

/** The `message` of a Kubernetes Status body inside an ApiException, else the error's message. */
export function apiMessage(error: unknown): string {
  if (error instanceof k8s.ApiException) {
    const body: unknown = typeof error.body === 'string' ? safeJson(error.body) : error.body;
    if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string')
      return body.message;
    return `HTTP ${error.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function ignoreNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (apiStatus(error) === 404) return undefined;
    throw error;
  }
}
