// The chunked decoder (RFC 9112 §7.1): golden bodies with extensions and trailers, malformed
// framing (each a ParseError, never an exception), the property that any chunking of any
// data, fed in any pieces, decodes back to the data, and that chunk sizes are read exactly
// against the body limit (a BigInt reference), however many hex digits up to 16.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { runs } from '@kiln/common/testing/property.ts';
import { ChunkedDecoder, LAST_CHUNK, MAX_CHUNK_LINE, chunkSizeLine, chunkSizeValue } from './chunked.ts';
import { ParseError } from './parser.ts';

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array): string => String.fromCharCode(...b);

/** Feeds `input` in pieces of `piece` bytes (buffering the unconsumed rest); returns the body, or the error. */
function decode(input: Uint8Array, piece = input.length, maxTrailer = 1024, maxBody = 1 << 20): { body: string; done: boolean; rest: number } | ParseError {
  const d = new ChunkedDecoder(maxTrailer, maxBody);
  let body = '';
  let start = 0;
  let end = 0;
  for (;;) {
    const r = d.step(input, start, end);
    if (r instanceof ParseError) return r;
    if (d.dataEnd > d.dataStart) body += text(input.subarray(d.dataStart, d.dataEnd));
    start += r;
    if (d.done) return { body, done: true, rest: input.length - start };
    if (r === 0) {
      if (end === input.length) return { body, done: false, rest: input.length - start };
      end = Math.min(input.length, end + Math.max(1, piece));
    }
  }
}

test('chunked_golden_bodies', () => {
  assert.deepEqual(decode(bytes('5\r\nhello\r\n0\r\n\r\n')), { body: 'hello', done: true, rest: 0 });
  assert.deepEqual(decode(bytes('3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\nNEXT')), { body: 'abc0123456789', done: true, rest: 4 });
  assert.deepEqual(decode(bytes('00005;a=b;c="q \\" x" ; d\r\nhello\r\n0;last\r\nX-Sum: 1\r\nY: z\r\n\r\n')), { body: 'hello', done: true, rest: 0 });
  assert.deepEqual(decode(bytes('0\r\n\r\n')), { body: '', done: true, rest: 0 });
  assert.deepEqual(decode(bytes('5\r\nhel')), { body: 'hel', done: false, rest: 0 });
  assert.equal(chunkSizeLine(255), 'ff\r\n');
  assert.equal(chunkSizeLine(4096), '1000\r\n');
  assert.equal(LAST_CHUNK, '0\r\n\r\n');
});

test('chunked_malformed_is_a_parse_error', () => {
  const bad = [
    'x\r\n', '\r\n', ' 5\r\nhello\r\n', '5 \r\nhello\r\n', '-5\r\n', '+5\r\n', '0x5\r\n', '5\nhello\r\n', '5\r\nhelloXX', '5\r\nhello\n0\r\n\r\n',
    '1234567890abcdef0\r\n', '00000000000000005\r\n', '5;\r\nhello\r\n', '5;a=\r\n', '5;a="unterminated\r\n', '5;a b\r\n', '0\r\nbad trailer\r\n\r\n', '0\r\n : x\r\n\r\n',
    '0\r\nX: a\r\n b\r\n\r\n', '0\r\n\n',
  ];
  for (const s of bad) {
    const r = decode(bytes(s));
    assert.ok(r instanceof ParseError, `${JSON.stringify(s)} gave ${JSON.stringify(r)}`);
    assert.equal(r.status, 400, JSON.stringify(s));
  }
  assert.ok(decode(bytes(`5;x=${'a'.repeat(MAX_CHUNK_LINE)}\r\n`)) instanceof ParseError);
  const trailer = decode(bytes(`0\r\nX: ${'a'.repeat(2000)}\r\n\r\n`), undefined, 1024);
  assert.ok(trailer instanceof ParseError && trailer.status === 431);
});

test('chunked_any_chunking_in_any_pieces_round_trips', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 8 }), fc.integer({ min: 1, max: 16 }), (chunks, piece) => {
    let wire = '';
    for (const c of chunks) wire += `${chunkSizeLine(c.length)}${text(c)}\r\n`;
    wire += LAST_CHUNK;
    const r = decode(bytes(wire), piece);
    assert.ok(!(r instanceof ParseError));
    assert.deepEqual(r, { body: chunks.map(text).join(''), done: true, rest: 0 });
  }), { numRuns: 2000 });
});

test('chunked_any_bytes_never_throw', () => {
  const token = fc.constantFrom('0', '5', 'a', 'F', ';', '=', '"', '\r\n', '\r', '\n', ' ', 'x', ':', 'hello', '\0', '\xff');
  fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.array(token, { maxLength: 30 }).map((t) => bytes(t.join('')))), fc.integer({ min: 1, max: 8 }), (b, piece) => {
    const r = decode(b, piece, 64);
    // 413: a chunk size past the body limit (1 MiB here) — npm run fuzz found "500000\r\n" (corpus.test.ts).
    if (r instanceof ParseError) assert.ok(r.status === 400 || r.status === 413 || r.status === 431, `${r.status} ${r.reason}`);
  }), { numRuns: runs(5000) });
});

test('chunk_sizes_up_to_16_digits_against_the_body_limit', () => {
  assert.deepEqual(decode(bytes('0000000000000005\r\nhello\r\n0000000000000000\r\n\r\n')), { body: 'hello', done: true, rest: 0 });
  // Past the limit: 413 at the size line, before any of the chunk's data arrives.
  for (const [wire, limit] of [['6\r\n', 5], ['3\r\nabc\r\n3\r\n', 5], ['1234567890abcdef\r\n', 2 ** 53], ['ffffffffffffffff\r\n', Infinity]] as const) {
    const r = decode(bytes(wire), undefined, 1024, limit);
    assert.ok(r instanceof ParseError && r.status === 413, `${JSON.stringify(wire)} limit ${limit}: ${JSON.stringify(r)}`);
  }
  assert.deepEqual(decode(bytes('3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n'), 1, 1024, 5), { body: 'abcde', done: true, rest: 0 });
});

test('chunk_size_is_exact_against_any_limit', () => {
  const big = (n: bigint): fc.Arbitrary<bigint> => fc.bigInt({ min: n > 3n ? n - 3n : 0n, max: n + 3n });
  const value = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), big(1n << 53n), big(1n << 52n), big(1n << 32n), fc.bigInt({ min: 0n, max: 100n }));
  const limit = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constantFrom(2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 52 + 1, 2 ** 32, Infinity), fc.maxSafeNat());
  fc.assert(fc.property(value, limit, fc.integer({ min: 0, max: 16 }), (v, max, zeros) => {
    const hex = v.toString(16).padStart(zeros, '0');
    const r = new ChunkedDecoder(1024, max).step(bytes(`${hex}\r\n`), 0, hex.length + 2);
    if (hex.length > 16) assert.ok(r instanceof ParseError && r.status === 400, hex);
    else if (max !== Infinity && v > BigInt(max)) assert.ok(r instanceof ParseError && r.status === 413, `${hex} over ${max}`);
    else if (v >= 1n << 53n) assert.ok(r instanceof ParseError && r.status === 413, `${hex}: not countable exactly`);
    else {
      assert.equal(r, hex.length + 2, `${hex} within ${max}`);
      assert.equal(chunkSizeValue(hex), Number(v));
    }
  }), { numRuns: runs(5000) });
});
