// canary.cohort: the schema's rules and the HTTPRoute rule that sends the cohort to the candidate.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderHttpRoute } from '../../activities/kubernetes/manifests.ts';
import { ReleaseSpec, type ReleaseSpecInput } from '../../workflows/spec/index.ts';
import { issuePaths, messages, minimal } from './spec-fixtures.ts';

const cohort = { headers: [{ name: 'x-model-variant', value: 'b' }] };
const spec = (
  canary: Record<string, unknown>,
  traffic: Record<string, unknown> = { router: 'gateway-api' },
) => ({ ...minimal, traffic, canary }) as ReleaseSpecInput;

describe('canary.cohort', () => {
  it('allows a weight of 0 only with a cohort', () => {
    assert.deepEqual(issuePaths(spec({ steps: [{ weight: 0, hold: '1m' }] })), [
      ['canary', 'steps', 0, 'weight'],
    ]);
    assert.match(messages(spec({ steps: [{ weight: 0 }] }))[0]!, /it needs canary.cohort/);
    assert.equal(
      ReleaseSpec.safeParse(spec({ steps: [{ weight: 0, hold: '1m' }, { weight: 20 }], cohort })).success,
      true,
    );
  });

  it('is refused with a router that cannot match headers, at canary.cohort', () => {
    const refused = spec({ steps: [{ weight: 20 }], cohort }, { router: 'replica-ratio' });
    assert.deepEqual(issuePaths(refused), [['canary', 'cohort']]);
    assert.match(
      messages(refused)[0]!,
      /canary.cohort needs traffic.router gateway-api or istio \(replica-ratio cannot route by request header\)/,
    );
  });

  it('refuses a header name that is not one, and an empty list', () => {
    assert.deepEqual(
      issuePaths(spec({ steps: [{ weight: 20 }], cohort: { headers: [{ name: 'x variant', value: 'b' }] } })),
      [['canary', 'cohort', 'headers', 0, 'name']],
    );
    assert.deepEqual(issuePaths(spec({ steps: [{ weight: 20 }], cohort: { headers: [] } })), [
      ['canary', 'cohort', 'headers'],
    ]);
  });

  it('renders a rule matching the headers to the candidate before the weighted rule, only when asked', () => {
    const parsed = ReleaseSpec.parse(spec({ steps: [{ weight: 20 }], cohort }));
    const withCohort = renderHttpRoute(parsed, { stable: 80, canary: 20 }, null, true);
    assert.deepEqual(withCohort.spec.rules[0], {
      matches: [{ headers: [{ type: 'Exact', name: 'x-model-variant', value: 'b' }] }],
      backendRefs: [{ name: 'fraud-detector-canary', port: 8000, weight: 1 }],
    });
    assert.deepEqual(
      withCohort.spec.rules[1]?.backendRefs.map((b) => b.weight),
      [80, 20],
    );
    assert.equal(renderHttpRoute(parsed, { stable: 100, canary: 0 }, null).spec.rules.length, 1);
  });
});
