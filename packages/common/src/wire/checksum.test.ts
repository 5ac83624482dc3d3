// The Internet checksum: RFC 1071's worked example, the pseudo-header sum, and the 32-bit bulk
// path of sumWords equal to the plain big-endian word loop for any bytes, alignment, range and
// starting sum (fast-check).

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '../testing/property.ts';
import { finishChecksum, internetChecksum, pseudoHeaderSum, sumWords } from './checksum.ts';

function reference(b: Uint8Array, start: number, end: number, sum = 0): number {
  for (let i = start; i < end; i += 2) sum += (b[i]! << 8) | (i + 1 < end ? b[i + 1]! : 0);
  return sum;
}

test('rfc1071_example', () => {
  // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (one's complement), checksum 220d
  const b = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
  assert.equal(internetChecksum(b), 0x220d);
  assert.equal(pseudoHeaderSum(0x0a00020f, 0x0a000202, 6, 20), 0x0a00 + 0x020f + 0x0a00 + 0x0202 + 6 + 20);
});

test('sum_words_bulk_path_equals_the_plain_loop', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 1600 }), fc.nat(8), fc.nat(1600), fc.nat(1600), fc.nat(0xfffff), (bytes, shift, a, z, init) => {
    const buf = new Uint8Array(bytes.length + 8);
    const b = buf.subarray(shift % 8, shift % 8 + bytes.length);
    b.set(bytes);
    const start = Math.min(a, b.length);
    const end = Math.max(start, Math.min(z, b.length));
    assert.equal(finishChecksum(sumWords(b, start, end, init)), finishChecksum(reference(b, start, end, init)));
  }), { numRuns: 2000 });
});

test('all_ones_and_all_zeros', () => {
  for (const v of [0, 0xff]) {
    for (const len of [64, 65, 1480, 1481]) {
      const b = new Uint8Array(len + 2).fill(v).subarray(2);
      assert.equal(internetChecksum(b), finishChecksum(reference(b, 0, len)), `${v} ${len}`);
    }
  }
});
