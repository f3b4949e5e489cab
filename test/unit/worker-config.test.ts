// The worker's environment: defaults, and a clear message for a value of the right type but wrong.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadWorkerConfig } from '../../worker/config.ts';

describe('worker configuration', () => {
  it('defaults: 2,500 activity slots, 100 workflow task slots, a 30 s sticky queue timeout', () => {
    const config = loadWorkerConfig({});
    assert.equal(config.SLIPWAY_MAX_CONCURRENT_ACTIVITIES, 2500);
    assert.equal(config.SLIPWAY_MAX_CONCURRENT_WORKFLOW_TASKS, 100);
    assert.equal(config.SLIPWAY_STICKY_QUEUE_TIMEOUT, '30s');
    // The workflow cache is the SDK's own (it scales with the heap limit) unless set.
    assert.equal(config.SLIPWAY_MAX_CACHED_WORKFLOWS, undefined);
    assert.equal(
      loadWorkerConfig({ SLIPWAY_MAX_CACHED_WORKFLOWS: '1200' }).SLIPWAY_MAX_CACHED_WORKFLOWS,
      1200,
    );
  });

  it('takes a sticky queue timeout in ms, s or m', () => {
    for (const value of ['500ms', '10s', '2m'])
      assert.equal(
        loadWorkerConfig({ SLIPWAY_STICKY_QUEUE_TIMEOUT: value }).SLIPWAY_STICKY_QUEUE_TIMEOUT,
        value,
      );
  });

  it('refuses a sticky queue timeout that is not a duration, naming the variable', () => {
    for (const value of ['30', '-5s', '1h', 'soon', ''])
      assert.throws(
        () => loadWorkerConfig({ SLIPWAY_STICKY_QUEUE_TIMEOUT: value }),
        /expected a duration such as 30s\n {2}→ at SLIPWAY_STICKY_QUEUE_TIMEOUT/,
        value,
      );
  });

  it('refuses zero or fractional slots and cache sizes', () => {
    for (const name of ['SLIPWAY_MAX_CONCURRENT_WORKFLOW_TASKS', 'SLIPWAY_MAX_CACHED_WORKFLOWS'])
      for (const value of ['0', '-1', '2.5', 'many'])
        assert.throws(
          () => loadWorkerConfig({ [name]: value }),
          new RegExp(`at ${name}`),
          `${name}=${value}`,
        );
  });
});
