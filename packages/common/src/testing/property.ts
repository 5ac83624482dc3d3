// Reproducible property tests: importing this module configures fast-check for the whole test
// process (fc.configureGlobal), so every fc.assert in the file runs from one seed. The seed is
// fixed by default (CI runs the same cases every time); KILN_SEED=N picks another and
// KILN_SEED=random a fresh one, printed at start. A failure names the seed, the counterexample's
// path and the command line that reruns it. KILN_FUZZ_SCALE=S multiplies the run count of the
// properties marked as fuzz targets (numRuns: runs(N)); scripts/fuzz.ts (npm run fuzz) sets it
// with KILN_SEED=random for long runs. Test-only (reads process.env). Documented in the README's
// tests paragraph.

import fc from 'fast-check';

/** The seed of every property test when KILN_SEED is not set. */
export const DEFAULT_SEED = 20261207;

/** The seed KILN_SEED asks for: unset or empty → DEFAULT_SEED, "random" → a fresh one, else a 32-bit integer. */
export function seedFrom(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_SEED;
  if (value === 'random') return (Date.now() ^ Math.floor(Math.random() * 0x1_0000_0000)) | 0;
  const n = Number(value);
  if (!/^-?[0-9]+$/.test(value) || n < -0x8000_0000 || n > 0xffff_ffff) {
    throw new Error(`KILN_SEED must be a 32-bit integer or "random" (got ${JSON.stringify(value)})`);
  }
  return n | 0;
}

/** The scale KILN_FUZZ_SCALE asks for: unset or empty → 1, else an integer ≥ 1. */
export function scaleFrom(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new Error(`KILN_FUZZ_SCALE must be an integer >= 1 (got ${JSON.stringify(value)})`);
  }
  return n;
}

/** How much longer fuzz targets run: KILN_FUZZ_SCALE (1 in npm test). */
export const fuzzScale = scaleFrom(process.env.KILN_FUZZ_SCALE);

/** The run count of a fuzz-target property: n in the seeded short run, n × KILN_FUZZ_SCALE under npm run fuzz. */
export function runs(n: number): number {
  return n * fuzzScale;
}

/** The message of a failed run of `file`: fast-check's report (seed, path, counterexample) and how to rerun it. */
export function failureMessage(report: string, seed: number, path: string | null, file: string, scale = 1): string {
  // The scale is part of the rerun: the failing case may lie past the unscaled run count.
  const env = scale === 1 ? `KILN_SEED=${seed}` : `KILN_SEED=${seed} KILN_FUZZ_SCALE=${scale}`;
  return `${report}\nRerun this run: ${env} node --import tsx --test ${file} (seed ${seed}, path "${path ?? ''}")`;
}

/** The test file being run (node --test runs each file as its own process, the file as argv[1]). */
const testFile = (process.argv[1] ?? '<file>').replace(`${process.cwd()}/`, '');

export const seed = seedFrom(process.env.KILN_SEED);

if (process.env.KILN_SEED === 'random') console.log(`property tests: KILN_SEED=${seed} (random)`);

fc.configureGlobal({
  ...fc.readConfigureGlobal(),
  seed,
  // The property's own error (an assertion's diff) in the message: test runners do not print `cause`.
  includeErrorInReport: true,
  reporter: (out) => {
    if (!out.failed) return;
    throw new Error(failureMessage(fc.defaultReportMessage(out) ?? 'property failed', out.seed, out.counterexamplePath, testFile, fuzzScale), { cause: out.errorInstance });
  },
});
