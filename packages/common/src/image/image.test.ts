// Tests of the Kiln payload format and of assembleImage on synthetic cores: golden bytes,
// round trips, refusal of bad cores (no __payload_start, overlap), and property tests that
// decoding arbitrary bytes throws nothing but ImageError. Spec: docs/ARCHITECTURE.md.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '../testing/property.ts';
import { PF_R, PT_LOAD, PT_NOTE } from '../elf/constants.ts';
import { ImageError } from '../elf/errors.ts';
import { parseElf, segmentData } from '../elf/reader.ts';
import { SYN_ENTRY, SYN_NOTE, syntheticCore } from '../testing/synthetic_core.ts';
import { assembleImage, readImagePayload } from './assemble.ts';
import {
  PAYLOAD_KIND_BYTECODE, PAYLOAD_KIND_SYMBOLS, decodePayload, decodeSymbols, encodePayload, encodeSymbols,
} from './payload.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    return e.code;
  }
};

test('encodePayload_golden_bytes', () => {
  const p = encodePayload([{ kind: 1, data: new Uint8Array([0xaa, 0xbb, 0xcc]) }, { kind: 2, data: new Uint8Array([1]) }]);
  assert.equal(
    hex(p),
    '4b494c4e50415931' + '01000000' + '02000000' + '4800000000000000' + // magic, v1, N=2, total 72
      '01000000' + '00000000' + '38000000' + '03000000' + // kind 1 at 56, 3 bytes
      '02000000' + '00000000' + '40000000' + '01000000' + // kind 2 at 64, 1 byte
      'aabbcc0000000000' + '0100000000000000',
  );
});

test('payload_round_trip', () => {
  fc.assert(
    fc.property(fc.array(fc.record({ kind: fc.integer({ min: 1, max: 3 }), data: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 5 }), (secs) => {
      const enc = encodePayload(secs);
      assert.equal(enc.length % 8, 0);
      const dec = decodePayload(enc);
      assert.deepEqual(dec.map((s) => ({ kind: s.kind, data: Uint8Array.from(s.data) })), secs.map((s) => ({ kind: s.kind, data: s.data })));
    }),
  );
});

test('encodeSymbols_golden_bytes_sorted_by_address', () => {
  const t = encodeSymbols([{ address: 0x2000, name: 'b', size: 4 }, { address: 0x1000, name: 'main', size: 16 }]);
  assert.equal(
    hex(t),
    '02000000' +
      '0010000000000000' + '00000000' + '10000000' + // 0x1000 "main" size 16
      '0020000000000000' + '05000000' + '04000000' + // 0x2000 "b" size 4
      '6d61696e00' + '6200',
  );
  assert.deepEqual(decodeSymbols(t), [{ address: 0x1000, name: 'main', size: 16 }, { address: 0x2000, name: 'b', size: 4 }]);
});

test('decode_arbitrary_bytes_only_throws_ImageError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
    codeOf(() => decodePayload(b));
    codeOf(() => decodeSymbols(b));
  }));
  const good = encodePayload([{ kind: 1, data: new Uint8Array(20) }, { kind: 2, data: encodeSymbols([{ address: 1, name: 'x', size: 1 }]) }]);
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(good.length), (muts, cut) => {
    const b = good.slice(0, cut);
    for (const [i, v] of muts) if (i < b.length) b[i] = v;
    codeOf(() => decodePayload(b).forEach((s) => s.kind === 2 && decodeSymbols(s.data)));
  }), { numRuns: 2000 });
  assert.equal(codeOf(() => decodePayload(good.subarray(0, 30))), 'EBADPAYLOAD');
});

test('assembleImage_copies_core_segments_and_adds_payload', () => {
  const bytecode = new Uint8Array([0x02, 0x10, 0x20, 0x30]);
  const image = assembleImage(syntheticCore({ payloadStart: 0x104000 }), bytecode);
  const elf = parseElf(image);
  assert.equal(elf.header.entry, SYN_ENTRY);
  assert.equal(elf.header.shnum, 0);
  assert.deepEqual(elf.programHeaders.map((p) => [p.type, p.vaddr]), [[PT_LOAD, 0x100000], [PT_LOAD, 0x101000], [PT_NOTE, 0x100020], [PT_LOAD, 0x104000]]);
  assert.deepEqual(segmentData(elf, elf.programHeaders[2]!), SYN_NOTE);
  assert.equal(elf.programHeaders[1]!.memsz, 0x2000); // .bss kept
  const pay = elf.programHeaders[3]!;
  assert.equal(pay.flags, PF_R);
  assert.equal(pay.paddr, 0x104000);
  for (const ph of elf.programHeaders) assert.equal(ph.offset % 4096, ph.vaddr % 4096);

  const { address, sections } = readImagePayload(image);
  assert.equal(address, 0x104000);
  assert.deepEqual(sections.map((s) => s.kind), [PAYLOAD_KIND_BYTECODE, PAYLOAD_KIND_SYMBOLS]);
  assert.deepEqual(Uint8Array.from(sections[0]!.data), bytecode);
  assert.deepEqual(decodeSymbols(sections[1]!.data).map((s) => s.name), ['kmain', '_start', 'counter']);
});

test('assembleImage_refuses_bad_cores', () => {
  const bc = new Uint8Array(100);
  assert.equal(codeOf(() => assembleImage(syntheticCore({}), bc)), 'ENOSYMBOL');
  assert.equal(codeOf(() => assembleImage(syntheticCore({ payloadStart: 0x104010 }), bc)), 'EBADIMAGE');
  // .bss running over __payload_start
  assert.equal(codeOf(() => assembleImage(syntheticCore({ payloadStart: 0x102000, dataMemsz: 0x1008 }), bc)), 'EOVERLAP');
  assert.equal(codeOf(() => assembleImage(syntheticCore({ payloadStart: 0x103000 }), bc)), 'ok');
  assert.equal(codeOf(() => assembleImage(new Uint8Array(10), bc)), 'EBADIMAGE');
  const notX86 = syntheticCore({ payloadStart: 0x104000 });
  notX86[18] = 183; // EM_AARCH64
  assert.equal(codeOf(() => assembleImage(notX86, bc)), 'EUNSUPPORTED');
});
