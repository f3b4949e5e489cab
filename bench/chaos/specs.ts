// The release specs of a chaos run, from the shared test fixture (test/helpers/release-fixtures.ts):
// holds of 3 s with the fixture's 2 s gate interval (one measurement per step when nothing fails) so a
// release takes seconds, pods ready 1 s after they start (KWOK), and a build Job whose pod runs
// 2 s so that kills land in build too.
import type { ReleaseSpecInput } from '../../workflows/spec/index.ts';
import { releaseSpec } from '../../test/helpers/release-fixtures.ts';
import type { PlannedRelease, Router } from './plan.ts';

/** What makes a candidate bad: half of its requests answer 5xx (the simulator reads the pod annotation). */
export const BAD_CANDIDATE = { 'sim.slipway.dev/error-rate': '0.5' };

/** The replica-ratio router needs a few stable pods for a 25% step to mean one candidate pod. */
export function replicasFor(router: Router): number {
  return router === 'replica-ratio' ? 4 : 2;
}

function base(namespace: string, model: string, version: string, router: Router, bad: boolean) {
  const spec = releaseSpec({ namespace, model, version, ...(bad ? { annotations: BAD_CANDIDATE } : {}) });
  return {
    ...spec,
    serving: {
      ...spec.serving,
      // Pods ready 1 s after they start: a promotion's and a rollback's rolling updates last seconds.
      annotations: { ...spec.serving.annotations, 'pod-ready.stage.kwok.x-k8s.io/delay': '1s' },
      replicas: replicasFor(router),
      resources: { requests: { cpu: '100m', memory: '128Mi' } },
    },
    traffic: { router },
  } satisfies ReleaseSpecInput;
}

/** v1 of a model: its first release, before the chaos. */
export function firstReleaseSpec(namespace: string, model: string, router: Router): ReleaseSpecInput {
  const { canary: _canary, ...spec } = base(namespace, model, 'v1', router, false);
  return { ...spec, promote: { approval: { required: false } } };
}

export function chaosSpec(namespace: string, release: PlannedRelease): ReleaseSpecInput {
  const { model, version, router, kind } = release;
  const spec = base(namespace, model, version, router, kind !== 'good');
  // bad-verify: no gate before the promotion, so the bad candidate is promoted and fails its verify.
  const gated = kind !== 'bad-verify';
  const gates = gated ? { gates: ['error-rate'] } : {};
  return {
    ...spec,
    ...(release.buildJob
      ? {
          build: {
            job: {
              image: 'registry.example.com/eval:1',
              timeout: '2m',
              annotations: {
                'pod-ready.stage.kwok.x-k8s.io/delay': '300ms',
                'pod-complete.stage.kwok.x-k8s.io/delay': '2s',
              },
            },
          },
        }
      : {}),
    // The replica-ratio router cannot mirror: no shadow stage there.
    ...(router === 'gateway-api' ? { shadow: { duration: '3s', mirrorPercent: 50, ...gates } } : {}),
    canary: {
      steps: [
        { weight: 25, hold: '3s' },
        { weight: 50, hold: '3s' },
      ],
      ...gates,
    },
    promote: {
      approval: { required: false },
      ...(gated ? {} : { verify: { duration: '30s', gates: ['error-rate'] } }),
    },
  };
}
