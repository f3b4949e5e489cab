// The istio router without a cluster: the spec's traffic shape (defaults, refusals at exact paths),
// the VirtualService Slipway renders, the state it reads back, and the simulator's reading of it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  renderVirtualService,
  ROUTE_NAMES,
  virtualServiceState,
} from '../../activities/traffic/istio-manifests.ts';
import { renderRoute, routeResource } from '../../activities/traffic/route-object.ts';
import { DEFAULT_BEHAVIOUR } from '../../infra/local/simulator/behaviour.ts';
import { groupModels, type DeploymentView } from '../../infra/local/simulator/objects.ts';
import { computeSplit } from '../../infra/local/simulator/traffic-split.ts';
import { serviceOfHost, virtualServiceView } from '../../infra/local/simulator/virtual-service.ts';
import { ReleaseSpec, routeKind, routeName, type ReleaseSpecInput } from '../../workflows/spec/index.ts';
import { issuePaths, messages, minimal } from './spec-fixtures.ts';

const istio = (traffic: Record<string, unknown> = {}, rest: Partial<ReleaseSpecInput> = {}) =>
  ({ ...minimal, ...rest, traffic: { router: 'istio', ...traffic } }) as ReleaseSpecInput;

const cohort = { headers: [{ name: 'X-Model-Variant', value: 'b' }] };

describe('traffic.router istio: the spec', () => {
  it('fills in the VirtualService name and the host clients call (the model), and re-parses to itself', () => {
    const spec = ReleaseSpec.parse(istio());
    assert.deepEqual(spec.traffic, {
      router: 'istio',
      virtualService: 'fraud-detector',
      hosts: ['fraud-detector'],
    });
    assert.deepEqual(ReleaseSpec.parse(spec), spec);
    assert.equal(routeName(spec), 'fraud-detector');
    assert.equal(routeKind(spec), 'VirtualService');
    const named = ReleaseSpec.parse(
      istio({
        virtualService: 'fd',
        hosts: ['fraud.example.com', '*.internal.example.com', 'fraud-detector.ml-serving.svc.cluster.local'],
        gateways: ['istio-system/public-gw', 'mesh'],
      }),
    );
    assert.equal(routeName(named), 'fd');
    assert.deepEqual(named.traffic, {
      router: 'istio',
      virtualService: 'fd',
      hosts: ['fraud.example.com', '*.internal.example.com', 'fraud-detector.ml-serving.svc.cluster.local'],
      gateways: ['istio-system/public-gw', 'mesh'],
    });
    // The catch-all host is Istio's for a VirtualService bound to gateways only.
    assert.equal(ReleaseSpec.safeParse(istio({ hosts: ['*'], gateways: ['public-gw'] })).success, true);
  });

  const refused: Array<[string, ReleaseSpecInput, PropertyKey[][], RegExp]> = [
    [
      'a bad VirtualService name',
      istio({ virtualService: 'Fraud_VS' }),
      [['traffic', 'virtualService']],
      /DNS-1123 label/,
    ],
    [
      'a URL for a host',
      istio({ hosts: ['http://fraud'] }),
      [['traffic', 'hosts', 0]],
      /lower-case DNS name/,
    ],
    [
      'an upper-case host',
      istio({ hosts: ['Fraud.example.com'] }),
      [['traffic', 'hosts', 0]],
      /lower-case DNS name/,
    ],
    [
      'an empty label',
      istio({ hosts: ['fraud..example.com'] }),
      [['traffic', 'hosts', 0]],
      /lower-case DNS name/,
    ],
    [
      'a wildcard inside',
      istio({ hosts: ['fraud.*.com'] }),
      [['traffic', 'hosts', 0]],
      /lower-case DNS name/,
    ],
    [
      'a label of 64 characters',
      istio({ hosts: [`${'a'.repeat(64)}.com`] }),
      [['traffic', 'hosts', 0]],
      /DNS name/,
    ],
    [
      'a host of 254 characters',
      istio({ hosts: [Array.from({ length: 51 }, () => 'abcd').join('.')] }),
      [['traffic', 'hosts', 0]],
      /at most 253/,
    ],
    ['no host', istio({ hosts: [] }), [['traffic', 'hosts']], /at least one host/],
    ['a host twice', istio({ hosts: ['a', 'b', 'a'] }), [['traffic', 'hosts', 2]], /a is listed twice/],
    [
      '* for the mesh',
      istio({ hosts: ['*'] }),
      [['traffic', 'hosts', 0]],
      /only for a VirtualService bound to gateways/,
    ],
    [
      '* with mesh among the gateways',
      istio({ hosts: ['*'], gateways: ['public-gw', 'mesh'] }),
      [['traffic', 'hosts', 0]],
      /not to mesh/,
    ],
    [
      'a gateway path of three parts',
      istio({ gateways: ['a/b/c'] }),
      [['traffic', 'gateways', 0]],
      /<namespace>\/<gateway>/,
    ],
    [
      'a bad gateway namespace',
      istio({ gateways: ['Istio_System/gw'] }),
      [['traffic', 'gateways', 0]],
      /mesh, a Gateway/,
    ],
    ['no gateway', istio({ gateways: [] }), [['traffic', 'gateways']], /at least one gateway/],
    ['a gateway twice', istio({ gateways: ['mesh', 'mesh'] }), [['traffic', 'gateways', 1]], /listed twice/],
    ['a gateway-api field', istio({ route: 'fd' }), [['traffic']], /Unrecognized key: "route"/],
  ];
  for (const [what, spec, paths, message] of refused) {
    it(`refuses ${what} at its path`, () => {
      assert.deepEqual(issuePaths(spec), paths);
      assert.match(messages(spec).join('; '), message);
    });
  }

  it('names istio among the routers, and is refused nothing the router can do', () => {
    assert.match(
      messages({ ...minimal, traffic: { router: 'linkerd' } })[0]!,
      /Expected 'gateway-api' \| 'istio' \| 'replica-ratio'/,
    );
    const everything = istio(
      {},
      {
        serving: { ...minimal.serving, deploymentRef: 'fraud-detector' },
        shadow: { duration: '5m', mirrorPercent: 25 },
        canary: { steps: [{ weight: 0, hold: '1m' }, { weight: 20 }], cohort },
        promote: { mode: 'handoff' },
      },
    );
    const parsed = ReleaseSpec.safeParse(everything);
    assert.equal(parsed.success, true, parsed.success ? '' : JSON.stringify(parsed.error.issues));
  });
});

describe('traffic.router istio: the VirtualService', () => {
  const spec = ReleaseSpec.parse(
    istio({ gateways: ['istio-system/public-gw'] }, { canary: { steps: [{ weight: 20 }], cohort } }),
  );

  it('has weighted destinations on the per-track Services at the serving port, no mirror by default', () => {
    const vs = renderVirtualService(spec, { weights: { stable: 80, canary: 20 }, mirrorPercent: null });
    assert.deepEqual(vs, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: {
        name: 'fraud-detector',
        namespace: 'ml-serving',
        labels: { 'app.kubernetes.io/name': 'fraud-detector', 'app.kubernetes.io/managed-by': 'slipway' },
      },
      spec: {
        hosts: ['fraud-detector'],
        gateways: ['istio-system/public-gw'],
        http: [
          {
            name: ROUTE_NAMES.weights,
            route: [
              { destination: { host: 'fraud-detector-stable', port: { number: 8000 } }, weight: 80 },
              { destination: { host: 'fraud-detector-canary', port: { number: 8000 } }, weight: 20 },
            ],
          },
        ],
      },
    });
    assert.deepEqual(renderRoute(spec, { weights: { stable: 80, canary: 20 }, mirrorPercent: null }), vs);
    assert.deepEqual(routeResource(spec), {
      group: 'networking.istio.io',
      version: 'v1',
      plural: 'virtualservices',
      kind: 'VirtualService',
    });
  });

  it('mirrors a percentage to the candidate, and sends the cohort first, header names in lower case', () => {
    const vs = renderVirtualService(spec, {
      weights: { stable: 100, canary: 0 },
      mirrorPercent: 25,
      cohort: true,
    });
    assert.deepEqual(vs.spec.http[0], {
      name: ROUTE_NAMES.cohort,
      match: [{ headers: { 'x-model-variant': { exact: 'b' } } }],
      route: [{ destination: { host: 'fraud-detector-canary', port: { number: 8000 } }, weight: 100 }],
    });
    assert.deepEqual(vs.spec.http[1]?.mirror, { host: 'fraud-detector-canary', port: { number: 8000 } });
    assert.deepEqual(vs.spec.http[1]?.mirrorPercentage, { value: 25 });
    // Without `cohort` (before the canary, after the promotion) there is no header route.
    const plain = renderVirtualService(spec, { weights: { stable: 100, canary: 0 }, mirrorPercent: 0 });
    assert.deepEqual(
      plain.spec.http.map((r) => [r.name, r.mirror]),
      [[ROUTE_NAMES.weights, undefined]],
    );
  });

  it("routes blue-green's preview headers to the candidate as it does a cohort", () => {
    const blueGreen = ReleaseSpec.parse(istio({}, { strategy: { type: 'blueGreen' } }));
    const vs = renderVirtualService(blueGreen, {
      weights: { stable: 100, canary: 0 },
      mirrorPercent: null,
      cohort: true,
    });
    assert.deepEqual(vs.spec.http[0]?.match, [{ headers: { 'x-slipway-preview': { exact: 'true' } } }]);
    assert.deepEqual(virtualServiceState(vs, blueGreen).cohort, true);
  });

  it('reads back what it rendered: weights, mirror percent, header route', () => {
    for (const state of [
      { weights: { stable: 100, canary: 0 }, mirrorPercent: null, cohort: false },
      { weights: { stable: 90, canary: 10 }, mirrorPercent: null, cohort: true },
      { weights: { stable: 100, canary: 0 }, mirrorPercent: 50, cohort: false },
      { weights: { stable: 0, canary: 100 }, mirrorPercent: 12.5, cohort: true },
    ]) {
      assert.deepEqual(virtualServiceState(renderVirtualService(spec, state), spec), state);
    }
  });

  it('reads a VirtualService written by hand: full host names, a lone destination, a mirror without percentage', () => {
    const state = virtualServiceState(
      {
        spec: {
          http: [
            {
              match: [{ headers: { 'x-model-variant': { exact: 'b' } } }],
              route: [{ destination: { host: 'fraud-detector-canary' } }],
            },
            {
              route: [{ destination: { host: 'fraud-detector-stable.ml-serving.svc.cluster.local' } }],
              mirror: { host: 'fraud-detector-canary.ml-serving' },
            },
          ],
        },
      },
      spec,
    );
    assert.deepEqual(state, { weights: { stable: 100, canary: 0 }, mirrorPercent: 100, cohort: true });
  });
});

describe('traffic.router istio: the simulator reads VirtualServices as routes', () => {
  const deployment = (track: 'stable' | 'canary', readyReplicas: number): DeploymentView => ({
    namespace: 'ml-serving',
    name: track === 'stable' ? 'fraud-detector' : 'fraud-detector-canary',
    model: 'fraud-detector',
    track,
    version: track === 'stable' ? 'v1' : 'v2',
    readyReplicas,
    behaviour: DEFAULT_BEHAVIOUR,
    problems: [],
    requestsPerSecond: undefined,
  });
  const spec = ReleaseSpec.parse(istio({}, { canary: { steps: [{ weight: 20 }], cohort } }));
  const stored = (object: unknown) => ({
    ...(object as object),
    metadata: { namespace: 'ml-serving', name: 'fraud-detector', resourceVersion: '7', generation: 3 },
  });

  it('splits by the weights, mirrors the percentage and sends the header route’s requests to the candidate', () => {
    const vs = renderVirtualService(spec, {
      weights: { stable: 70, canary: 30 },
      mirrorPercent: 40,
      cohort: true,
    });
    const view = virtualServiceView(stored(vs));
    assert.ok(view);
    const [model] = groupModels([deployment('stable', 2), deployment('canary', 2)], [view]);
    assert.ok(model);
    assert.equal(model.route?.name, 'fraud-detector');
    const split = computeSplit(model);
    assert.deepEqual(split, {
      source: 'route',
      shares: { stable: 0.7, canary: 0.3 },
      mirror: 0.4,
      cohort: { stable: 0, canary: 1 },
      warnings: [],
    });
  });

  it('with 100/0 and no header route: everything to stable, no cohort', () => {
    const vs = renderVirtualService(spec, { weights: { stable: 100, canary: 0 }, mirrorPercent: null });
    const [model] = groupModels(
      [deployment('stable', 2), deployment('canary', 2)],
      [virtualServiceView(stored(vs))!],
    );
    assert.deepEqual(computeSplit(model!), {
      source: 'route',
      shares: { stable: 1, canary: 0 },
      mirror: 0,
      warnings: [],
    });
  });

  it('knows the Services of the VirtualService’s namespace by any of their names', () => {
    assert.equal(serviceOfHost('m-stable', 'ns'), 'm-stable');
    assert.equal(serviceOfHost('m-stable.ns', 'ns'), 'm-stable');
    assert.equal(serviceOfHost('m-stable.ns.svc', 'ns'), 'm-stable');
    assert.equal(serviceOfHost('m-stable.ns.svc.cluster.local', 'ns'), 'm-stable');
    assert.equal(serviceOfHost('m-stable.other.svc.cluster.local', 'ns'), 'm-stable.other.svc.cluster.local');
    assert.equal(virtualServiceView({ spec: {} }), undefined, 'no metadata: not a VirtualService');
  });
});
