// Release specs and cluster checks shared by the integration and e2e tests.
import type * as k8s from '@kubernetes/client-node';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';

/** The candidate's 5xx ratio over 5 s; `or vector(0)` makes "no errors" a 0, not "no data". */
export const ERROR_RATE_QUERY =
  '(sum(rate(model_requests_total{namespace="{{namespace}}",model="{{model}}",version="{{version}}",code=~"5.."}[2s])) or vector(0))' +
  ' / sum(rate(model_requests_total{namespace="{{namespace}}",model="{{model}}",version="{{version}}"}[2s]))';

export interface FixtureOptions {
  namespace: string;
  model: string;
  version: string;
  annotations?: Record<string, string>;
  steps?: NonNullable<ReleaseSpecInput['canary']>['steps'];
  shadow?: ReleaseSpecInput['shadow'];
  progressDeadlineSeconds?: number;
  promote?: ReleaseSpecInput['promote'];
}

export function releaseSpec(o: FixtureOptions): ReleaseSpecInput {
  return {
    model: o.model,
    namespace: o.namespace,
    version: o.version,
    serving: {
      image: `registry.example.com/triton:${o.version}`,
      modelUri: `s3://models/${o.model}/${o.version}`,
      replicas: 2,
      resources: { requests: { cpu: '500m', memory: '1Gi' } },
      annotations: { 'pod-ready.stage.kwok.x-k8s.io/delay': '500ms', ...o.annotations },
      progressDeadlineSeconds: o.progressDeadlineSeconds ?? 60,
    },
    traffic: { router: 'gateway-api' },
    ...(o.shadow ? { shadow: o.shadow } : {}),
    canary: {
      steps: o.steps ?? [
        { weight: 20, hold: '3s' },
        { weight: 50, hold: '3s' },
      ],
      gates: ['error-rate'],
    },
    ...(o.promote ? { promote: o.promote } : {}),
    gates: [
      {
        name: 'error-rate',
        prometheus: { query: ERROR_RATE_QUERY },
        pass: { max: 0.05 },
        interval: '2s',
        // Right after weights change the candidate may not have served a request yet.
        onNoData: 'pass',
      },
    ],
  };
}

export interface ClusterState {
  stableVersion: string | undefined;
  stableImage: string | undefined;
  candidateExists: boolean;
  weights: { stable: number; canary: number } | undefined;
  mirror: boolean;
}

export async function clusterState(
  core: { apps: k8s.AppsV1Api; custom: k8s.CustomObjectsApi },
  namespace: string,
  model: string,
): Promise<ClusterState> {
  const stable = await core.apps.readNamespacedDeployment({ name: model, namespace }).catch(() => undefined);
  const candidate = await core.apps
    .readNamespacedDeployment({ name: `${model}-canary`, namespace })
    .catch(() => undefined);
  const route = (await core.custom
    .getNamespacedCustomObject({
      group: 'gateway.networking.k8s.io',
      version: 'v1',
      namespace,
      plural: 'httproutes',
      name: model,
    })
    .catch(() => undefined)) as
    | {
        spec?: {
          rules?: Array<{ backendRefs?: Array<{ name: string; weight?: number }>; filters?: unknown[] }>;
        };
      }
    | undefined;
  const rule = route?.spec?.rules?.[0];
  const weightOf = (name: string) => rule?.backendRefs?.find((b) => b.name === name)?.weight ?? 0;
  return {
    stableVersion: stable?.spec?.template.metadata?.labels?.['app.kubernetes.io/version'],
    stableImage: stable?.spec?.template.spec?.containers[0]?.image,
    candidateExists: candidate !== undefined && candidate.metadata?.deletionTimestamp === undefined,
    weights: rule ? { stable: weightOf(`${model}-stable`), canary: weightOf(`${model}-canary`) } : undefined,
    mirror: (rule?.filters?.length ?? 0) > 0,
  };
}
