// Chaos on the real stack (issue 14 item 2) at the size CI runs: 10 releases over 5 models side by
// side (half good, a quarter failing their error-rate gate in shadow/canary, a quarter failing it only
// after the promotion; gateway-api with shadow and replica-ratio; some with a build Job), 10 worker
// kills (kill -9, a new worker each time) aimed at every stage, and 1 restart of a Temporal dev server
// of the test's own (SIGTERM, the SQLite file kept; the shared stack's server is never touched).
// Every release must end as expected with the cluster in the state its outcome says, one Job per
// release with a build Job, nothing left of a candidate. The big runs (50 releases, 50 kills) are
// `npm run bench -- chaos`; both run bench/chaos/run.ts. The seed is fixed (SLIPWAY_CHAOS_SEED
// overrides it) so that a failure can be replayed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chaosFigures, chaosTable } from '../../bench/chaos/report.ts';
import { runChaos } from '../../bench/chaos/run.ts';

const SIZE = { releases: 10, kills: 10, models: 5, temporalRestarts: 1 };
const seed = Number(process.env.SLIPWAY_CHAOS_SEED ?? 7);

describe('chaos: kill -9 of the worker in every stage, a Temporal restart', () => {
  it(`${SIZE.releases} releases, ${SIZE.kills} kills, ${SIZE.temporalRestarts} Temporal restart (seed ${seed})`, async (t) => {
    const run = await runChaos({
      ...SIZE,
      seed,
      recoverWaitMs: 10_000,
      // A rollback stage lasts a second or two and this run has five of them: a 5 s hunt once
      // missed them all (every outcome right, no kill in rollback), so while a stage has never been
      // hit a kill waits up to 20 s for it.
      huntMs: 20_000,
      releaseTimeoutMs: 300_000,
      log: (line) => t.diagnostic(line),
    });
    const f = chaosFigures(run);
    t.diagnostic(`\n${chaosTable(f)}`);
    const findings = JSON.stringify(
      {
        unexpected: f.unexpectedOutcomes,
        mismatches: f.clusterStateMismatches,
        jobs: f.jobFindings,
        orphans: f.orphans,
      },
      null,
      2,
    );
    assert.equal(f.releases, SIZE.releases);
    assert.equal(f.kills, SIZE.kills, `kills: ${JSON.stringify(run.kills)}`);
    assert.equal(f.temporalRestarts, SIZE.temporalRestarts);
    assert.deepEqual(f.unexpectedOutcomes, [], findings);
    assert.equal(f.outcomes.other, 0, findings);
    assert.deepEqual(f.clusterStateMismatches, [], findings);
    assert.deepEqual(f.jobFindings, [], findings);
    assert.deepEqual(f.orphans, [], findings);
    const missed = Object.entries(f.killsPerStage).filter(([, n]) => n === 0);
    assert.deepEqual(missed, [], `stages no kill hit: ${JSON.stringify(f.killsPerStage)}`);
  });
});
