// TextEncoder/TextDecoder against Node's (WHATWG-conformant) ones: any string (lone surrogates
// included) encodes to the same bytes, any bytes decode to the same string (U+FFFD per maximal
// subpart), in one call or streamed in random pieces, and fatal mode throws exactly when Node's does.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { latin1Decode } from '@kiln/common/text/latin1.ts';
import { utf8Length } from '@kiln/common/text/utf8.ts';
import { TextDecoder, TextEncoder } from './text_codec.ts';

const NodeEncoder = globalThis.TextEncoder;
const NodeDecoder = globalThis.TextDecoder;

// Strings rich in the interesting code units: ASCII, 2/3/4-byte sequences, lone surrogates.
const units = fc.constantFrom('a', '~', '\0', '\x7f', '\x80', 'é', '\u07ff', '\u0800', '€', '\uffff', '\ud83d', '\ude00', '😀', '\ufeff');
const anyString = fc.oneof(fc.string(), fc.string({ unit: units }), fc.string({ unit: 'grapheme' }));
// Bytes rich in UTF-8 lead and continuation bytes.
const utf8ish = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0x80, 0xbf, 0x9f, 0xa0, 0x8f, 0x90, 0xbb)), { maxLength: 40 }).map((a) => new Uint8Array(a));

test('encode_matches_node_for_any_string', () => {
  const ours = new TextEncoder();
  const node = new NodeEncoder();
  fc.assert(fc.property(anyString, (s) => {
    assert.deepEqual(ours.encode(s), node.encode(s));
    assert.equal(utf8Length(s), node.encode(s).length);
  }), { numRuns: 2000 });
});

test('encodeInto_matches_node_including_partial_fits', () => {
  fc.assert(fc.property(anyString, fc.integer({ min: 0, max: 20 }), (s, size) => {
    const a = new Uint8Array(size);
    const b = new Uint8Array(size);
    assert.deepEqual(new TextEncoder().encodeInto(s, a), new NodeEncoder().encodeInto(s, b));
    assert.deepEqual(a, b);
  }), { numRuns: 2000 });
});

test('decode_matches_node_for_any_bytes', () => {
  fc.assert(fc.property(utf8ish, fc.boolean(), (bytes, ignoreBOM) => {
    assert.equal(new TextDecoder('utf-8', { ignoreBOM }).decode(bytes), new NodeDecoder('utf-8', { ignoreBOM }).decode(bytes));
  }), { numRuns: 5000 });
});

test('decode_fatal_throws_when_node_does', () => {
  fc.assert(fc.property(utf8ish, (bytes) => {
    let expected: string | Error;
    try {
      expected = new NodeDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (e) {
      expected = e as Error;
    }
    if (typeof expected === 'string') assert.equal(new TextDecoder('utf-8', { fatal: true }).decode(bytes), expected);
    else assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes), TypeError);
  }), { numRuns: 3000 });
});

test('streaming_decode_in_random_pieces_matches_one_call', () => {
  fc.assert(fc.property(utf8ish, fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 6 }), (bytes, cuts) => {
    const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((x, y) => x - y);
    const ours = new TextDecoder();
    const node = new NodeDecoder();
    let a = '';
    let b = '';
    let prev = 0;
    for (const p of [...points, bytes.length]) {
      a += ours.decode(bytes.subarray(prev, p), { stream: true });
      b += node.decode(bytes.subarray(prev, p), { stream: true });
      prev = p;
    }
    a += ours.decode();
    b += node.decode();
    assert.equal(a, b);
  }), { numRuns: 3000 });
});

test('decoder_golden_cases', () => {
  const d = new TextDecoder();
  assert.equal(d.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])), 'A');
  assert.equal(new TextDecoder('utf-8', { ignoreBOM: true }).decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])), '\ufeffA');
  assert.equal(d.decode(new Uint8Array([0xf0, 0x9f, 0x98, 0x80])), '😀');
  assert.equal(d.decode(new Uint8Array([0xed, 0xa0, 0x80])), '\ufffd\ufffd\ufffd'); // an encoded surrogate
  assert.equal(d.decode(new Uint8Array([0xf0, 0x9f, 0x98])), '\ufffd'); // truncated: one maximal subpart
  assert.equal(d.decode(new Uint8Array([0xc0, 0xaf])), '\ufffd\ufffd'); // overlong
  assert.equal(d.decode(new Uint16Array([0x4241]).buffer), 'AB');
  assert.equal(d.decode(new DataView(new Uint8Array([0x68, 0x69]).buffer)), 'hi');
  assert.equal(d.encoding, 'utf-8');
  assert.equal(new TextDecoder(' UTF8 ').encoding, 'utf-8');
  assert.throws(() => new TextDecoder('latin1'), RangeError);
  assert.throws(() => d.decode('x' as unknown as Uint8Array), TypeError);
  const big = new Uint8Array(100_000).fill(0x61);
  assert.equal(d.decode(big).length, 100_000);
  assert.equal(latin1Decode(new Uint8Array([0, 0x80, 0xff])), '\0\x80\xff');
});

// UTF-16: bytes rich in surrogate halves and BOMs, in both byte orders.
const utf16ish = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0xd8, 0xdb, 0xdc, 0xdf, 0xfe, 0xff, 0x00, 0x3d, 0xde)), { maxLength: 40 }).map((a) => new Uint8Array(a));
const utf16Label = fc.constantFrom('utf-16le', 'utf-16be', 'utf-16', 'UTF-16BE', 'unicodefffe', 'ucs-2');

test('utf16_decode_matches_node_in_one_call_and_streamed_fatal_or_not', () => {
  fc.assert(fc.property(utf16Label, utf16ish, fc.array(fc.nat(), { maxLength: 5 }), fc.boolean(), fc.boolean(), (label, bytes, cuts, fatal, ignoreBOM) => {
    const options = { fatal, ignoreBOM };
    const node = (): string => new NodeDecoder(label, options).decode(bytes);
    const ours = new TextDecoder(label, options);
    let want: string | undefined;
    try {
      want = node();
    } catch {
      want = undefined;
    }
    if (want === undefined) assert.throws(() => ours.decode(bytes), TypeError);
    else assert.equal(ours.decode(bytes), want);
    assert.equal(ours.encoding, new NodeDecoder(label).encoding);
    // Streamed in pieces (not fatal: where it throws depends on the piece).
    const streaming = new TextDecoder(label, { ignoreBOM });
    const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    let got = '';
    let prev = 0;
    for (const c of at) {
      got += streaming.decode(bytes.subarray(prev, c), { stream: true });
      prev = c;
    }
    got += streaming.decode(bytes.subarray(prev));
    assert.equal(got, new NodeDecoder(label, { ignoreBOM }).decode(bytes));
  }), { numRuns: 500 });
});

test('labels: ASCII whitespace only is stripped; legacy encodings are a RangeError naming the label', () => {
  assert.equal(new TextDecoder('\t\n utf-16\f\r').encoding, 'utf-16le');
  assert.throws(() => new TextDecoder('\vutf-8'), RangeError);
  assert.throws(() => new TextDecoder('utf-8\v'), RangeError);
  assert.throws(() => new TextDecoder('windows-1252'), /The "windows-1252" encoding is not supported \(Kiln decodes utf-8, utf-16le and utf-16be\)/);
});
