// Does a bundle use BigInt? `kiln build` then takes the BigInt core and bytecode compiler
// (arch/build/kiln-core-bigint.elf + kiln-qjsc-bigint, CONFIG_BIGNUM); every other app gets the
// smaller, faster pair without it (docs/ARCHITECTURE.md, "The JavaScript engine").
// esbuild parses the bundle, so nothing in a string, a comment, a regular expression or a
// template's text counts. Conservative: a BigInt literal (`12n`), the free globals below, and
// any property of one of these names (`globalThis.BigInt`, `globalThis['BigInt']`,
// `dv.getBigInt64`, `process.hrtime.bigint`, a method or key of that name) select BigInt.

import * as esbuild from 'esbuild';

/** Globals that exist only with BigInt. */
const GLOBALS = ['BigInt', 'BigInt64Array', 'BigUint64Array'];
/** Property names that need BigInt where they are read: the globals through globalThis, DataView's
 * 64-bit accessors, process.hrtime.bigint (units/node/process.ts defines it by a string key). */
const PROPERTIES = [...GLOBALS, 'getBigInt64', 'setBigInt64', 'getBigUint64', 'setBigUint64', 'bigint'];
const probe = (name: string): string => `__kiln_bigint_probe_${name}_`; // no probe is a prefix of another

/** What in `source` (a script, esbuild's bundle) needs BigInt: the names found, `BigInt` for a
 * literal; empty for none. A bundle esbuild cannot parse counts as BigInt (it picks the engine
 * that runs more). */
export async function bigintUses(source: string): Promise<string[]> {
  try {
    // Pass 1 lowers each BigInt literal to a call of the global BigInt, which pass 2 then sees.
    const lowered = await esbuild.transform(source, { loader: 'js', supported: { bigint: false }, logLevel: 'silent' });
    const cache: Record<string, string | false> = {};
    const scan = await esbuild.transform(lowered.code, {
      loader: 'js',
      logLevel: 'silent',
      define: Object.fromEntries(GLOBALS.map((g) => [g, probe(g)])),
      mangleProps: new RegExp(`^(${PROPERTIES.join('|')})$`),
      mangleQuoted: true,
      mangleCache: cache,
    });
    const found = new Set([
      ...GLOBALS.filter((g) => scan.code.includes(probe(g))),
      ...Object.keys(scan.mangleCache ?? {}),
    ]);
    return [...found].sort();
  } catch {
    return ['(unparsed)'];
  }
}

export async function usesBigInt(source: string): Promise<boolean> {
  return (await bigintUses(source)).length > 0;
}
