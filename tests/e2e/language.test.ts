// E2E: the language in the guest engine (docs/ARCHITECTURE.md, "The JavaScript engine"): an app
// using ES2022–ES2024 built-ins (quickjs_es2023.c), BigInt (CONFIG_BIGNUM), error cause, WeakRef,
// syntax that esbuild lowers, and top-level await (kiln build's async wrapper) prints the
// results the spec gives; a rejected top-level await ends the VM with code 1 and the error. On Kiln's VMM.
// kiln build gives the probe (it uses BigInt) the BigInt core, and hello the smaller one without it.

import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeSymbols, PAYLOAD_KIND_SYMBOLS, readImagePayload } from '@kiln/common';
import { coreSkip, kiln, kilnBuild, kilnTargets } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-language-'));
const probe = join(dir, 'probe.elf');
const reject = join(dir, 'tla_reject.elf');
const hello = join(dir, 'hello.elf');

/** Whether an image's core has BigInt: its symbols (the payload's symbol section) hold libbf's. */
function hasBigIntCore(image: string): boolean {
  const { sections } = readImagePayload(readFileSync(image));
  const symbols = decodeSymbols(sections.find((s) => s.kind === PAYLOAD_KIND_SYMBOLS)!.data);
  return symbols.some((s) => s.name === 'js_bigint_asUintN');
}

const EXPECTED = `String.prototype.at=o
Array.prototype.at=2
TypedArray.prototype.at=5
Object.hasOwn=true,false
findLast=3
findLastIndex=-1
toSorted=1,2,3|3,1,2
toReversed=2,1,3|3,1,2
with=3,1,9|3,1,2
toSpliced=3,x,y,2|3,1,2
TypedArray.toSorted=-1,0,2
Object.groupBy={"odd":[1,3],"even":[2,4]}
Map.groupBy=false:1 true:2,3
error cause=inner
WeakRef=true
symbols as weak keys=1,true,true,TypeError
getOrInsert=1,7,1
BigInt=18446744073709551617 bigint 1 -5
top-level await=resolved
class static block=42
private in=true,false
String.prototype.toWellFormed=65533
RegExp u-mode class escape \\-=true,SyntaxError
`;

describe('language', { skip: coreSkip() }, () => {
  before(async () => {
    await kilnBuild('tests/e2e/language/probe.ts', probe);
    await kilnBuild('tests/e2e/language/tla_reject.ts', reject);
    await kilnBuild('examples/hello/main.ts', hello);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the probe gets the BigInt core, hello (no BigInt) the smaller core without it', () => {
    assert.equal(hasBigIntCore(probe), true);
    assert.equal(hasBigIntCore(reject), false);
    assert.equal(hasBigIntCore(hello), false);
    assert.ok(statSync(hello).size + 100_000 < statSync(probe).size, `hello ${statSync(hello).size} bytes, probe ${statSync(probe).size}`);
  });

  for (const t of kilnTargets()) {
    describe(t.name, { skip: t.skip }, () => {
      test('the feature probe prints the spec\'s results', async () => {
        const r = await kiln(['run', probe, ...t.flags]);
        assert.equal(r.stdout.replace(/\r/g, ''), EXPECTED, r.stderr);
        assert.equal(r.code, 0, r.stderr);
      });
      test('a rejected top-level await ends the VM with code 1 and the error', async () => {
        const r = await kiln(['run', reject, ...t.flags]);
        assert.match(r.stdout, /^before\r?\nUncaught \(in promise\) RangeError: rejected at the top level/);
        assert.doesNotMatch(r.stdout, /never/);
        assert.equal(r.code, 1, r.stderr);
      });
    });
  }
});
