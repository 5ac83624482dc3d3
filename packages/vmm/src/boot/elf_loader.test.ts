// ELF loader tests: a well-formed image loads (segments copied, bss zeroed, PVH note found with
// a 4- or 8-byte value), malformed images are rejected with typed ImageErrors, and a property
// test checks that arbitrary bytes never make the parser throw anything else.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { writeElf, PT_LOAD, PT_NOTE, PF_R, PF_X, PF_W, ImageError, type SegmentSpec } from '@kiln/common';
import { parseKernelImage, loadKernelImage } from './elf_loader.ts';
import { GuestRam } from './guest_ram.ts';
import { ramRegions } from './layout.ts';

const MiB = 1024 * 1024;
const ramOf = (mem: number): GuestRam => new GuestRam(new Uint8Array(mem), ramRegions(mem));
const RAM8 = ramOf(8 * MiB);

function xenNote(value: number, size: 4 | 8): Uint8Array {
  const n = new Uint8Array(16 + size);
  const v = new DataView(n.buffer);
  v.setUint32(0, 4, true);
  v.setUint32(4, size, true);
  v.setUint32(8, 18, true);
  n.set([0x58, 0x65, 0x6e, 0], 12);
  if (size === 4) v.setUint32(16, value, true);
  else v.setBigUint64(16, BigInt(value), true);
  return n;
}

function image(opts: { entry?: number; vaddr?: number; memsz?: number; note?: Uint8Array } = {}): Uint8Array {
  const text = new Uint8Array([0xf4, 1, 2, 3, 4, 5, 6, 7]);
  const segments: SegmentSpec[] = [{ type: PT_LOAD, flags: PF_R | PF_X | PF_W, vaddr: opts.vaddr ?? 0x100000, data: text, memsz: opts.memsz ?? 0x2000 }];
  if (opts.note) segments.push({ type: PT_NOTE, flags: PF_R, vaddr: 0x100100, data: opts.note, memsz: opts.note.length });
  return writeElf({ entry: opts.entry ?? 0x100000, segments });
}

const code = (c: string) => (e: unknown) => e instanceof ImageError && e.code === c;

test('loads PT_LOAD at p_paddr and zeroes memsz past filesz', () => {
  const ram = ramOf(8 * MiB);
  ram.fill(0x100000, 0x3000, 0xee);
  const k = loadKernelImage(image(), ram);
  assert.equal(k.entry, 0x100000);
  assert.equal(k.pvhEntry, undefined);
  assert.deepEqual([...ram.slice(0x100000, 8)], [0xf4, 1, 2, 3, 4, 5, 6, 7]);
  assert.ok(ram.slice(0x100008, 0x2000 - 8).every((b) => b === 0));
  assert.equal(ram.slice(0x102000, 1)[0], 0xee, 'nothing written past memsz');
  assert.equal(k.end, 0x102000);
});

test('with ramIsZero the memsz tail is left as it is (fresh RAM is already zero)', () => {
  const ram = ramOf(8 * MiB);
  ram.fill(0x100000, 0x3000, 0xee);
  const kernel = parseKernelImage(image(), ram);
  loadKernelImage(image(), ram, { kernel, ramIsZero: true });
  assert.deepEqual([...ram.slice(0x100000, 8)], [0xf4, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(ram.slice(0x100008, 1)[0], 0xee, 'bss not rewritten');
});

test('finds the PVH note with a 4- or 8-byte value', () => {
  assert.equal(parseKernelImage(image({ note: xenNote(0x100004, 4) }), RAM8).pvhEntry, 0x100004);
  assert.equal(parseKernelImage(image({ note: xenNote(0x100006, 8) }), RAM8).pvhEntry, 0x100006);
  assert.throws(() => parseKernelImage(image({ note: xenNote(0x5000, 4) }), RAM8), code('EBADIMAGE'));
});

test('rejects: not ELF, wrong class, wrong endianness, wrong machine, not ET_EXEC', () => {
  assert.throws(() => parseKernelImage(new TextEncoder().encode('#!/bin/sh\n'), RAM8), code('EBADIMAGE'));
  assert.throws(() => parseKernelImage(new Uint8Array(0), RAM8), code('EBADIMAGE'));
  const b = image();
  const mod = (off: number, val: number): Uint8Array => {
    const c = b.slice();
    c[off] = val;
    return c;
  };
  assert.throws(() => parseKernelImage(mod(4, 1), RAM8), code('EUNSUPPORTED')); // ELFCLASS32
  assert.throws(() => parseKernelImage(mod(5, 2), RAM8), code('EUNSUPPORTED')); // big-endian
  assert.throws(() => parseKernelImage(mod(18, 3), RAM8), code('EUNSUPPORTED')); // EM_386
  assert.throws(() => parseKernelImage(mod(16, 3), RAM8), code('EUNSUPPORTED')); // ET_DYN
  assert.throws(() => parseKernelImage(b.subarray(0, 40), RAM8), code('ETRUNCATED'));
});

test('rejects truncated program headers and segments outside the file', () => {
  const b = image();
  assert.throws(() => parseKernelImage(b.subarray(0, 64 + 20), RAM8), code('ETRUNCATED'));
  const c = b.slice();
  const v = new DataView(c.buffer);
  v.setBigUint64(64 + 32, 0x100000n, true); // p_filesz past the end
  assert.throws(() => parseKernelImage(c, RAM8), code('ETRUNCATED'));
  const d = b.slice();
  new DataView(d.buffer).setBigUint64(32, 0xffff_ffff_ffff_fff0n, true); // e_phoff huge: no overflow
  assert.throws(() => parseKernelImage(d, RAM8), code('ETRUNCATED'));
  const e = b.slice();
  new DataView(e.buffer).setBigUint64(64 + 8, 0xffff_ffff_ffff_fff0n, true); // p_offset + filesz overflows
  assert.throws(() => parseKernelImage(e, RAM8), code('ETRUNCATED'));
});

test('rejects segments outside RAM or below 1 MiB, and overflowing sizes', () => {
  assert.throws(() => parseKernelImage(image({ vaddr: 0x7f0000, memsz: 0x20000, entry: 0x7f0000 }), RAM8), (e: unknown) => code('EBADIMAGE')(e) && /does not fit/.test((e as Error).message));
  assert.throws(() => parseKernelImage(image({ vaddr: 0x80000, entry: 0x80000 }), RAM8), (e: unknown) => code('EBADIMAGE')(e) && /below 1 MiB/.test((e as Error).message));
  const b = image();
  new DataView(b.buffer).setBigUint64(64 + 40, 0xffff_ffff_ffff_0000n, true); // p_memsz huge
  assert.throws(() => parseKernelImage(b, RAM8), code('EBADIMAGE'));
  // it fits with more RAM
  assert.equal(parseKernelImage(image({ vaddr: 0x7f0000, memsz: 0x20000, entry: 0x7f0000 }), ramOf(16 * MiB)).entry, 0x7f0000);
});

test('rejects an entry point outside the loaded segments', () => {
  assert.throws(() => parseKernelImage(image({ entry: 0x200000 }), RAM8), (e: unknown) => code('EBADIMAGE')(e) && /entry point 0x200000/.test((e as Error).message));
  assert.throws(() => parseKernelImage(image({ entry: 0x1000 }), RAM8), code('EBADIMAGE'));
});

test('rejects overlapping PT_LOAD segments', () => {
  const img = writeElf({
    entry: 0x100000,
    segments: [
      { type: PT_LOAD, flags: PF_R | PF_X, vaddr: 0x100000, data: new Uint8Array(16), memsz: 0x2000 },
      { type: PT_LOAD, flags: PF_R | PF_W, vaddr: 0x101000, data: new Uint8Array(16) },
    ],
  });
  assert.throws(() => parseKernelImage(img, RAM8), code('EOVERLAP'));
});

test('property: arbitrary bytes never throw anything but ImageError', () => {
  const valid = image({ note: xenNote(0x100004, 8) });
  const arb = fc.oneof(
    fc.uint8Array({ maxLength: 512 }),
    // mutations of a valid image hit the deeper checks
    fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }).map((muts) => {
      const b = valid.slice();
      for (const [i, x] of muts) b[i] = x;
      return b;
    }),
    fc.nat(valid.length).map((n) => valid.slice(0, n)),
  );
  fc.assert(
    fc.property(arb, (bytes) => {
      try {
        const k = parseKernelImage(bytes, RAM8);
        // whatever parses must be loadable
        loadKernelImage(bytes, ramOf(8 * MiB));
        assert.ok(k.entry >= 0x100000);
      } catch (e) {
        if (!(e instanceof ImageError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});
