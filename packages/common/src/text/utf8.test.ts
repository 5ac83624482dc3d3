// The guest's UTF-8 codec against Node's TextEncoder/TextDecoder (the WHATWG reference): any
// string encodes the same, any bytes decode the same, and strict mode refuses exactly what
// the fatal decoder refuses.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '../testing/property.ts';
import { decodeUtf8, encodeUtf8, utf8Length } from './utf8.ts';

const strictRef = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientRef = new TextDecoder('utf-8', { ignoreBOM: true });

test('encodeUtf8_matches_TextEncoder', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map((c) => String.fromCharCode(c)) }), (a, b) => {
    for (const s of [a, b, a + b]) {
      const ref = new TextEncoder().encode(s);
      assert.deepEqual(encodeUtf8(s), ref);
      assert.equal(utf8Length(s), ref.length);
    }
  }));
});

test('decodeUtf8_matches_TextDecoder', () => {
  const bytesArb = fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.array(fc.constantFrom(0x41, 0x80, 0xbf, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0x9f, 0xa0, 0x90, 0x8f), { maxLength: 12 }).map((a) => Uint8Array.from(a)));
  fc.assert(fc.property(bytesArb, (b) => {
    assert.equal(decodeUtf8(b), lenientRef.decode(b));
    let ref: string | undefined;
    try {
      ref = strictRef.decode(b);
    } catch {
      ref = undefined;
    }
    assert.equal(decodeUtf8(b, true), ref);
  }), { numRuns: 5000 });
  const long = 'é'.repeat(5000) + '😀';
  assert.equal(decodeUtf8(new TextEncoder().encode(long)), long);
});
