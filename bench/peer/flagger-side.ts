// Flagger's side of the peer scenario (routing istio only: Flagger has no replica-based canary): a
// Deployment `m` (Flagger's target; it makes `m-primary` of it and the Services `m`, `m-primary`,
// `m-canary`, the VirtualService `m` and two DestinationRules), a Canary with the istio provider
// and a MetricTemplate with the gate's query and threshold. Flagger advances, checks and rolls back
// on one timer, at most every 10 s (FLAGGER_INTERVAL_MS): each step holds one interval, the gate is
// checked once per interval, and a candidate is rolled back at the tick after its failed check.
// The query gets `>= 0 or vector(0)`: Flagger counts "no values" (and NaN) as a failed check, where
// Slipway's gate says onNoData: pass and Argo's template `len(result) == 0 ||`.
import * as k8s from '@kubernetes/client-node';
import { simulatedModel } from './istio-objects.ts';
import {
  BAD_ANNOTATIONS,
  BAD_STEP,
  FLAGGER_INTERVAL_MS,
  GATE,
  GOOD_STEPS,
  POD_READY_DELAY,
  REPLICAS,
  VERSIONS,
  gateQuery,
} from './scenario.ts';

const GROUP = { group: 'flagger.app', version: 'v1beta1' } as const;
type Steps = ReadonlyArray<{ weight: number; holdMs: number }>;

export const flaggerTemplateName = (model: string, version: string) => `error-rate-${model}-${version}`;

/** The gate's query as Flagger runs it: no data (or NaN) reads as 0, as with onNoData: pass. */
export function flaggerQuery(namespace: string, model: string, version: string): string {
  return `(${gateQuery(namespace, model, version)}) >= 0 or vector(0)`;
}

export function metricTemplate(namespace: string, model: string, version: string): object {
  return {
    apiVersion: `${GROUP.group}/${GROUP.version}`,
    kind: 'MetricTemplate',
    metadata: { name: flaggerTemplateName(model, version), namespace },
    spec: {
      provider: { type: 'prometheus', address: process.env.PROMETHEUS_URL },
      query: flaggerQuery(namespace, model, version),
    },
  };
}

export function canary(namespace: string, model: string, version: string, steps: Steps): object {
  return {
    apiVersion: `${GROUP.group}/${GROUP.version}`,
    kind: 'Canary',
    metadata: { name: model, namespace },
    spec: {
      provider: 'istio',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: model },
      progressDeadlineSeconds: 60,
      service: {
        port: 8000,
        // Labelled so that the simulator serves them as the model's tracks (pod-groups.ts).
        primary: { labels: simulatedModel(model) },
        canary: { labels: simulatedModel(model) },
      },
      analysis: {
        interval: `${FLAGGER_INTERVAL_MS / 1000}s`,
        threshold: 1,
        stepWeights: steps.map((s) => s.weight),
        metrics: [
          {
            name: 'error-rate',
            templateRef: { name: flaggerTemplateName(model, version) },
            thresholdRange: { max: GATE.max },
            interval: `${GATE.intervalMs / 1000}s`,
          },
        ],
      },
    },
  };
}

export function deployment(
  namespace: string,
  model: string,
  version: string,
  annotations: Record<string, string>,
): k8s.V1Deployment {
  return {
    metadata: { name: model, namespace, labels: { app: model } },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: { app: model } },
      template: {
        metadata: {
          labels: { app: model, ...simulatedModel(model), 'app.kubernetes.io/version': version },
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
    },
  };
}

interface CanaryStatus {
  phase?: string;
  canaryWeight?: number;
  failedChecks?: number;
}

export interface CanaryTransitions {
  /** When each (phase, canaryWeight) was first seen, in order. */
  seen: Array<{ at: number; phase: string; weight: number }>;
  stop(): void;
}

/** Watches the Canary's status: every new (phase, canaryWeight) with when it was first seen. */
export async function watchCanary(
  kc: k8s.KubeConfig,
  namespace: string,
  model: string,
): Promise<CanaryTransitions> {
  const seen: CanaryTransitions['seen'] = [];
  const controller = await new k8s.Watch(kc).watch(
    `/apis/${GROUP.group}/${GROUP.version}/namespaces/${namespace}/canaries`,
    { fieldSelector: `metadata.name=${model}` },
    (_phase, obj: { status?: CanaryStatus }) => {
      const phase = obj.status?.phase ?? '';
      const weight = obj.status?.canaryWeight ?? 0;
      const last = seen[seen.length - 1];
      if (!last || last.phase !== phase || last.weight !== weight)
        seen.push({ at: Date.now(), phase, weight });
    },
    () => undefined,
  );
  return { seen, stop: () => controller.abort() };
}

/**
 * Each step's duration less its hold (one analysis interval), from the Canary's transitions: a step
 * starts when its weight is first seen and ends when the next one's is, or the promotion's.
 */
export function flaggerOverheads(seen: CanaryTransitions['seen'], steps: Steps = GOOD_STEPS): number[] {
  const starts = steps.map((s) => seen.find((t) => t.phase === 'Progressing' && t.weight === s.weight)?.at);
  const promoting = seen.find((t) => t.phase === 'Promoting')?.at;
  return starts.map((start, k) => {
    const end = k + 1 < starts.length ? starts[k + 1] : promoting;
    return start !== undefined && end !== undefined ? end - start - FLAGGER_INTERVAL_MS : NaN;
  });
}

export class FlaggerSide {
  readonly custom: k8s.CustomObjectsApi;
  readonly apps: k8s.AppsV1Api;
  readonly namespace: string;
  constructor(kc: k8s.KubeConfig, namespace: string) {
    this.namespace = namespace;
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.apps = kc.makeApiClient(k8s.AppsV1Api);
  }

  async status(model: string): Promise<CanaryStatus> {
    const c = (await this.custom.getNamespacedCustomObject({
      ...GROUP,
      namespace: this.namespace,
      plural: 'canaries',
      name: model,
    })) as { status?: CanaryStatus };
    return c.status ?? {};
  }

  /** Waits until the Canary's phase is one of `phases` (polled every 100 ms). */
  async until(model: string, phases: string[], ms = 180_000): Promise<CanaryStatus> {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = await this.status(model);
      if (phases.includes(s.phase ?? '')) return s;
      if (Date.now() > deadline)
        throw new Error(`flagger ${model}: not ${phases.join('/')}: ${JSON.stringify(s)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async createTemplate(model: string, version: string): Promise<void> {
    await this.custom.createNamespacedCustomObject({
      ...GROUP,
      namespace: this.namespace,
      plural: 'metrictemplates',
      body: metricTemplate(this.namespace, model, version),
    });
  }

  /** The model at v1: the Deployment and its Canary, initialised (primary ready, VirtualService made). */
  async create(model: string): Promise<void> {
    const ns = this.namespace;
    await this.createTemplate(model, VERSIONS.stable);
    await this.apps.createNamespacedDeployment({
      namespace: ns,
      body: deployment(ns, model, VERSIONS.stable, {}),
    });
    await this.custom.createNamespacedCustomObject({
      ...GROUP,
      namespace: ns,
      plural: 'canaries',
      body: canary(ns, model, VERSIONS.stable, GOOD_STEPS),
    });
    await this.until(model, ['Initialized']);
  }

  /**
   * Points the Canary's analysis at the candidate's query and steps, then changes the Deployment's
   * pod template: the update Flagger detects (at its next tick). Returns when the template changed.
   */
  async release(model: string, version: string, bad: boolean): Promise<number> {
    const ns = this.namespace;
    await this.createTemplate(model, version);
    const spec = (
      canary(ns, model, version, bad ? [BAD_STEP] : GOOD_STEPS) as { spec: { analysis: unknown } }
    ).spec.analysis;
    await this.custom.patchNamespacedCustomObject(
      {
        ...GROUP,
        namespace: ns,
        plural: 'canaries',
        name: model,
        body: [{ op: 'replace', path: '/spec/analysis', value: spec }],
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    const template = deployment(ns, model, version, bad ? BAD_ANNOTATIONS : {}).spec?.template;
    const at = Date.now();
    await this.apps.patchNamespacedDeployment(
      { namespace: ns, name: model, body: [{ op: 'replace', path: '/spec/template', value: template }] },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    return at;
  }
}
