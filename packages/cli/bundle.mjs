// bundle.mjs — builds the `kiln` command into one CommonJS file (dist/kiln.cjs) with esbuild.
// Why: compiling the TypeScript sources on every start (tsx) cost ~0.85 s, and a single script
// lets bin/kiln.js keep a V8 code cache for it (see there). Run by scripts/setup.sh and before
// the tests. esbuild itself stays external (it ships a native binary).
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const dist = here('./dist/');

for (const f of (() => { try { return readdirSync(dist); } catch { return []; } })()) {
  if (f.endsWith('.cache')) rmSync(dist + f); // code caches belong to the previous bundle
}

await build({
  entryPoints: [here('./src/main.ts')],
  outfile: dist + 'kiln.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['esbuild'],
  sourcemap: 'linked',
  // the sources locate the repository from their own URL; in the bundle that is the bundle's
  define: { 'import.meta.url': '__kiln_bundle_url' },
  banner: { js: "const __kiln_bundle_url = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
