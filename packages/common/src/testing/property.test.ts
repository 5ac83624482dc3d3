// The shared seed of the property tests (property.ts): KILN_SEED parsing, the global fast-check
// configuration every fc.assert picks up (same seed, same cases), and a failure that names the
// seed, the path and the command line to rerun it; KILN_FUZZ_SCALE parsing and runs().

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_SEED, failureMessage, fuzzScale, runs, scaleFrom, seed, seedFrom } from './property.ts';

test('kiln_seed_parsing', () => {
  assert.equal(seedFrom(undefined), DEFAULT_SEED);
  assert.equal(seedFrom(''), DEFAULT_SEED);
  assert.equal(seedFrom('42'), 42);
  assert.equal(seedFrom('-7'), -7);
  assert.equal(seedFrom('4294967295'), -1);
  assert.ok(Number.isInteger(seedFrom('random')));
  for (const bad of ['x', '1.5', '1e3', '4294967296', ' 3']) assert.throws(() => seedFrom(bad), /KILN_SEED must be a 32-bit integer or "random"/);
});

test('kiln_fuzz_scale_parsing_and_runs', () => {
  assert.equal(scaleFrom(undefined), 1);
  assert.equal(scaleFrom(''), 1);
  assert.equal(scaleFrom('40'), 40);
  for (const bad of ['0', '-2', '1.5', 'x', ' 3', '1e3']) assert.throws(() => scaleFrom(bad), /KILN_FUZZ_SCALE must be an integer >= 1/);
  assert.equal(runs(500), 500 * fuzzScale);
  assert.match(failureMessage('r', 7, '1:2', 'f.test.ts', 30), /Rerun this run: KILN_SEED=7 KILN_FUZZ_SCALE=30 node --import tsx --test f\.test\.ts/);
  assert.match(failureMessage('r', 7, '1:2', 'f.test.ts'), /Rerun this run: KILN_SEED=7 node --import tsx --test f\.test\.ts/);
});

test('every_fc_assert_runs_from_the_configured_seed', () => {
  assert.equal(fc.readConfigureGlobal().seed, seed);
  const seen = (): number[] => {
    const out: number[] = [];
    fc.assert(fc.property(fc.integer(), (n) => {
      out.push(n);
    }), { numRuns: 20 });
    return out;
  };
  assert.deepEqual(seen(), seen());
});

test('a_failure_names_the_seed_the_path_and_the_rerun_command', () => {
  let err: Error | undefined;
  try {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1000 }), (n) => n < 500));
  } catch (e) {
    err = e as Error;
  }
  assert.ok(err);
  assert.match(err.message, new RegExp(`\\{ seed: ${seed}, path: "[0-9:]+"`));
  assert.match(err.message, /Counterexample: \[500\]/);
  assert.match(err.message, new RegExp(`Rerun this run: KILN_SEED=${seed} node --import tsx --test \\S*testing/property\\.test\\.ts \\(seed ${seed}, path "[0-9:]+"\\)`));
});

test('async_properties_report_the_same_way', async () => {
  await assert.rejects(fc.assert(fc.asyncProperty(fc.nat(), async (n) => n < 0)), new RegExp(`Rerun this run: KILN_SEED=${seed} `));
});
