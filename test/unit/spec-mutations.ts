// A seeded generator of hostile release specs: a valid base spec with one to three value mutations
// (a field set to an absurd number, a wrong type, an empty, blank, huge or unicode string, a
// quantity that is none, deep nesting; a field removed; an unknown key or map entry added).
// Shared by the pure fuzz (test/unit/spec.fuzz.test.ts) and the fuzz of the real API
// (test/e2e/spec-fuzz.test.ts). Not a test file itself.
import fc from 'fast-check';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';

/** The seed of every fuzz run: the same 2,000 mutations each time. */
export const FUZZ_SEED = 20_261_201;
export const FUZZ_RUNS = 2_000;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Valid specs covering every section. Each deploys on the local stack (no build gates, nothing a
 * build must wait for), so a mutation that stays valid is a spec the cluster should take.
 */
export function fuzzBases(namespace: string, model: string): ReleaseSpecInput[] {
  const serving = {
    image: 'registry.example.com/triton:24.05',
    modelUri: `s3://models/${model}/1`,
    port: 8000,
    replicas: 2,
    resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } },
    env: [{ name: 'LOG_LEVEL', value: 'info' }],
    labels: { team: 'risk' },
    annotations: { 'pod-ready.stage.kwok.x-k8s.io/delay': '200ms', 'sim.slipway.dev/error-rate': '0' },
    probes: {
      readiness: {
        httpGet: { path: '/v2/health/ready', port: 'http' },
        periodSeconds: 5,
        failureThreshold: 3,
      },
      liveness: { tcpSocket: {}, initialDelaySeconds: 10, successThreshold: 1 },
      startup: { httpGet: { path: '/v2/health/live' }, failureThreshold: 60, periodSeconds: 10 },
    },
    rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 },
    progressDeadlineSeconds: 120,
  };
  const gates: NonNullable<ReleaseSpecInput['gates']> = [
    {
      name: 'error-rate',
      prometheus: { query: 'sum(rate(errors[1m]))' },
      pass: { max: 0.01 },
      interval: '10s',
    },
    {
      name: 'latency',
      prometheus: {
        query: 'histogram_quantile(0.99, x)',
        range: { duration: '5m', step: '15s', aggregate: 'max' },
      },
      pass: { max: 0.5 },
      failureLimit: 1,
      consecutiveErrorLimit: 3,
    },
    {
      name: 'judge',
      judge: {
        test: 'mann-whitney',
        candidate: 'latency{version="{{version}}"}',
        baseline: 'latency{version="{{stableVersion}}"}',
        worseIf: 'higher',
        confidence: 0.95,
        tolerance: 0.1,
        minSamples: 10,
        range: { duration: '5m', step: '15s' },
      },
    },
    {
      name: 'quality',
      http: {
        url: 'http://evaluator.example/score?model={{model}}',
        method: 'POST',
        body: '{"version":"{{version}}"}',
        headers: { 'X-Team': 'risk', Authorization: { env: 'EVALUATOR_TOKEN' } },
        value: '$.scores[0].value',
        timeout: '30s',
      },
      pass: { min: 0.9 },
      onNoData: 'fail',
    },
    {
      name: 'offline',
      job: { image: 'checker:1', args: ['--fast'], timeout: '5m', backoffLimit: 1 },
      pass: { min: 0 },
    },
  ];
  return [
    { model, namespace, version: 'v1', serving: { image: 'registry.example.com/triton:24.05' } },
    {
      model,
      namespace,
      version: 'v2.1_rc-1',
      serving,
      traffic: {
        router: 'gateway-api',
        route: model,
        parentRefs: [{ name: 'gateway', namespace, port: 80 }],
      },
      shadow: { duration: '1m', mirrorPercent: 50, gates: ['error-rate'] },
      canary: {
        steps: [
          { weight: 5, hold: '30s' },
          { approval: { timeout: '1h', onTimeout: 'reject' } },
          { pause: { duration: '10s' } },
          { weight: 50, hold: '1m' },
        ],
        gates: ['error-rate', 'latency', 'judge', 'quality', 'offline'],
      },
      promote: {
        mode: 'handoff',
        approval: { required: true, timeout: '72h', onTimeout: 'reject' },
        windows: [{ days: ['Mon', 'Fri'], from: '22:00', to: '02:00', timezone: 'Europe/Berlin' }],
        freezes: [{ from: '2026-12-20T00:00:00Z', to: '2027-01-04T00:00:00+01:00', reason: 'year-end' }],
      },
      gates,
    },
    {
      model,
      namespace,
      version: 'v3',
      serving: { ...serving, resources: { requests: { cpu: 1, memory: '1Gi', 'example.com/foo': '0' } } },
      traffic: { router: 'replica-ratio' },
      build: { job: { image: 'eval:1', command: ['python'], args: ['eval.py'], timeout: '10m' } },
      canary: { steps: [{ weight: 100 }], gates: ['error-rate'] },
      promote: { mode: 'rolling' },
      gates: [gates[0]!],
    },
    {
      model,
      namespace,
      version: 'v4',
      serving: {
        port: 8000,
        resources: { requests: { cpu: '250m', memory: '512Mi' } },
        probes: { readiness: { httpGet: { path: '/health' }, periodSeconds: 5 } },
        container: 'server',
        template: {
          metadata: {
            labels: { team: 'llm' },
            annotations: { 'pod-ready.stage.kwok.x-k8s.io/delay': '200ms' },
          },
          spec: {
            initContainers: [
              {
                name: 'fetch',
                image: 'registry.example.com/fetch:1',
                args: ['--to=/models'],
                volumeMounts: [{ name: 'models', mountPath: '/models' }],
              },
            ],
            containers: [
              {
                name: 'server',
                image: 'registry.example.com/vllm:0.6',
                args: ['--model=/models/m', '--tensor-parallel-size=1'],
                ports: [{ name: 'http', containerPort: 8000 }],
                env: [{ name: 'LOG_LEVEL', value: 'info' }],
                volumeMounts: [{ name: 'models', mountPath: '/models', readOnly: true }],
                startupProbe: {
                  httpGet: { path: '/health', port: 'http' },
                  failureThreshold: 60,
                  periodSeconds: 10,
                },
              },
            ],
            volumes: [{ name: 'models', emptyDir: { sizeLimit: '1Gi' } }],
            terminationGracePeriodSeconds: 30,
          },
        },
      },
    },
    {
      model,
      namespace,
      version: 'v5',
      serving: { image: 'registry.example.com/triton:24.05', port: 9000 },
      traffic: {
        router: 'istio',
        virtualService: model,
        hosts: [model, `${model}.example.com`, '*.models.example.com'],
        gateways: ['istio-system/public', 'mesh'],
      },
      shadow: { duration: '1m', mirrorPercent: 25 },
      canary: {
        steps: [{ weight: 0, hold: '1m' }, { weight: 20 }],
        cohort: { headers: [{ name: 'x-variant', value: 'b' }] },
      },
      promote: { mode: 'handoff' },
    },
    {
      model,
      namespace,
      version: 'v6',
      serving: { ...serving, replicas: 1 },
      strategy: { type: 'recreate', gates: ['error-rate'], hold: '2m' },
      gates: gates.slice(0, 1),
    },
    {
      model,
      namespace,
      version: 'v7',
      serving,
      strategy: { type: 'rolling', gates: ['error-rate'] },
      promote: { verify: { duration: '5m', gates: ['error-rate'] } },
      gates: gates.slice(0, 1),
    },
    {
      model,
      namespace,
      version: 'v8',
      serving,
      shadow: { duration: '1m', mirrorPercent: 10 },
      strategy: {
        type: 'blueGreen',
        preview: {
          headers: [{ name: 'x-slipway-preview', value: 'yes' }],
          gates: ['error-rate'],
          hold: '1m',
        },
        scaleDownDelay: '10m',
        afterSwitch: { gates: ['error-rate'] },
      },
      gates: gates.slice(0, 1),
    },
  ];
}

// ---- hostile values -----------------------------------------------------------------------------

function nested(depth: number): Json {
  let value: Json = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { a: value } : [value];
  return value;
}

// prettier-ignore
const absurdNumbers = [
  0, 1, -1, 2, 1.5, 0.5, -0.5, 100, 101, 65535, 65536, 10_000, 10_001, 86_400, 86_401, 2_147_483_647,
  2_147_483_648, -2_147_483_649, 4_294_967_296, Number.MAX_SAFE_INTEGER, 2 ** 63, 1e308, -1e308, 5e-324, 1e-7,
];

// prettier-ignore
const absurdStrings = [
  '', ' ', '\t', '  x  ', 'fz', 'NaN', 'Infinity', '-Infinity', '-1', '0', '1', '1.', '.5', '1e400', '1e308',
  '1e16', '1E', '1Ei', '9007199254740993', '0.0000000001', '500m', '8Gi', '1.5Gi', '-1Gi', '25%', '100%',
  '101%', '0%', '-5%', '999%', '30s', '0s', '1ms', '5m1s', '24h1s', '366d', '367d', '99999999999999d', '1h30m',
  '1.5h', 'http', 'HTTP', 'a'.repeat(56), 'a'.repeat(57), 'a'.repeat(63), 'a'.repeat(64), 'a'.repeat(254),
  'x'.repeat(20_000), 'é', '日本語', '💥', 'a\u0000b', '\u202eevil', 'a b', 'a/b', '../etc/passwd', '{{model}}',
  '{{ stableVersion }}', '{{nope}}', '$', '$.x', "$['a']", '$..*', 'http://x', 'http://',
  'https://evaluator.example/score', 'ftp://x', 'Europe/Berlin', 'Mars/Olympus', '09:00', '9:00', '24:00',
  '24:01', '2026-12-20T00:00:00Z', '2026-12-20', 'true', 'null', 'gateway-api', 'replica-ratio', 'handoff',
  'rolling', 'recreate', 'blueGreen', 'canary', 'istio', 'GET', 'DELETE', 'nvidia.com/gpu', 'kubernetes.io/x', 'app.kubernetes.io/name',
  'slipway.dev/track', '__proto__', 'constructor', 'toString',
];

// prettier-ignore
const absurdKeys = [
  'nvidia.com/gpu', 'hugepages-2Mi', 'cpu', 'memory', 'ephemeral-storage', 'example.com/foo', 'x', 'unknown',
  '', ' ', 'a/b/c', 'UPPER', 'app.kubernetes.io/name', 'slipway.dev/track', '__proto__', 'constructor', '💥',
  'k'.repeat(300),
];

/** A value of the same type as `original`, often a plausible or edge value for its field. */
function sameType(original: Json | undefined): fc.Arbitrary<Json> {
  if (typeof original === 'number') {
    return fc.oneof(
      fc.constantFrom(...absurdNumbers),
      fc.integer({ min: 0, max: Math.max(10, original * 3) }),
      fc.constant(original + 1),
    );
  }
  if (typeof original === 'string') {
    return fc.oneof(
      fc.constantFrom(...absurdStrings),
      fc.constantFrom(
        original.toUpperCase(),
        `${original}0`,
        `${original}-x`,
        original.slice(1),
        ` ${original}`,
      ),
    );
  }
  if (typeof original === 'boolean') return fc.boolean();
  return hostileValue;
}

/** A value that is wrong for most fields and right for some: what the schema must survive. */
export const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...absurdNumbers) },
  { weight: 6, arbitrary: fc.constantFrom(...absurdStrings) },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 200 }) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom<Json>(true, false, null, [], {}, [{}], { a: 1 }, [null], ['x']) },
  { weight: 1, arbitrary: fc.constantFrom(nested(20), nested(200)) },
  {
    weight: 1,
    arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  },
);

// ---- mutations ----------------------------------------------------------------------------------

type Path = Array<string | number>;

/** Every path into `value` (objects and arrays; the root excluded). */
function pathsOf(value: Json, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [];
  const entries: Array<[string | number, Json]> = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])]);
}

function containerAt(root: Json, path: Path): Json | undefined {
  let node: Json | undefined = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = Array.isArray(node) ? node[key as number] : node[key as string];
  }
  return node;
}

export type Mutation =
  | { op: 'set'; path: Path; value: Json }
  | { op: 'delete'; path: Path }
  | { op: 'add'; path: Path; key: string; value: Json };

function applyMutation(root: Json, original: Mutation): void {
  // A copy of the value: fast-check shares constants (`[]`, `{}`), and adding one into itself (a
  // `set` then an `add` at the same place) would make the spec circular.
  const mutation = 'value' in original ? { ...original, value: structuredClone(original.value) } : original;
  const path = mutation.op === 'add' ? mutation.path : mutation.path.slice(0, -1);
  const parent = containerAt(root, path);
  if (parent === null || typeof parent !== 'object' || parent === undefined) return;
  if (mutation.op === 'add') {
    if (Array.isArray(parent)) parent.push(mutation.value);
    else
      Object.defineProperty(parent, mutation.key, {
        value: mutation.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return;
  }
  const key = mutation.path.at(-1)!;
  if (Array.isArray(parent)) {
    if (mutation.op === 'delete') parent.splice(key as number, 1);
    else parent[key as number] = mutation.value;
  } else if (mutation.op === 'delete') {
    delete parent[key as string];
  } else {
    Object.defineProperty(parent, key, {
      value: mutation.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
}

export interface SpecMutation {
  /** Which base of `fuzzBases` it started from. */
  base: number;
  mutations: Mutation[];
  /** The mutated spec, as JSON would carry it. */
  spec: Json;
}

/** A mutation of one of `fuzzBases(namespace, model)`: one to three changes, mostly of values. */
export function specMutation(namespace: string, model: string): fc.Arbitrary<SpecMutation> {
  const bases = fuzzBases(namespace, model) as unknown as Json[];
  return fc.nat(bases.length - 1).chain((base) => {
    const paths = pathsOf(bases[base]!);
    const containers: Path[] = [
      [],
      ...paths.filter((path) => typeof containerAt(bases[base]!, path) === 'object'),
    ];
    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      {
        weight: 8,
        arbitrary: fc.constantFrom(...paths).chain((path) =>
          fc.record({
            op: fc.constant('set' as const),
            path: fc.constant(path),
            value: fc.oneof(hostileValue, sameType(containerAt(bases[base]!, path))),
          }),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.record({ op: fc.constant('delete' as const), path: fc.constantFrom(...paths) }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          op: fc.constant('add' as const),
          path: fc.constantFrom(...containers),
          key: fc.constantFrom(...absurdKeys),
          value: hostileValue,
        }),
      },
    );
    return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations) => {
      const spec = structuredClone(bases[base]!);
      for (const m of mutations) applyMutation(spec, m);
      return { base, mutations, spec };
    });
  });
}

/** The seeded list of `count` mutations (the same every run). */
export function seededMutations(
  namespace: string,
  model: (index: number) => string,
  count = FUZZ_RUNS,
): SpecMutation[] {
  // One sample per index, so each mutation can carry its own model name (no two releases collide).
  const samples = fc.sample(specMutation(namespace, '__model__'), { seed: FUZZ_SEED, numRuns: count });
  return samples.map((sample, index) => {
    const text = JSON.stringify(sample.spec).replaceAll('__model__', model(index));
    return { ...sample, spec: JSON.parse(text) as Json };
  });
}

/** A short description of a mutation for failure messages (values cut to 80 characters). */
export function describeMutation(sample: SpecMutation): string {
  const show = (value: Json) => {
    const text = JSON.stringify(value) ?? 'undefined';
    return text.length > 80 ? `${text.slice(0, 80)}…(${text.length} chars)` : text;
  };
  return sample.mutations
    .map((m) =>
      m.op === 'set'
        ? `set ${m.path.join('.')} = ${show(m.value)}`
        : m.op === 'delete'
          ? `delete ${m.path.join('.')}`
          : `add ${[...m.path, m.key].join('.')} = ${show(m.value)}`,
    )
    .join('; ')
    .concat(` (base ${sample.base})`);
}
