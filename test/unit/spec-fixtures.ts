// A valid release spec exercising every section, and ways to derive bad specs from it by one
// change. Shared by the spec tests (not a test file itself).
import assert from 'node:assert/strict';
import { ReleaseSpec, type ReleaseSpecInput } from '../../workflows/spec/index.ts';

export const minimal = {
  model: 'fraud-detector',
  namespace: 'ml-serving',
  version: 'v2',
  serving: { image: 'triton:24.05' },
} satisfies ReleaseSpecInput;

/** A spec exercising every section, valid. Tests derive bad specs from it by one change. */
export function full(): ReleaseSpecInput {
  return {
    ...minimal,
    serving: {
      image: 'triton:24.05',
      replicas: 2,
      resources: {
        requests: { cpu: '2', memory: '8Gi', 'nvidia.com/gpu': '1' },
        limits: { memory: '8Gi', 'nvidia.com/gpu': '1' },
      },
      probes: { readiness: { httpGet: { path: '/ready', port: 8000 } }, liveness: { tcpSocket: {} } },
      env: [{ name: 'LOG_LEVEL', value: 'info' }],
      labels: { team: 'risk' },
      annotations: { 'sim.slipway.dev/error-rate': '0.001' },
    },
    build: { job: { image: 'eval:1' }, gates: ['accuracy'] },
    shadow: { duration: '10m', gates: ['error-rate'] },
    canary: {
      steps: [
        { weight: 5, hold: '5m' },
        { weight: 25, hold: '10m' },
        { approval: { timeout: '24h' } },
        { weight: 50, hold: '10m' },
      ],
      gates: ['error-rate', 'latency'],
    },
    promote: {
      approval: { required: true, timeout: '72h' },
      windows: [{ days: ['Mon', 'Tue'], from: '09:00', to: '16:00', timezone: 'Europe/Berlin' }],
      freezes: [{ from: '2026-12-20T00:00:00Z', to: '2027-01-04T00:00:00Z' }],
    },
    gates: [
      { name: 'error-rate', prometheus: { query: 'errors' }, pass: { max: 0.01 } },
      { name: 'latency', judge: { test: 'mann-whitney', candidate: 'c', baseline: 'b', worseIf: 'higher' } },
      { name: 'accuracy', http: { url: 'http://evaluator/score', value: '$.accuracy' }, pass: { min: 0.9 } },
    ],
  };
}

export function failure(input: unknown) {
  const result = ReleaseSpec.safeParse(input);
  if (result.success) assert.fail(`expected the spec to be rejected: ${JSON.stringify(input)}`);
  return result.error.issues;
}

/** The paths of all issues (fails the test when parsing succeeds). */
export function issuePaths(input: unknown): PropertyKey[][] {
  return failure(input).map((issue) => issue.path);
}

export function messages(input: unknown): string[] {
  return failure(input).map((issue) => issue.message);
}

type Container = Record<PropertyKey, unknown>;

/** A deep copy of full() with one change at `path`. */
function edit(path: readonly PropertyKey[], change: (parent: Container, key: PropertyKey) => void): unknown {
  const spec: unknown = structuredClone(full());
  let node = spec;
  for (const key of path.slice(0, -1)) node = (node as Container)[key];
  const last = path.at(-1);
  assert.ok(
    last !== undefined && typeof node === 'object' && node !== null,
    `no container at ${String(path)}`,
  );
  change(node as Container, last);
  return spec;
}
export const set = (path: readonly PropertyKey[], value: unknown) =>
  edit(path, (parent, key) => void (parent[key] = value));
export const remove = (path: readonly PropertyKey[]) => edit(path, (parent, key) => void delete parent[key]);
export const push = (path: readonly PropertyKey[], value: unknown) =>
  edit(path, (parent, key) => void (parent[key] as unknown[]).push(value));
