#!/usr/bin/env -S node --min-semi-space-size=16
// kiln command entry: runs the bundled CLI (dist/kiln.cjs, built from src/ by bundle.mjs during
// the setup and before the tests) with a V8 code cache per subcommand (dist/kiln.<cmd>.cache),
// written after the first run of that subcommand and rewritten whenever V8 rejects it (a new
// bundle or Node version). Measured: `kiln run` start-up 0.34 s → 0.21 s, and the VM build,
// which runs cold JavaScript, 11-12 ms → 7 ms. The shebang gives V8 a 16 MiB young generation
// so that no scavenge (1.3 ms each here) lands in the middle of a VM build. Linked as the
// `kiln` bin of @kiln/cli.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const bundle = fileURLToPath(new URL('../dist/kiln.cjs', import.meta.url));
if (!existsSync(bundle)) {
  console.error('kiln: the CLI is not built: run the setup first (bash scripts/setup.sh)');
  process.exit(2);
}
const argv = process.argv.slice(2);
const command = /^[a-z]+$/.test(argv[0] ?? '') ? argv[0] : 'other';
const cacheFile = bundle.replace(/\.cjs$/, `.${command}.cache`);
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new Script(Module.wrap(readFileSync(bundle, 'utf8')), { filename: bundle, cachedData });
const mod = { exports: {} };
script.runInThisContext().call(mod.exports, mod.exports, createRequire(bundle), mod, bundle, dirname(bundle));
process.exitCode = await mod.exports.main(argv);
if (cachedData === undefined || script.cachedDataRejected) {
  try {
    const tmp = `${cacheFile}.${process.pid}`;
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cacheFile); // atomic: concurrent runs never read half a cache
  } catch {
    // a read-only checkout only loses the speed-up
  }
}
