// Unit tests of the BigInt detection (bigint.ts) that picks kiln build's core: on scripts, and on
// whole bundles of small apps (kernel prelude included, which must not select BigInt by itself).
// Needs esbuild only (no arch core).

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { bigintUses, usesBigInt } from './bigint.ts';
import { bundle } from './build.ts';

describe('bigintUses: what in a script needs BigInt', () => {
  const uses: [string, string[]][] = [
    ['let x = 12n;', ['BigInt']],
    ['let x = 0x1fn + 0b1n;', ['BigInt']],
    ['const f = (a) => a ** 2n;', ['BigInt']],
    ['let s = `${1n}`;', ['BigInt']],
    ['BigInt(3);', ['BigInt']],
    ['typeof BigInt;', ['BigInt']],
    ['globalThis.BigInt(3);', ['BigInt']],
    ["globalThis['BigInt'](3);", ['BigInt']],
    ['const { BigInt: B } = globalThis;', ['BigInt']],
    ['new BigInt64Array(2);', ['BigInt64Array']],
    ['new BigUint64Array(2);', ['BigUint64Array']],
    ['new DataView(b).getBigInt64(0);', ['getBigInt64']],
    ['dv.setBigUint64(0, x, true);', ['setBigUint64']],
    ['process.hrtime.bigint();', ['bigint']],
  ];
  for (const [source, want] of uses) {
    test(`${source} → ${want.join(', ')}`, async () => assert.deepEqual(await bigintUses(source), want));
  }
  const none = [
    'let s = "BigInt 12n"; // BigInt(1), 12n',
    '/* new BigInt64Array(1); 3n */ let x = 3;',
    "const re = /BigInt\\(1n\\)/; const t = `BigInt 1n ${'getBigInt64'}`;",
    "if (typeof x === 'bigint') x = 0;",
    "const tags = ['BigInt64Array', 'BigUint64Array'];",
    'let BigInt = (n) => n; BigInt(2);', // a local of that name, not the global
    'let n = 1e3 + 0x1f + 10;',
    'dv.getUint32(0); dv.getFloat64(8);',
  ];
  for (const source of none) {
    test(`${source} → none`, async () => assert.deepEqual(await bigintUses(source), []));
  }
  test('a script esbuild cannot parse counts as BigInt', async () => assert.equal(await usesBigInt('let = = ;'), true));
});

describe('whole bundles: the core kiln build picks', () => {
  const root = mkdtempSync(join(tmpdir(), 'kiln-bigint-test-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const bundled = async (source: string): Promise<boolean> => {
    const entry = join(root, `app${n++}.ts`);
    writeFileSync(entry, source);
    return usesBigInt((await bundle(entry)).source);
  };
  test('hello (console.log only) gets the core without BigInt', async () => {
    assert.equal(await bundled("console.log('hello from kiln');\n"), false);
  });
  test('BigInt in strings and comments only: no BigInt', async () => {
    assert.equal(await bundled("// 10n, BigInt(1)\nconsole.log('BigInt 10n', /* new BigUint64Array */ `getBigInt64 ${1}n`);\n"), false);
  });
  test('an app using process (env, argv, hrtime) gets no BigInt; process.hrtime.bigint() selects it', async () => {
    assert.equal(await bundled('console.log(process.env.HOME, process.argv.length, process.hrtime());\n'), false);
    assert.equal(await bundled('console.log(Number(process.hrtime.bigint()));\n'), true);
  });
  test('node:util (whose type checks name BigInt64Array in strings) gets no BigInt', async () => {
    assert.equal(await bundled("import { types } from 'node:util';\nconsole.log(types.isBigInt64Array(new Uint8Array(1)));\n"), false);
  });
  test('a BigInt literal, the BigInt global, a BigInt typed array or DataView accessor select BigInt', async () => {
    assert.equal(await bundled('console.log(2n ** 64n);\n'), true);
    assert.equal(await bundled('console.log(BigInt.asUintN(64, -1n));\n'), true);
    assert.equal(await bundled('console.log(new BigUint64Array(1).length);\n'), true);
    assert.equal(await bundled('console.log(new DataView(new ArrayBuffer(8)).getBigInt64(0));\n'), true);
  });
  test('in a module the app imports', async () => {
    const lib = join(root, 'lib.ts');
    writeFileSync(lib, 'export const big = (x: number) => BigInt(x) << 3n;\n');
    assert.equal(await bundled(`import { big } from ${JSON.stringify(lib)};\nconsole.log(big(1));\n`), true);
  });
});
