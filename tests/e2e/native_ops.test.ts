// Native ops that have a TypeScript twin must agree with it inside a real guest: a test app
// (built from a temp file that imports the kernel's ops directly) checks op_net_checksum
// against wire/checksum.ts's sumWordsJs on random buffers, offsets, odd lengths and running
// sums, and that a range outside the array is a RangeError; and op_set_function_name (the
// bundle's __name) against Object.defineProperty: the same property descriptors on fresh arrows,
// named functions, classes and a class whose static `name` is a writable field, the same
// TypeError for a non-object. Boots on every available target.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coreSkip, kiln, kilnBuild, ROOT, targets } from './helpers.ts';

const APP = `
import { ops } from '${ROOT}/packages/kernel/src/ops.ts';
import { finishChecksum, sumWordsJs } from '${ROOT}/packages/common/src/wire/checksum.ts';
let seed = 12345;
const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
let bad = 0;
for (let i = 0; i < 400; i++) {
  const len = rnd(i < 200 ? 64 : 9000);
  const b = new Uint8Array(len + 16).subarray(rnd(8));
  for (let j = 0; j < b.length; j++) b[j] = rnd(256);
  const start = len ? rnd(len) : 0;
  const end = start + rnd(len - start + 1);
  const init = rnd(3) === 0 ? 0 : rnd(0x7fffffff) * 1000;
  if (finishChecksum(ops.op_net_checksum(b, start, end, init)) !== finishChecksum(sumWordsJs(b, start, end, init))) bad++;
}
let range = 'none';
try { ops.op_net_checksum(new Uint8Array(4), 2, 5, 0); } catch (e) { range = (e as Error).name; }
const viaDefine = <T,>(t: T, name: string): T => Object.defineProperty(t, 'name', { value: name, configurable: true });
const makers: (() => object)[] = [
  () => () => 1,
  () => function named() {},
  () => class {},
  () => class { static name = 'field'; },
];
let nameBad = 0;
for (const make of makers) {
  const a = make();
  const b = make();
  if (ops.op_set_function_name(a, 'kept') !== a) nameBad++;
  viaDefine(b, 'kept');
  if (JSON.stringify(Object.getOwnPropertyDescriptor(a, 'name')) !== JSON.stringify(Object.getOwnPropertyDescriptor(b, 'name'))) nameBad++;
}
let nameErr = 'none';
try { ops.op_set_function_name(7 as unknown as object, 'x'); } catch (e) { nameErr = (e as Error).name; }
console.log('mismatches ' + bad + ' range ' + range + ' names ' + nameBad + ' ' + nameErr);
`;

for (const t of targets()) {
  test(`op_net_checksum agrees with sumWordsJs, op_set_function_name with Object.defineProperty (${t.name})`, { skip: coreSkip() ?? t.skip }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-ops-'));
    writeFileSync(join(dir, 'main.ts'), APP);
    await kilnBuild(join(dir, 'main.ts'), join(dir, 'ops.elf'));
    const r = await kiln(['run', join(dir, 'ops.elf'), ...t.flags]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mismatches 0 range RangeError names 0 TypeError/);
  });
}
