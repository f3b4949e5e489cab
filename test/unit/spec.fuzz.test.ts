// A seeded fuzz of 2,000 value mutations of valid specs (test/unit/spec-mutations.ts): the schema
// never throws, every rejection names where the problem is, and every spec it accepts renders into
// Kubernetes objects whose integers fit the int32 fields they go to.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { renderDeployment, renderServices } from '../../activities/kubernetes/manifests.ts';
import { renderRoute } from '../../activities/traffic/route-object.ts';
import { formatIssuePath, ReleaseSpec } from '../../workflows/spec/index.ts';
import {
  describeMutation,
  FUZZ_RUNS,
  seededMutations,
  type Json,
  type SpecMutation,
} from './spec-mutations.ts';

const INT32_MAX = 2_147_483_647;

const samples = seededMutations('ml-serving', (index) => `fz${index}`);

/** True when `path` leads through containers that exist in `input` (its last key may be missing). */
function parentExists(input: Json, path: readonly PropertyKey[]): boolean {
  let node: unknown = input;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return false;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return path.length === 0 || (node !== null && typeof node === 'object');
}

/** Every integer in a rendered object, with where it is. */
function integersIn(value: unknown, at = ''): Array<[string, number]> {
  if (typeof value === 'number') return Number.isInteger(value) ? [[at, value]] : [];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => integersIn(child, `${at}.${key}`));
}

function parse(sample: SpecMutation) {
  try {
    return ReleaseSpec.safeParse(sample.spec);
  } catch (error) {
    assert.fail(`the schema threw for ${describeMutation(sample)}: ${String(error)}`);
  }
}

describe(`ReleaseSpec fuzz: ${FUZZ_RUNS} seeded mutations`, () => {
  it('are all different inputs, and some of them stay valid (the fuzz is not only of shapes)', () => {
    assert.equal(samples.length, FUZZ_RUNS);
    assert.ok(new Set(samples.map((s) => describeMutation(s))).size > FUZZ_RUNS * 0.9);
    const accepted = samples.filter((s) => parse(s).success).length;
    assert.ok(accepted > FUZZ_RUNS * 0.05 && accepted < FUZZ_RUNS * 0.6, `${accepted} accepted`);
  });

  it('never make the schema throw, and every rejection says where and what', () => {
    for (const sample of samples) {
      const result = parse(sample);
      if (result.success) continue;
      assert.ok(result.error.issues.length > 0, describeMutation(sample));
      for (const issue of result.error.issues) {
        const where = `${formatIssuePath(issue.path) || '(root)'}: ${issue.message} — ${describeMutation(sample)}`;
        assert.ok(issue.message.trim().length > 0, where);
        assert.ok(parentExists(sample.spec, issue.path), `the issue path is not in the input: ${where}`);
      }
      // The pretty form the workflow and CLI show does not throw either.
      assert.ok(z.prettifyError(result.error).length > 0);
    }
  });

  it('point at the changed field when one field was set to a bad value (or at the check across fields it broke)', () => {
    for (const sample of samples) {
      const [only] = sample.mutations;
      if (sample.mutations.length !== 1 || only?.op !== 'set') continue;
      const result = parse(sample);
      if (result.success) continue;
      const changed = only.path;
      const atChange = result.error.issues.some(
        (issue) =>
          issue.code === 'custom' ||
          issue.path.slice(0, changed.length).every((key, i) => key === changed[i]),
      );
      assert.ok(
        atChange,
        `${describeMutation(sample)}: ${result.error.issues.map((i) => formatIssuePath(i.path)).join(', ')}`,
      );
    }
  });

  it('that are accepted render into objects whose integers fit int32', () => {
    for (const sample of samples) {
      const result = parse(sample);
      if (!result.success) continue;
      const spec = result.data;
      const where = describeMutation(sample);
      const objects = [
        renderDeployment(spec, { track: 'canary', replicas: spec.serving.replicas, releaseId: 'r1' }),
        renderDeployment(spec, {
          track: 'stable',
          replicas: undefined,
          releaseId: 'r1',
          qualityScores: { a: 1 },
        }),
        ...renderServices(spec),
        ...[renderRoute(spec, { weights: { stable: 50, canary: 50 }, mirrorPercent: 10 })].filter(
          (route) => route !== undefined,
        ),
      ];
      for (const [at, value] of objects.flatMap((object) => integersIn(object))) {
        assert.ok(Math.abs(value) <= INT32_MAX, `${at} = ${value}: ${where}`);
      }
      // Parsing is idempotent on every accepted spec.
      assert.deepEqual(ReleaseSpec.parse(spec), spec, where);
    }
  });
});
