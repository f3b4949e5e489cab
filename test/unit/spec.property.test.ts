// Property tests of the release spec schema: generated valid specs parse (and re-parse to
// themselves); a name made non-DNS always fails at its own path; a weight that does not increase
// always fails at that step's weight.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReleaseSpec, WEEKDAYS, type ReleaseSpecInput } from '../../workflows/spec/index.ts';

// ---- generators of valid parts ------------------------------------------------------------------

/** A DNS-1123 label of 1..maxLength characters. */
function dnsLabelArb(maxLength: number): fc.Arbitrary<string> {
  const inner = fc.string({
    unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'),
    maxLength: Math.max(0, maxLength - 2),
  });
  const end = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789');
  return fc.oneof(
    end,
    fc.tuple(end, inner, end).map(([a, b, c]) => a + b + c),
  );
}

const versionArb = fc
  .tuple(
    fc.constantFrom(...'vV0123456789'),
    fc.string({ unit: fc.constantFrom(...'abcXYZ0123456789-_.'), maxLength: 20 }),
    fc.constantFrom(...'0123456789abc'),
  )
  .map(([a, b, c]) => a + b + c);

const durationArb = fc
  .tuple(fc.integer({ min: 1, max: 90 }), fc.constantFrom('s', 'm', 'h'))
  .map(([n, unit]) => `${n}${unit}`);

/** A gate interval: at most a day. */
const intervalArb = fc
  .tuple(fc.integer({ min: 1, max: 24 }), fc.constantFrom('s', 'm', 'h'))
  .map(([n, unit]) => `${n}${unit}`);

const quantityArb = fc.oneof(
  fc.integer({ min: 0, max: 64 }),
  fc.integer({ min: 1, max: 64 }).map(String),
  fc.integer({ min: 1, max: 4000 }).map((n) => `${n}m`),
  fc
    .tuple(fc.integer({ min: 1, max: 512 }), fc.constantFrom('Ki', 'Mi', 'Gi', 'M', 'G'))
    .map(([n, s]) => `${n}${s}`),
);

/** 1..6 strictly increasing weights in 1..100. */
const weightsArb = fc
  .uniqueArray(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 6 })
  .map((ws) => [...ws].sort((a, b) => a - b));

type StepInput = NonNullable<ReleaseSpecInput['canary']>['steps'][number];

/** Canary steps: the weights in order, with approvals and pauses in between. */
const stepsArb = fc
  .tuple(
    weightsArb,
    fc.array(fc.tuple(fc.nat(), fc.constantFrom('approval', 'pause')), { maxLength: 2 }),
    fc.option(durationArb, { nil: undefined }),
  )
  .map(([weights, extras, hold]) => {
    const steps: StepInput[] = weights.map((weight) => (hold === undefined ? { weight } : { weight, hold }));
    for (const [at, kind] of extras) {
      const step: StepInput =
        kind === 'approval'
          ? { approval: { timeout: '24h', onTimeout: 'approve' } }
          : { pause: { duration: '1m' } };
      steps.splice(at % (steps.length + 1), 0, step);
    }
    return steps;
  });

type GateInput = NonNullable<ReleaseSpecInput['gates']>[number];

function gateArb(name: string): fc.Arbitrary<GateInput> {
  const common = fc.record(
    {
      interval: intervalArb,
      failureLimit: fc.nat(5),
      onNoData: fc.constantFrom('inconclusive' as const, 'fail' as const, 'pass' as const),
    },
    { requiredKeys: [] },
  );
  const pass = fc.oneof(
    fc.record({ min: fc.double({ min: -1, max: 0, noNaN: true }) }),
    fc.record({ max: fc.double({ min: 0, max: 1, noNaN: true }) }),
    fc.record({ min: fc.constant(0), max: fc.double({ min: 0, max: 10, noNaN: true }) }),
  );
  return fc.oneof(
    fc
      .tuple(common, pass)
      .map(([c, p]): GateInput => ({ name, ...c, prometheus: { query: 'sum(rate(x[1m]))' }, pass: p })),
    fc.tuple(common, pass).map(([c, p]): GateInput => ({
      name,
      ...c,
      http: { url: 'http://evaluator/score', value: '$.score' },
      pass: p,
    })),
    fc.tuple(common, pass).map(([c, p]): GateInput => ({ name, ...c, job: { image: 'checker:1' }, pass: p })),
    fc
      .tuple(
        common,
        fc.double({ min: 0.5, max: 0.9999, noNaN: true }),
        fc.constantFrom('higher' as const, 'lower' as const),
      )
      .map(([c, confidence, worseIf]): GateInput => ({
        name,
        ...c,
        judge: { test: 'mann-whitney', candidate: 'c', baseline: 'b', worseIf, confidence },
      })),
  );
}

const windowArb = fc.record({
  days: fc.subarray([...WEEKDAYS], { minLength: 1 }),
  from: fc
    .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
    .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`),
  to: fc.constantFrom('00:00', '06:30', '16:00', '24:00'),
  timezone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'),
});

const freezeArb = fc
  .tuple(
    fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2028-01-01T00:00:00Z') }),
    fc.integer({ min: 1, max: 30 * 86_400_000 }),
  )
  .map(([from, length]) => ({
    from: new Date(from).toISOString(),
    to: new Date(from + length).toISOString(),
  }));

/** A valid spec; `gateNames` are defined and a random subset is referenced by each stage. */
const specArb: fc.Arbitrary<ReleaseSpecInput> = fc
  .record({
    model: dnsLabelArb(56),
    namespace: dnsLabelArb(63),
    version: versionArb,
    image: fc.constantFrom(
      'triton:24.05',
      'registry.example.com/server@sha256:abababababababababababababababababababababababababababababababab',
    ),
    replicas: fc.integer({ min: 1, max: 20 }),
    requests: fc.record({ cpu: quantityArb, memory: quantityArb }, { requiredKeys: [] }),
    router: fc.constantFrom('gateway-api' as const, 'istio' as const, 'replica-ratio' as const),
    gateNames: fc.uniqueArray(dnsLabelArb(20), { maxLength: 4 }),
    shadow: fc.option(fc.record({ duration: durationArb, mirrorPercent: fc.integer({ min: 1, max: 100 }) }), {
      nil: undefined,
    }),
    steps: fc.option(stepsArb, { nil: undefined }),
    windows: fc.option(fc.array(windowArb, { maxLength: 2 }), { nil: undefined }),
    freezes: fc.option(fc.array(freezeArb, { maxLength: 2 }), { nil: undefined }),
    seed: fc.nat(),
  })
  .chain((r) =>
    fc.tuple(fc.constant(r), ...r.gateNames.map(gateArb)).map(([parts, ...gates]): ReleaseSpecInput => {
      const pick = (offset: number) =>
        parts.gateNames.filter((_, i) => ((parts.seed >> (i + offset)) & 1) === 1);
      // A judge cannot run in build.
      const judges = new Set(gates.filter((g) => 'judge' in g).map((g) => g.name));
      return {
        model: parts.model,
        namespace: parts.namespace,
        version: parts.version,
        serving: { image: parts.image, replicas: parts.replicas, resources: { requests: parts.requests } },
        traffic: { router: parts.router },
        build: { gates: pick(0).filter((name) => !judges.has(name)) },
        // Mirrored traffic needs a router that mirrors (gateway-api, istio).
        ...(parts.shadow && parts.router !== 'replica-ratio'
          ? { shadow: { ...parts.shadow, gates: pick(4) } }
          : {}),
        ...(parts.steps ? { canary: { steps: parts.steps, gates: pick(8) } } : {}),
        promote: {
          ...(parts.windows ? { windows: parts.windows } : {}),
          ...(parts.freezes ? { freezes: parts.freezes } : {}),
        },
        gates,
      };
    }),
  );

// ---- generators of invalid names ----------------------------------------------------------------

/** Strings that are not DNS-1123 labels (for a 63-character limit). */
const notDnsLabelArb = fc.oneof(
  fc.constant(''),
  dnsLabelArb(20).map((s) => `-${s}`),
  dnsLabelArb(20).map((s) => `${s}-`),
  dnsLabelArb(20).map((s) => s.toUpperCase() + 'X'),
  fc
    .tuple(dnsLabelArb(10), fc.constantFrom('_', '.', ' ', '/', ':', 'é', '*'), dnsLabelArb(10))
    .map(([a, c, b]) => a + c + b),
  fc.integer({ min: 64, max: 100 }).map((n) => 'a'.repeat(n)),
);

function issuePaths(input: unknown): string[] {
  const result = ReleaseSpec.safeParse(input);
  return result.success ? [] : result.error.issues.map((issue) => JSON.stringify(issue.path));
}

describe('ReleaseSpec properties', () => {
  it('parses every generated valid spec, and re-parses its output to the same spec', () => {
    fc.assert(
      fc.property(specArb, (input) => {
        const result = ReleaseSpec.safeParse(input);
        assert.ok(result.success, JSON.stringify(result.error?.issues));
        assert.deepEqual(ReleaseSpec.parse(result.data), result.data);
        assert.equal(result.data.model, input.model);
        if (result.data.traffic.router === 'gateway-api')
          assert.equal(result.data.traffic.route, input.model);
        if (result.data.traffic.router === 'istio') {
          assert.equal(result.data.traffic.virtualService, input.model);
          assert.deepEqual(result.data.traffic.hosts, [input.model]);
        }
        const weights = (result.data.canary?.steps ?? []).flatMap((s) => ('weight' in s ? [s.weight] : []));
        assert.deepEqual(
          weights,
          [...weights].sort((a, b) => a - b),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a non-DNS model, namespace or gate name at exactly that path', () => {
    fc.assert(
      fc.property(specArb, notDnsLabelArb, fc.nat(), (input, bad, which) => {
        const targets: Array<{ path: PropertyKey[]; set: (spec: ReleaseSpecInput) => void }> = [
          { path: ['model'], set: (s) => void (s.model = bad) },
          { path: ['namespace'], set: (s) => void (s.namespace = bad) },
          ...(input.gates ?? []).map((_, i) => ({
            path: ['gates', i, 'name'],
            set: (s: ReleaseSpecInput) => void (s.gates![i]!.name = bad),
          })),
        ];
        const target = targets[which % targets.length]!;
        const spec = structuredClone(input);
        target.set(spec);
        const paths = issuePaths(spec);
        assert.ok(
          paths.includes(JSON.stringify(target.path)),
          `expected an issue at ${JSON.stringify(target.path)}, got ${paths.join(' ')}`,
        );
        // Model and namespace problems are reported only there.
        if (target.path.length === 1) assert.deepEqual(paths, [JSON.stringify(target.path)]);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a canary weight that does not increase, at that step’s weight', () => {
    const arb = fc
      .tuple(
        specArb,
        stepsArb.filter((steps) => steps.filter((s) => 'weight' in s).length >= 2),
        fc.nat(),
        fc.nat(),
      )
      .map(([spec, steps, pickStep, pickWeight]) => {
        const weightIndexes = steps.flatMap((s, i) => ('weight' in s ? [i] : []));
        // A weight step after the first, set to at most the largest weight before it.
        const k = 1 + (pickStep % (weightIndexes.length - 1));
        const index = weightIndexes[k]!;
        const before = weightIndexes.slice(0, k).map((i) => (steps[i] as { weight: number }).weight);
        const weight = 1 + (pickWeight % Math.max(...before));
        const changed = steps.map((s, i) => (i === index ? { ...s, weight } : s));
        return { spec: { ...spec, canary: { steps: changed, gates: spec.canary?.gates ?? [] } }, index };
      });
    fc.assert(
      fc.property(arb, ({ spec, index }) => {
        assert.deepEqual(issuePaths(spec), [JSON.stringify(['canary', 'steps', index, 'weight'])]);
      }),
      { numRuns: 300 },
    );
  });
});
