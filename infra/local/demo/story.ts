// The demo's release specs: fraud-detector on GPUs, with an offline accuracy gate (an HTTP
// evaluator the demo runs), shadow, a canary with a human approval, and an error-rate gate.
import type { ReleaseSpecInput } from '../../../workflows/spec/index.ts';

export const DEMO_NAMESPACE = 'slipway-demo';
export const DEMO_MODEL = 'fraud-detector';

/** The evaluator's offline accuracy per version (v3 scores well offline and still fails live). */
export const ACCURACY: Record<string, number> = { v1: 0.931, v2: 0.936, v3: 0.94 };

const ERROR_RATE =
  '(sum(rate(model_requests_total{namespace="{{namespace}}",model="{{model}}",version="{{version}}",code=~"5.."}[3s])) or vector(0))' +
  ' / sum(rate(model_requests_total{namespace="{{namespace}}",model="{{model}}",version="{{version}}"}[3s]))';

export function demoSpec(
  version: string,
  evaluatorUrl: string,
  annotations: Record<string, string> = {},
): ReleaseSpecInput {
  return {
    model: DEMO_MODEL,
    namespace: DEMO_NAMESPACE,
    version,
    serving: {
      image: `registry.example.com/fraud-detector:${version}`,
      modelUri: `s3://models/fraud-detector/${version}`,
      // 3 + 3 candidate + 1 surge pod = 7 of the local cluster's 8 GPUs.
      replicas: 3,
      resources: { requests: { cpu: '2', memory: '8Gi', 'nvidia.com/gpu': '1' } },
      annotations: {
        'pod-ready.stage.kwok.x-k8s.io/delay': '1s',
        'sim.slipway.dev/latency-ms': '40',
        ...annotations,
      },
      progressDeadlineSeconds: 60,
    },
    traffic: { router: 'gateway-api' },
    build: { gates: ['accuracy'] },
    shadow: { duration: '5s', mirrorPercent: 100, gates: ['error-rate'] },
    canary: {
      steps: [
        { weight: 10, hold: '5s' },
        { weight: 25, hold: '5s' },
        { approval: { timeout: '10m' } },
        { weight: 50, hold: '5s' },
      ],
      gates: ['error-rate'],
    },
    gates: [
      {
        name: 'error-rate',
        prometheus: { query: ERROR_RATE },
        pass: { max: 0.02 },
        interval: '3s',
        onNoData: 'pass',
      },
      {
        name: 'accuracy',
        http: { url: `${evaluatorUrl}/score?model={{model}}&version={{version}}`, value: '$.accuracy' },
        pass: { min: 0.9 },
        regression: { better: 'higher', tolerance: 0.005 },
        interval: '2s',
      },
    ],
  };
}
