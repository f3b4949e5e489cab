// What a chaos run releases, drawn from its seed: R releases over M models (each model's releases
// one after another, the models side by side). Each release is good (to be Promoted) or bad — its
// candidate answers half its requests with 5xx (the simulator's `sim.slipway.dev/error-rate`), so
// the error-rate gate fails in shadow/canary (`bad-canary`), or only after the promotion, in
// promote.verify (`bad-verify`: the rollback restores the stable with a rolling update). Models
// alternate between the gateway-api router (with a shadow stage) and replica-ratio; some releases
// run a build Job first (the evaluation Job whose duplicates the run looks for).
import { seededRandom } from '../../infra/local/simulator/random.ts';

export type ReleaseKind = 'good' | 'bad-canary' | 'bad-verify';
export type Router = 'gateway-api' | 'replica-ratio';

export interface PlannedRelease {
  /** 0-based, in start order across models. */
  index: number;
  model: string;
  router: Router;
  /** v2, v3, …: v1 is the model's first release, made before the chaos starts. */
  version: string;
  kind: ReleaseKind;
  buildJob: boolean;
  expected: 'Promoted' | 'RolledBack';
}

export interface ChaosPlan {
  models: Array<{ model: string; router: Router; releases: PlannedRelease[] }>;
  releases: PlannedRelease[];
}

/** Shares of the kinds: half good, a quarter of each bad kind (shuffled by the seed). */
function kinds(count: number, random: () => number): ReleaseKind[] {
  const list: ReleaseKind[] = Array.from({ length: count }, (_, i) =>
    i % 4 === 1 ? 'bad-canary' : i % 4 === 3 ? 'bad-verify' : 'good',
  );
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

export function chaosPlan(options: { releases: number; models: number; seed: number }): ChaosPlan {
  const stream = seededRandom(options.seed, 'chaos-plan');
  const random = () => stream.next();
  const modelCount = Math.max(1, Math.min(options.models, options.releases));
  const drawn = kinds(options.releases, random);
  const models = Array.from({ length: modelCount }, (_, m) => {
    const router: Router = m % 2 === 0 ? 'gateway-api' : 'replica-ratio';
    return { model: `chaos-${m}`, router, releases: [] as PlannedRelease[] };
  });
  const releases = drawn.map((kind, index): PlannedRelease => {
    const slot = models[index % modelCount]!;
    const release: PlannedRelease = {
      index,
      model: slot.model,
      router: slot.router,
      version: `v${slot.releases.length + 2}`,
      kind,
      buildJob: random() < 1 / 3,
      expected: kind === 'good' ? 'Promoted' : 'RolledBack',
    };
    slot.releases.push(release);
    return release;
  });
  return { models, releases };
}
