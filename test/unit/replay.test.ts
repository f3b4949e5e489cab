// Replay of recorded histories (test/fixtures/histories, recorded by test/fixtures/record-histories.ts):
// a change to the workflow code that would break releases already running fails here
// (non-determinism), and needs `patched()` instead.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { installTestRuntime, workflowBundle } from '../helpers/temporal.ts';

const directory = new URL('../fixtures/histories/', import.meta.url);
const files = readdirSync(directory).filter((f) => f.endsWith('.history.bin'));

describe('replay of recorded release histories', () => {
  it('has histories to replay', () => {
    assert.ok(files.length >= 9, `found ${files.join(', ')}`);
  });
  for (const file of files) {
    it(`replays ${file} with today's workflow code`, async () => {
      installTestRuntime();
      const history = proto.temporal.api.history.v1.History.decode(readFileSync(new URL(file, directory)));
      assert.ok((history.events?.length ?? 0) > 10, 'a whole release history');
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, `replay-${file}`);
    });
  }
});
