// The shared release status views over a stub source: one query per change however many readers,
// never an older status than one handed out, nothing read while the history grows without a state
// change, GETs as fresh as the history when they came, followers that stop when idle, at a closed
// run and on close, errors handed to every stream, a bounded number of releases kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReleaseView } from '../../api/ended-release.ts';
import { ProblemError } from '../../api/errors.ts';
import { StatusViews } from '../../api/status-views.ts';
import { StubStatusSource, stubView } from '../helpers/stub-status-source.ts';

const ID = 'release/ns/m';

async function eventually(check: () => boolean, what: string, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(2);
  }
}

function watcher(views: StatusViews) {
  const seen: ReleaseView[] = [];
  const errors: unknown[] = [];
  const stop = views.watch(ID, 'ns/m', {
    view: (v) => seen.push(v),
    error: (e) => errors.push(e),
  });
  return { seen, errors, stop };
}

test('a crowd of GETs of an unchanged release costs one query, and describes are shared', async () => {
  const source = new StubStatusSource();
  source.startRun('r1');
  const views = new StatusViews(source);
  try {
    const views100 = await Promise.all(Array.from({ length: 100 }, () => views.read(ID, 'ns/m')));
    assert.ok(views100.every((v) => v.version === 'r1'));
    assert.equal(source.calls.query, 1);
    assert.ok(source.calls.describe <= 2, `describes: ${source.calls.describe}`);
    await views.read(ID, 'ns/m');
    assert.equal(source.calls.query, 1, 'still nothing new to read');
  } finally {
    await views.close();
  }
});

test('50 streams cost what one does: one query per change, each stream sees every status in order and the end', async () => {
  const source = new StubStatusSource();
  source.startRun('r1');
  const views = new StatusViews(source);
  try {
    await views.read(ID, 'ns/m');
    const streams = Array.from({ length: 50 }, () => watcher(views));
    for (let n = 1; n <= 5; n++) {
      source.append(3, stubView('r1', n)); // two events that change nothing, then a completed task
      await eventually(
        () => streams.every((s) => s.seen.at(-1)?.updatedAt === stubView('r1', n).updatedAt),
        `change ${n}`,
      );
    }
    source.append(1, stubView('r1', 6, { stage: 'done', phase: 'Promoted' }), true);
    await eventually(() => streams.every((s) => s.seen.at(-1)?.stage === 'done'), 'the end');
    assert.equal(source.calls.query, 1 + 6, 'the first read, then one per change');
    for (const s of streams) {
      assert.deepEqual(
        s.seen.map((v) => v.updatedAt),
        [0, 1, 2, 3, 4, 5, 6].map((n) => stubView('r1', n).updatedAt),
      );
    }
    await eventually(() => views.stats().followers === 0, 'the follower ends with the run');
    for (const s of streams) s.stop();
  } finally {
    await views.close();
  }
});

test('history that grows without a state change is not read again, by streams or GETs', async () => {
  const source = new StubStatusSource();
  source.startRun('r1');
  const views = new StatusViews(source);
  try {
    await views.read(ID, 'ns/m');
    const stream = watcher(views);
    await eventually(() => source.calls.history === 2, 'the follower waits for new events');
    source.append(4); // activity scheduled, started, completed, a task scheduled
    await eventually(() => source.calls.history === 3, 'the follower saw them');
    assert.equal((await views.read(ID, 'ns/m')).version, 'r1');
    assert.equal(source.calls.query, 1);
    assert.equal(stream.seen.length, 1);
    stream.stop();
  } finally {
    await views.close();
  }
});

test('a GET is as fresh as the history when it came: a change nobody followed is read by the GET', async () => {
  const source = new StubStatusSource();
  source.startRun('r1');
  // No follower keeps up: it stops at once.
  const views = new StatusViews(source, { idleMs: 1 });
  try {
    await views.read(ID, 'ns/m');
    await eventually(() => views.stats().followers === 0, 'idle follower stopped');
    source.append(2, stubView('r1', 1, { phase: 'AwaitingApproval' }));
    assert.equal((await views.read(ID, 'ns/m')).phase, 'AwaitingApproval');
    // A new run (a retry, a new version): the next GET reads it.
    source.append(1, stubView('r1', 2, { stage: 'done', phase: 'RolledBack' }), true);
    source.startRun('r2', stubView('r2', 3));
    assert.equal((await views.read(ID, 'ns/m')).version, 'r2');
  } finally {
    await views.close();
  }
});

test('readers never see a status older than one they saw, while changes race reads', async () => {
  const source = new StubStatusSource();
  source.startRun('r1');
  source.queryMs = 3;
  const views = new StatusViews(source);
  try {
    await views.read(ID, 'ns/m');
    const stream = watcher(views);
    let writing = true;
    const writer = (async () => {
      for (let n = 1; n <= 30; n++) {
        source.append(1 + (n % 3), stubView('r1', n));
        await sleep(n % 4);
      }
      writing = false;
    })();
    const readers = Array.from({ length: 8 }, async () => {
      let last = '';
      while (writing) {
        const view = await views.read(ID, 'ns/m');
        assert.ok((view.updatedAt ?? '') >= last, `${view.updatedAt} after ${last}`);
        last = view.updatedAt ?? '';
      }
    });
    await Promise.all([writer, ...readers]);
    const stamps = stream.seen.map((v) => v.updatedAt ?? '');
    assert.deepEqual(stamps, [...stamps].sort(), 'the stream only goes forward');
    await eventually(() => stream.seen.at(-1)?.updatedAt === stubView('r1', 30).updatedAt, 'the last status');
    stream.stop();
  } finally {
    await views.close();
  }
});

test('a follower stops when nobody read for idleMs and no stream follows; close stops the rest', async () => {
  const source = new StubStatusSource();
  source.startRun('r1');
  const views = new StatusViews(source, { idleMs: 40 });
  await views.read(ID, 'ns/m');
  assert.equal(views.stats().followers, 1);
  await eventually(() => views.stats().followers === 0, 'idle follower stopped');
  const stream = watcher(views);
  await sleep(120);
  assert.equal(views.stats().followers, 1, 'a stream keeps it');
  stream.stop();
  await eventually(() => views.stats().followers === 0, 'stopped after the last stream');
  watcher(views);
  assert.equal(views.stats().followers, 1);
  await views.close();
  assert.equal(views.stats().followers, 0, 'close waits for followers');
});

test('a closed release is handed out as it ended, with no follower; a missing one is a 404', async () => {
  const source = new StubStatusSource();
  source.startRun('r1', stubView('r1', 1, { stage: 'done', phase: 'Promoted' }));
  source.latest.closed = true;
  const views = new StatusViews(source);
  try {
    assert.equal((await views.read(ID, 'ns/m')).phase, 'Promoted');
    const stream = watcher(views);
    assert.equal(stream.seen[0]?.phase, 'Promoted');
    assert.equal(views.stats().followers, 0);
    stream.stop();
    await assert.rejects(views.read('release/ns/none', 'ns/none'), (e: unknown) => {
      return e instanceof ProblemError && e.status === 404;
    });
  } finally {
    await views.close();
  }
});

test('Temporal failing: every stream gets the error once; GETs fail as the describe does', async () => {
  const source = new StubStatusSource();
  source.startRun('r1');
  const views = new StatusViews(source);
  try {
    await views.read(ID, 'ns/m');
    const streams = [watcher(views), watcher(views)];
    source.failure = new Error('unreachable');
    source.append(1, stubView('r1', 1));
    await eventually(() => streams.every((s) => s.errors.length === 1), 'errors');
    await assert.rejects(views.read(ID, 'ns/m'), /unreachable/);
    source.failure = undefined;
    assert.equal((await views.read(ID, 'ns/m')).updatedAt, stubView('r1', 1).updatedAt);
    for (const s of streams) s.stop();
  } finally {
    await views.close();
  }
});

test('at most maxEntries releases are kept, least recently read out first, streamed ones kept', async () => {
  const source = new StubStatusSource();
  source.startRun('r1');
  const views = new StatusViews(source, { maxEntries: 3 });
  try {
    const stream = watcher(views);
    for (let i = 0; i < 20; i++) await views.read(`release/ns/m${i}`, `ns/m${i}`).catch(() => undefined);
    assert.equal(views.stats().entries, 3);
    assert.ok(views.stats().followers <= 3);
    stream.stop();
  } finally {
    await views.close();
  }
});
