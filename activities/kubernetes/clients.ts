// The Kubernetes API clients activities use, built once per worker from one KubeConfig.
import { createHash } from 'node:crypto';
import type { AgentOptions } from 'node:https';
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

/** What identifies a dispatcher: its kind, proxy and TLS material (hashed, never kept as text). */
function dispatcherKey(options: k8s.DispatcherOptions): string {
  const hash = createHash('sha256');
  const add = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(add);
    else if (Buffer.isBuffer(value) || typeof value === 'string') hash.update(value);
    else hash.update(JSON.stringify(value ?? null));
    hash.update('\0');
  };
  add(options.type);
  if (options.type === 'none') return hash.digest('hex');
  if (options.type !== 'agent') add(options.uri);
  const tls = options.type === 'agent' ? options.connect : options.requestTls;
  for (const field of ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const)
    add(tls[field]);
  return hash.digest('hex');
}

/**
 * Makes `kc` reuse one connection pool per cluster and TLS identity. client-node 2.0.1 builds a new
 * undici Agent for every request (KubeConfig.createDispatcher, called from
 * applySecurityAuthentication), so every request paid a TLS handshake and left its own idle socket
 * behind: 50 sequential reads held 50 connections, and at 1,000 releases the worker and the
 * apiserver carried thousands. Auth headers (tokens, exec plugins) are still applied per request;
 * a changed certificate or key makes a new pool. test/unit/kube-connections.test.ts checks it.
 */
export function reuseConnections(kc: k8s.KubeConfig): k8s.KubeConfig {
  // createDispatcher is private in client-node's types; it is the one place to share the dispatcher.
  const patchable = kc as unknown as {
    createDispatcher(cluster: k8s.Cluster | null, agentOptions: AgentOptions): unknown;
    sharedDispatchers?: Map<string, unknown>;
  };
  if (patchable.sharedDispatchers) return kc;
  const create = patchable.createDispatcher.bind(kc);
  const made = new Map<string, unknown>();
  patchable.sharedDispatchers = made;
  patchable.createDispatcher = (cluster, agentOptions) => {
    const key = dispatcherKey(kc.createDispatcherOptions(cluster, agentOptions));
    if (!made.has(key)) made.set(key, create(cluster, agentOptions));
    return made.get(key);
  };
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
  reuseConnections(kc);
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
