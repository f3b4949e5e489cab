// Argo Rollouts' side of the peer scenario: a Rollout and an AnalysisTemplate with the gate's query,
// interval and threshold, run as background analysis. Routing `replicas`: a canary with no traffic
// router and a plain Service in front of its pods (labelled for the simulator, pod-groups.ts).
// Routing `istio`: trafficRouting.istio with stableService/canaryService and the VirtualService
// they are destinations of (istio-objects.ts), which Argo's controller moves.
import * as k8s from '@kubernetes/client-node';
import { trackServiceName } from '../../activities/kubernetes/labels.ts';
import {
  ARGO_ROUTE,
  argoTrackServices,
  argoVirtualService,
  simulatedModel,
  VS_API,
} from './istio-objects.ts';
import {
  BAD_ANNOTATIONS,
  BAD_STEP,
  GATE,
  GOOD_STEPS,
  POD_READY_DELAY,
  REPLICAS,
  VERSIONS,
  gateQuery,
  type Routing,
} from './scenario.ts';

const GROUP = { group: 'argoproj.io', version: 'v1alpha1' } as const;
/** One AnalysisTemplate per model (its query names the model). */
const templateName = (model: string) => `error-rate-${model}`;

interface RolloutStatus {
  phase?: string;
  abort?: boolean;
  currentStepIndex?: number;
  currentPodHash?: string;
  stableRS?: string;
  observedGeneration?: string;
  message?: string;
}
interface RolloutObject {
  metadata?: { generation?: number };
  status?: RolloutStatus;
}

export function argoSteps(steps: ReadonlyArray<{ weight: number; holdMs: number }>) {
  return steps.flatMap((s) => [{ setWeight: s.weight }, { pause: { duration: `${s.holdMs / 1000}s` } }]);
}

export function analysisTemplate(namespace: string, model: string): object {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name: templateName(model), namespace },
    spec: {
      args: [{ name: 'version' }],
      metrics: [
        {
          name: 'error-rate',
          interval: `${GATE.intervalMs / 1000}s`,
          failureLimit: 0,
          // As Slipway's gate with onNoData: pass (the candidate may not have served yet).
          successCondition: `len(result) == 0 || result[0] <= ${GATE.max}`,
          provider: {
            prometheus: {
              address: process.env.PROMETHEUS_URL,
              query: gateQuery(namespace, model, '{{args.version}}'),
            },
          },
        },
      ],
    },
  };
}

/** How the Rollout's canary routes: nothing for `replicas`; the VirtualService's route for `istio`. */
export function argoTrafficRouting(model: string, routing: Routing): object {
  if (routing === 'replicas') return {};
  return {
    stableService: trackServiceName(model, 'stable'),
    canaryService: trackServiceName(model, 'canary'),
    trafficRouting: { istio: { virtualService: { name: model, routes: [ARGO_ROUTE] } } },
  };
}

export function rollout(
  namespace: string,
  model: string,
  version: string,
  steps: ReadonlyArray<{ weight: number; holdMs: number }>,
  annotations: Record<string, string>,
  routing: Routing = 'replicas',
): object {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: model, namespace },
    spec: {
      replicas: REPLICAS,
      revisionHistoryLimit: 2,
      selector: { matchLabels: { app: model } },
      template: {
        metadata: {
          labels: {
            app: model,
            'app.kubernetes.io/name': model,
            'app.kubernetes.io/version': version,
            'sim.slipway.dev/traffic': 'pods',
          },
          annotations: { ...POD_READY_DELAY, ...annotations },
        },
        spec: {
          containers: [
            {
              name: 'server',
              image: `registry.example.com/triton:${version}`,
              resources: { requests: { cpu: '500m', memory: '1Gi' } },
            },
          ],
        },
      },
      strategy: {
        canary: {
          ...argoTrafficRouting(model, routing),
          steps: argoSteps(steps),
          analysis: {
            templates: [{ templateName: templateName(model) }],
            args: [{ name: 'version', value: version }],
          },
        },
      },
    },
  };
}

export function service(namespace: string, model: string): k8s.V1Service {
  return {
    metadata: { name: model, namespace, labels: simulatedModel(model) },
    spec: { selector: { app: model }, ports: [{ port: 8000 }] },
  };
}

export interface StepTimes {
  /** When each step index was first seen, ms. */
  seen: Map<number, number>;
  status(): RolloutStatus | undefined;
  stop(): void;
}

/** Watches the Rollout's status: when each currentStepIndex of the current revision was first seen. */
export async function watchRollout(kc: k8s.KubeConfig, namespace: string, model: string): Promise<StepTimes> {
  const seen = new Map<number, number>();
  let last: RolloutStatus | undefined;
  let hash: string | undefined;
  const controller = await new k8s.Watch(kc).watch(
    `/apis/argoproj.io/v1alpha1/namespaces/${namespace}/rollouts`,
    { fieldSelector: `metadata.name=${model}` },
    (_phase, obj: RolloutObject) => {
      const s = obj.status;
      last = s;
      if (!s || s.currentPodHash === undefined) return;
      if (hash !== undefined && s.currentPodHash !== hash) seen.clear();
      hash = s.currentPodHash;
      const i = s.currentStepIndex;
      if (i !== undefined && !seen.has(i)) seen.set(i, Date.now());
    },
    () => undefined,
  );
  return { seen, status: () => last, stop: () => controller.abort() };
}

export class ArgoSide {
  readonly custom: k8s.CustomObjectsApi;
  readonly core: k8s.CoreV1Api;
  readonly kc: k8s.KubeConfig;
  readonly namespace: string;
  readonly routing: Routing;
  constructor(kc: k8s.KubeConfig, namespace: string, routing: Routing) {
    this.kc = kc;
    this.namespace = namespace;
    this.routing = routing;
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  private async get(model: string): Promise<RolloutObject> {
    return (await this.custom.getNamespacedCustomObject({
      ...GROUP,
      namespace: this.namespace,
      plural: 'rollouts',
      name: model,
    })) as RolloutObject;
  }

  /** Waits until the Rollout's status is for its generation and `done` holds. */
  async until(model: string, what: string, done: (s: RolloutStatus) => boolean, ms = 180_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const r = await this.get(model);
      const s = r.status ?? {};
      if (s.observedGeneration === String(r.metadata?.generation ?? '') && done(s)) return s;
      if (Date.now() > deadline) throw new Error(`argo ${model}: ${what}: ${JSON.stringify(s)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The model at v1 (no steps on a first deployment), healthy. */
  async create(model: string): Promise<void> {
    const ns = this.namespace;
    if (this.routing === 'replicas') {
      await this.core.createNamespacedService({ namespace: ns, body: service(ns, model) });
    } else {
      for (const body of argoTrackServices(ns, model))
        await this.core.createNamespacedService({ namespace: ns, body });
      await this.custom.createNamespacedCustomObject({
        ...VS_API,
        namespace: ns,
        body: argoVirtualService(ns, model),
      });
    }
    await this.custom.createNamespacedCustomObject({
      ...GROUP,
      namespace: ns,
      plural: 'analysistemplates',
      body: analysisTemplate(ns, model),
    });
    await this.custom.createNamespacedCustomObject({
      ...GROUP,
      namespace: ns,
      plural: 'rollouts',
      body: rollout(ns, model, VERSIONS.stable, GOOD_STEPS, {}, this.routing),
    });
    await this.until(model, 'v1 healthy', (s) => s.phase === 'Healthy');
  }

  /** Replaces the Rollout's spec with the candidate's: the update that starts a rollout. */
  async release(model: string, version: string, bad: boolean): Promise<number> {
    const steps = bad ? [BAD_STEP] : GOOD_STEPS;
    const annotations = bad ? BAD_ANNOTATIONS : {};
    const body = rollout(this.namespace, model, version, steps, annotations, this.routing) as {
      spec: unknown;
    };
    const at = Date.now();
    await this.custom.patchNamespacedCustomObject(
      {
        ...GROUP,
        namespace: this.namespace,
        plural: 'rollouts',
        name: model,
        body: [{ op: 'replace', path: '/spec', value: body.spec }],
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    return at;
  }
}
