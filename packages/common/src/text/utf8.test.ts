// The one UTF-8 codec against Node's TextEncoder/TextDecoder (the WHATWG reference): any
// string encodes the same, whole or into a buffer of any size (never splitting a character),
// any bytes decode the same, and strict mode refuses exactly what the fatal decoder refuses.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '../testing/property.ts';
import { decodeUtf8, encodeUtf8, encodeUtf8Into, utf8Length } from './utf8.ts';

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

test('encodeUtf8Into_matches_TextEncoder_encodeInto_at_any_offsets', () => {
  const units = fc.constantFrom('a', '\x7f', '\x80', 'é', '\u07ff', '\u0800', '€', '\uffff', '\ud83d', '\ude00', '😀');
  const str = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: units }));
  fc.assert(fc.property(str, fc.nat(8), fc.nat(24), fc.nat(4), (s, fromRaw, size, at) => {
    const from = Math.min(fromRaw, s.length);
    const out = new Uint8Array(at + size);
    const ref = new Uint8Array(size);
    const { read, written } = new TextEncoder().encodeInto(s.slice(from), ref);
    assert.deepEqual(encodeUtf8Into(s, from, out, at), [from + read, at + written]);
    assert.deepEqual(out.subarray(at, at + written), ref.subarray(0, written));
  }), { numRuns: 3000 });
  const samples = ['', 'ascii', 'é', '✓', '𝄞', 'a\ud800b', '\udc00', 'x'.repeat(100) + '𝄞', '日本語テキスト'];
  for (const s of samples) {
    const out = new Uint8Array(4 * s.length + 4);
    const [i, n] = encodeUtf8Into(s, 0, out, 0);
    assert.equal(i, s.length);
    assert.deepEqual(out.subarray(0, n), new TextEncoder().encode(s), JSON.stringify(s));
  }
  assert.deepEqual(encodeUtf8Into('ab𝄞c', 0, new Uint8Array(5), 0), [2, 2], 'a 4-byte character does not fit in the 3 bytes left');
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
