// The Kubernetes API clients activities use, built once per worker from one KubeConfig.
import * as k8s from '@kubernetes/client-node';
import { httpStatusOf } from './cluster-errors.ts';

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

export function createKubernetesClients(kc: k8s.KubeConfig = loadKubeConfig()): KubernetesClients {
  return {
    kc,
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    core: kc.makeApiClient(k8s.CoreV1Api),
    batch: kc.makeApiClient(k8s.BatchV1Api),
    events: kc.makeApiClient(k8s.EventsV1Api),
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    autoscaling: kc.makeApiClient(k8s.AutoscalingV2Api),
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
