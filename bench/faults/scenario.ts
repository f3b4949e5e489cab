// The releases of the fault bench: good and bad candidates with the gateway-api and replica-ratio
// routers, in turn, each in a namespace of its own (so every fault the proxy logs is attributed to
// one release), and how each must end, checked in the cluster read directly (not through the
// proxy): a good one Promoted with the stable on the candidate's version and image, the candidate
// gone and (gateway-api) all traffic on the stable; a bad one RolledBack by its gate with the
// stable Deployment, the Services and the route exactly as before and the candidate gone.
import type { ReleaseResult } from '../../workflows/release.ts';
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import type { TestNamespace } from '../../test/helpers/cluster.ts';
import { differences, readModelObjects, type ModelObjects } from '../../test/helpers/model-objects.ts';
import { clusterState, releaseSpec } from '../../test/helpers/release-fixtures.ts';

export type Router = 'gateway-api' | 'replica-ratio';

export interface ReleaseKind {
  good: boolean;
  router: Router;
}

/** good gateway-api, good replica-ratio, bad gateway-api, bad replica-ratio, and again. */
export function kindOf(index: number): ReleaseKind {
  return { good: index % 4 < 2, router: index % 2 === 0 ? 'gateway-api' : 'replica-ratio' };
}

export const kindName = (k: ReleaseKind) => `${k.good ? 'good' : 'bad'} ${k.router}`;

const BAD = { 'sim.slipway.dev/error-rate': '0.5' };

/** v1 (the stable to be), or v2: the candidate the bench measures. */
export function benchSpec(
  namespace: string,
  model: string,
  version: 'v1' | 'v2',
  kind: ReleaseKind,
): ReleaseSpecInput {
  const bad = version === 'v2' && !kind.good;
  const spec = releaseSpec({
    namespace,
    model,
    version,
    ...(bad ? { annotations: BAD, steps: [{ weight: 50, hold: '30s' }] } : {}),
  });
  const withPromote: ReleaseSpecInput = { ...spec, promote: { approval: { required: false } } };
  if (kind.router === 'gateway-api') return withPromote;
  // Ready pods carry the split: 4 stable replicas, so 25% and 50% are whole pods.
  return {
    ...withPromote,
    serving: { ...withPromote.serving, replicas: 4 },
    traffic: { router: 'replica-ratio' },
    canary: {
      ...withPromote.canary,
      steps: bad
        ? [{ weight: 50, hold: '30s' }]
        : [
            { weight: 25, hold: '3s' },
            { weight: 50, hold: '3s' },
          ],
    },
  };
}

export interface Verdict {
  correct: boolean;
  /** Why not, when not. */
  problems: string[];
}

/** Whether a measured release (v2) ended as its kind must, in the cluster as it is now. */
export async function checkOutcome(
  ns: TestNamespace,
  model: string,
  kind: ReleaseKind,
  result: ReleaseResult,
  before: ModelObjects,
): Promise<Verdict> {
  const problems: string[] = [];
  const { outcome } = result;
  if (kind.good) {
    if (outcome.result !== 'Promoted')
      problems.push(`${outcome.result} (${outcome.failureType ?? '-'}): ${outcome.reason}`);
    const state = await clusterState(ns, ns.name, model);
    if (state.stableVersion !== 'v2') problems.push(`stable version ${state.stableVersion ?? 'none'}`);
    if (state.stableImage !== 'registry.example.com/triton:v2')
      problems.push(`stable image ${state.stableImage ?? 'none'}`);
    if (state.candidateExists) problems.push('the candidate Deployment is still there');
    if (kind.router === 'gateway-api' && (state.weights?.stable !== 100 || state.weights.canary !== 0))
      problems.push(`route weights ${JSON.stringify(state.weights)}`);
  } else {
    if (outcome.result !== 'RolledBack' || outcome.failureType !== 'GateFailed')
      problems.push(`${outcome.result} (${outcome.failureType ?? '-'}): ${outcome.reason}`);
    const diff = differences(before, await readModelObjects(ns, ns.name, model));
    if (diff.length) problems.push(`not restored: ${diff.slice(0, 3).join('; ')}`);
    if ((await clusterState(ns, ns.name, model)).candidateExists)
      problems.push('the candidate Deployment is still there');
  }
  return { correct: problems.length === 0, problems };
}
