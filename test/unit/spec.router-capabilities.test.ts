// What each traffic router can do is one table; the schema and the workflow refuse the same specs
// from it, at exact paths.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReleaseSpec, unsupportedByRouter } from '../../workflows/spec/index.ts';
import { ROUTER_CAPABILITIES } from '../../workflows/spec/router-capabilities.ts';
import { issuePaths, messages, minimal } from './spec-fixtures.ts';

const replicaRatio = { ...minimal, traffic: { router: 'replica-ratio' } } as const;

describe('router capabilities', () => {
  it('says what each router can do', () => {
    assert.deepEqual(ROUTER_CAPABILITIES, {
      'gateway-api': {
        weights: 'per-request',
        mirror: true,
        handoff: true,
        adopt: true,
        headerMatches: true,
        routeObject: true,
        candidateFullSize: true,
        verifiesWeights: true,
      },
      istio: {
        weights: 'per-request',
        mirror: true,
        handoff: true,
        adopt: true,
        headerMatches: true,
        routeObject: true,
        candidateFullSize: true,
        verifiesWeights: false,
      },
      'replica-ratio': {
        weights: 'ready-replicas',
        mirror: false,
        handoff: false,
        adopt: false,
        headerMatches: false,
        routeObject: false,
        candidateFullSize: false,
        verifiesWeights: false,
      },
    });
  });

  it('refuses serving.deploymentRef with replica-ratio at serving.deploymentRef', () => {
    const spec = { ...replicaRatio, serving: { ...minimal.serving, deploymentRef: 'fraud-detector' } };
    assert.deepEqual(issuePaths(spec), [['serving', 'deploymentRef']]);
    assert.deepEqual(messages(spec), [
      "serving.deploymentRef needs traffic.router gateway-api or istio (replica-ratio splits traffic by one Service over both tracks, which needs Slipway's labels on the adopted pods)",
    ]);
  });

  it('refuses promote.mode handoff with replica-ratio at promote.mode', () => {
    const spec = { ...replicaRatio, promote: { mode: 'handoff' } };
    assert.deepEqual(issuePaths(spec), [['promote', 'mode']]);
    assert.deepEqual(messages(spec), [
      'promote.mode handoff needs traffic.router gateway-api or istio (replica-ratio cannot send 100% of traffic to the candidate)',
    ]);
  });

  it('refuses shadow with replica-ratio at shadow', () => {
    const spec = { ...replicaRatio, shadow: { duration: '5m' } };
    assert.deepEqual(issuePaths(spec), [['shadow']]);
    assert.deepEqual(messages(spec), [
      'shadow needs traffic.router gateway-api or istio (replica-ratio cannot mirror traffic)',
    ]);
  });

  it('reports both at once, and nothing for what the router can do', () => {
    const both = { ...replicaRatio, shadow: { duration: '5m' }, promote: { mode: 'handoff' } };
    assert.deepEqual(issuePaths(both), [['shadow'], ['promote', 'mode']]);
    assert.equal(ReleaseSpec.safeParse({ ...both, traffic: { router: 'gateway-api' } }).success, true);
    assert.equal(ReleaseSpec.safeParse({ ...both, traffic: { router: 'istio' } }).success, true);
    assert.equal(ReleaseSpec.safeParse({ ...replicaRatio, promote: { mode: 'rolling' } }).success, true);
  });

  it('refuses nothing the istio router can do: every feature the table guards', () => {
    const everything = {
      ...minimal,
      traffic: { router: 'istio' },
      serving: { ...minimal.serving, deploymentRef: 'fraud-detector' },
      shadow: { duration: '5m' },
      canary: { steps: [{ weight: 20 }], cohort: { headers: [{ name: 'x-model-variant', value: 'b' }] } },
      promote: { mode: 'handoff' },
    } as const;
    const parsed = ReleaseSpec.safeParse(everything);
    assert.equal(parsed.success, true, parsed.success ? '' : JSON.stringify(parsed.error.issues));
    assert.deepEqual(unsupportedByRouter(parsed.data), []);
    for (const [capability, allowed] of Object.entries(ROUTER_CAPABILITIES.istio))
      if (capability !== 'weights' && capability !== 'verifiesWeights')
        assert.equal(allowed, true, capability);
  });

  it('gives the workflow the same rule with paths as users write them', () => {
    const accepted = ReleaseSpec.parse({
      ...minimal,
      shadow: { duration: '5m' },
      promote: { mode: 'handoff' },
    });
    assert.deepEqual(unsupportedByRouter(accepted), []);
    // A spec that skipped the schema (e.g. parsed by an older worker) is still caught.
    assert.deepEqual(unsupportedByRouter({ ...accepted, traffic: { router: 'replica-ratio' } }), [
      {
        path: 'shadow',
        message: 'shadow needs traffic.router gateway-api or istio (replica-ratio cannot mirror traffic)',
      },
      {
        path: 'promote.mode',
        message:
          'promote.mode handoff needs traffic.router gateway-api or istio (replica-ratio cannot send 100% of traffic to the candidate)',
      },
    ]);
  });
});
