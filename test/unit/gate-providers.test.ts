// Pure parts of the gate providers: JSON paths, termination messages, Job names, aggregation, summaries.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gateJobName, parseTerminationMessage } from '../../activities/gates/job-provider.ts';
import { numericValue, parseJsonPath, selectJsonPath } from '../../activities/gates/json-path.ts';
import { summarizeSample } from '../../activities/gates/judge-provider.ts';
import { aggregateSamples } from '../../activities/gates/prometheus-provider.ts';
import { renderTemplate } from '../../activities/gates/template.ts';

describe('JSON paths of http gates', () => {
  const doc = {
    accuracy: 0.93,
    metrics: { 'f1-score': '0.88' },
    scores: [{ value: 1 }, { value: 2 }],
    'a b': { c: 3 },
  };
  it('selects the documented forms', () => {
    assert.deepEqual(selectJsonPath(doc, '$'), doc);
    assert.equal(selectJsonPath(doc, '$.accuracy'), 0.93);
    assert.equal(selectJsonPath(doc, "$.metrics['f1-score']"), '0.88');
    assert.equal(selectJsonPath(doc, '$.scores[1].value'), 2);
    assert.equal(selectJsonPath(doc, '$["a b"].c'), 3);
    assert.equal(selectJsonPath([5, 6], '$[1]'), 6);
  });
  it('gives undefined for missing steps and wrong shapes', () => {
    assert.equal(selectJsonPath(doc, '$.missing'), undefined);
    assert.equal(selectJsonPath(doc, '$.scores[7].value'), undefined);
    assert.equal(selectJsonPath(doc, '$.accuracy.x'), undefined);
    assert.equal(selectJsonPath(doc, '$.scores.value'), undefined);
    assert.equal(selectJsonPath(null, '$.a'), undefined);
  });
  it('rejects paths it cannot read, naming the position', () => {
    assert.throws(() => parseJsonPath('accuracy'), /starts with \$/);
    assert.throws(() => parseJsonPath('$..a'), /position 1/);
  });
  it('counts numbers and numeric strings as values, nothing else', () => {
    assert.equal(numericValue(0), 0);
    assert.equal(numericValue('0.5'), 0.5);
    assert.equal(numericValue(' 1e-3 '), 0.001);
    for (const v of ['', ' ', 'high', true, null, [], {}, Number.NaN, undefined])
      assert.equal(numericValue(v), undefined, JSON.stringify(v));
  });
});

describe('job gates', () => {
  it('read a bare number or JSON with value from the termination message', () => {
    assert.deepEqual(parseTerminationMessage('0.95\n'), { value: 0.95, details: {} });
    assert.deepEqual(parseTerminationMessage('{"value": 0.93, "f1": 0.9, "note": "x"}'), {
      value: 0.93,
      details: { f1: 0.9 },
    });
    assert.deepEqual(parseTerminationMessage('{"f1": 0.9}'), { value: null, details: { f1: 0.9 } });
    assert.deepEqual(parseTerminationMessage('Traceback (most recent call last)'), {
      value: null,
      details: {},
    });
    assert.deepEqual(parseTerminationMessage(undefined), { value: null, details: {} });
    assert.deepEqual(parseTerminationMessage('[1]'), { value: null, details: {} });
  });
  it('name Jobs deterministically per measurement, as DNS-1123 labels of at most 63 characters', () => {
    const a = gateJobName('fraud-detector', 'accuracy', 'run-1-accuracy-0');
    assert.equal(a, gateJobName('fraud-detector', 'accuracy', 'run-1-accuracy-0'));
    assert.notEqual(a, gateJobName('fraud-detector', 'accuracy', 'run-1-accuracy-1'));
    const long = gateJobName('m'.repeat(56), `${'g'.repeat(20)}-${'h'.repeat(40)}`, 'x');
    for (const name of [a, long, gateJobName('a-', 'b-', 'y')]) {
      assert.ok(name.length <= 63, name);
      assert.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      assert.ok(!name.includes('--gate') && !name.includes('--'), name);
    }
  });
});

describe('range aggregation and sample summaries', () => {
  it('aggregates finite samples only', () => {
    const samples = [3, Number.NaN, 1, Number.POSITIVE_INFINITY, 2];
    assert.equal(aggregateSamples(samples, 'mean'), 2);
    assert.equal(aggregateSamples(samples, 'min'), 1);
    assert.equal(aggregateSamples(samples, 'max'), 3);
    assert.equal(aggregateSamples(samples, 'last'), 2);
    assert.equal(aggregateSamples([Number.NaN], 'mean'), null);
  });
  it('summarises a sample with n, median, mean and p90', () => {
    assert.deepEqual(summarizeSample([10, 1, 2, 3, 4, 5, 6, 7, 8, 9]), {
      n: 10,
      median: 5.5,
      mean: 5.5,
      p90: 9,
    });
    assert.deepEqual(summarizeSample([]), { n: 0, median: null, mean: null, p90: null });
  });
});

describe('templating of evaluator URLs', () => {
  it('URL-encodes values and refuses unknown placeholders', () => {
    const context = {
      model: 'fraud',
      namespace: 'ml',
      version: 'v1+rc/2',
      stableVersion: 'v0',
      window: '30s',
    };
    assert.equal(
      renderTemplate('http://e/score?v={{version}}&s={{ stableVersion }}', context, encodeURIComponent),
      'http://e/score?v=v1%2Brc%2F2&s=v0',
    );
    assert.throws(() => renderTemplate('http://e/{{modle}}', context, encodeURIComponent), /\{\{modle\}\}/);
    assert.throws(
      () => renderTemplate('http://e/{{stableVersion}}', { ...context, stableVersion: undefined }),
      /stableVersion/,
    );
  });
});
