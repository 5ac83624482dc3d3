// Tests of the ELF64 reader and writer: golden bytes, round trips, a synthetic core with
// section headers and symbols, bounds checks, and a property test that parsing arbitrary
// bytes throws nothing but ImageError. Spec: gABI ELF-64 1.5.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '../testing/property.ts';
import { EM_X86_64, ET_EXEC, PF_R, PF_W, PF_X, PT_LOAD, PT_NOTE, STT_FUNC, STT_OBJECT } from './constants.ts';
import { ImageError } from './errors.ts';
import { findSymbol, parseElf, readSymbols, segmentData } from './reader.ts';
import { writeElf } from './writer.ts';
import { SYN_ENTRY, SYN_NOTE, syntheticCore } from '../testing/synthetic_core.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('writeElf_one_segment_golden_bytes', () => {
  const elf = writeElf({
    entry: 0x100000,
    segments: [{ type: PT_LOAD, flags: PF_R | PF_X, vaddr: 0x100000, data: new Uint8Array([0xf4, 0xeb, 0xfe]) }],
  });
  assert.equal(elf.length, 4096 + 3);
  assert.equal(
    hex(elf.subarray(0, 64)),
    '7f454c46020101000000000000000000' + // magic, ELFCLASS64, LSB, EV_CURRENT, SYSV
      '02003e000100000000001000' + '00000000' + // ET_EXEC, EM_X86_64, version, e_entry
      '4000000000000000' + '0000000000000000' + // e_phoff = 64, e_shoff = 0
      '00000000' + '4000' + '3800' + '0100' + '4000' + '0000' + '0000', // flags, sizes, phnum 1, shnum 0
  );
  assert.equal(
    hex(elf.subarray(64, 120)),
    '01000000' + '05000000' + // PT_LOAD, R|X
      '0010000000000000' + // p_offset 4096
      '0000100000000000' + '0000100000000000' + // vaddr, paddr
      '0300000000000000' + '0300000000000000' + // filesz, memsz
      '0010000000000000', // align 4096
  );
  assert.equal(hex(elf.subarray(4096)), 'f4ebfe');
});

test('writeElf_offsets_congruent_to_vaddr_mod_page', () => {
  const elf = writeElf({
    entry: 0x100000,
    segments: [
      { type: PT_LOAD, flags: PF_R, vaddr: 0x100000, data: new Uint8Array(5000).fill(1) },
      { type: PT_LOAD, flags: PF_R | PF_W, vaddr: 0x102345, data: new Uint8Array(10).fill(2), memsz: 100 },
      { type: PT_NOTE, flags: PF_R, vaddr: 0x100020, data: SYN_NOTE, align: 4 },
    ],
  });
  const parsed = parseElf(elf);
  assert.equal(parsed.header.shnum, 0);
  for (const ph of parsed.programHeaders) assert.equal(ph.offset % 4096, ph.vaddr % 4096);
  assert.deepEqual(segmentData(parsed, parsed.programHeaders[1]!), new Uint8Array(10).fill(2));
  assert.equal(parsed.programHeaders[1]!.memsz, 100);
  assert.deepEqual(segmentData(parsed, parsed.programHeaders[2]!), SYN_NOTE);
  assert.equal(parsed.programHeaders[2]!.align, 4);
});

test('writeElf_then_parseElf_round_trip', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          vaddr: fc.integer({ min: 0, max: 2 ** 40 }),
          flags: fc.integer({ min: 0, max: 7 }),
          data: fc.uint8Array({ maxLength: 64 }),
          extra: fc.integer({ min: 0, max: 1 << 20 }),
        }),
        { maxLength: 6 },
      ),
      fc.integer({ min: 0, max: 2 ** 48 }),
      (segs, entry) => {
        const elf = parseElf(writeElf({
          entry,
          segments: segs.map((s) => ({ type: PT_LOAD, flags: s.flags, vaddr: s.vaddr, data: s.data, memsz: s.data.length + s.extra })),
        }));
        assert.equal(elf.header.entry, entry);
        assert.equal(elf.header.type, ET_EXEC);
        assert.equal(elf.header.machine, EM_X86_64);
        assert.equal(elf.programHeaders.length, segs.length);
        segs.forEach((s, i) => {
          const ph = elf.programHeaders[i]!;
          assert.equal(ph.vaddr, s.vaddr);
          assert.equal(ph.paddr, s.vaddr);
          assert.equal(ph.flags, s.flags);
          assert.equal(ph.memsz, s.data.length + s.extra);
          assert.deepEqual(segmentData(elf, ph), s.data);
          if (s.data.length > 0) assert.equal(ph.offset % 4096, s.vaddr % 4096);
        });
      },
    ),
  );
});

test('parseElf_synthetic_core_sections_and_symbols', () => {
  const elf = parseElf(syntheticCore({ payloadStart: 0x104000 }));
  assert.equal(elf.header.entry, SYN_ENTRY);
  assert.deepEqual(elf.sectionHeaders.map((s) => s.name), ['', '.text', '.bss', '.symtab', '.strtab', '.shstrtab']);
  const syms = readSymbols(elf);
  assert.deepEqual(
    syms.filter((s) => s.name !== '').map((s) => [s.name, s.value, s.type]),
    [['_start', SYN_ENTRY, STT_FUNC], ['kmain', 0x100000, STT_FUNC], ['counter', 0x101000, STT_OBJECT], ['__payload_start', 0x104000, 0]],
  );
  assert.equal(findSymbol(elf, '__payload_start')?.value, 0x104000);
  assert.equal(findSymbol(elf, 'nope'), undefined);
});

test('parseElf_rejects_with_stable_codes', () => {
  const code = (b: Uint8Array): string => {
    try {
      parseElf(b);
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof ImageError);
      return e.code;
    }
  };
  assert.equal(code(new Uint8Array(0)), 'EBADIMAGE');
  assert.equal(code(new TextEncoder().encode('#!/bin/sh\necho hi\n')), 'EBADIMAGE');
  const good = syntheticCore({ payloadStart: 0x104000 });
  assert.equal(code(good), 'ok');
  assert.equal(code(good.subarray(0, 40)), 'ETRUNCATED'); // header cut
  assert.equal(code(good.subarray(0, 100)), 'ETRUNCATED'); // program headers cut
  assert.equal(code(good.subarray(0, 4100)), 'ETRUNCATED'); // segment data cut
  const elf32 = good.slice();
  elf32[4] = 1;
  assert.equal(code(elf32), 'EUNSUPPORTED');
  const big = good.slice();
  big[5] = 2;
  assert.equal(code(big), 'EUNSUPPORTED');
});

test('parseElf_arbitrary_bytes_only_throws_ImageError', () => {
  const good = syntheticCore({ payloadStart: 0x104000 });
  const check = (b: Uint8Array): void => {
    try {
      const elf = parseElf(b);
      readSymbols(elf);
      for (const ph of elf.programHeaders) segmentData(elf, ph);
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (b) => check(b)));
  // Mutations of a valid core reach deeper paths than random bytes.
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(good.length), (muts, cut) => {
      const b = good.slice(0, Math.max(cut, 64));
      for (const [i, v] of muts) if (i < b.length) b[i] = v;
      check(b);
    }),
    { numRuns: 2000 },
  );
});
