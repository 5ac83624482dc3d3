// ELF64 writer for bootable x86-64 images: ET_EXEC, program headers only (e_shnum = 0).
// Each segment's file offset is congruent to its p_vaddr modulo 4096, as loaders that map
// pages (Linux, Firecracker, QEMU) expect; PT_NOTE segments are written like any other, so
// the PVH entry note survives. Spec: gABI ELF-64 1.5 "Program Header"; x86-64 psABI §5.1.

import {
  EHDR_SIZE, ELFCLASS64, ELFDATA2LSB, ELFMAG, ELFOSABI_SYSV, EM_X86_64, ET_EXEC, EV_CURRENT,
  PAGE_SIZE, PHDR_SIZE, PT_LOAD, SHDR_SIZE,
} from './constants.ts';
import { ImageError } from './errors.ts';

export interface SegmentSpec {
  readonly type: number;
  readonly flags: number;
  readonly vaddr: number;
  /** defaults to vaddr */
  readonly paddr?: number;
  readonly data: Uint8Array;
  /** defaults to data.length; must be >= data.length for PT_LOAD */
  readonly memsz?: number;
  /** defaults to 4096 for PT_LOAD, 8 otherwise */
  readonly align?: number;
}

export interface ElfSpec {
  readonly entry: number;
  readonly segments: readonly SegmentSpec[];
  /** defaults to EM_X86_64 */
  readonly machine?: number;
}

/** Writes an ET_EXEC ELF64 file with the given segments, in the given order. */
export function writeElf(spec: ElfSpec): Uint8Array {
  const phnum = spec.segments.length;
  if (phnum > 0xfffe) throw new ImageError('EBADIMAGE', `too many segments (${phnum})`);
  // Lay out: header, program header table, then each segment at the next offset that is
  // congruent to its vaddr mod PAGE_SIZE.
  let cursor = EHDR_SIZE + phnum * PHDR_SIZE;
  const offsets: number[] = [];
  for (const s of spec.segments) {
    const memsz = s.memsz ?? s.data.length;
    if (s.type === PT_LOAD && memsz < s.data.length) {
      throw new ImageError('EBADIMAGE', `segment at 0x${s.vaddr.toString(16)}: memsz ${memsz} < data ${s.data.length}`);
    }
    if (s.data.length === 0) {
      offsets.push(0);
      continue;
    }
    const want = s.vaddr % PAGE_SIZE;
    const have = cursor % PAGE_SIZE;
    cursor += (want - have + PAGE_SIZE) % PAGE_SIZE;
    offsets.push(cursor);
    cursor += s.data.length;
  }
  const out = new Uint8Array(cursor);
  const v = new DataView(out.buffer);
  const u64 = (o: number, x: number): void => v.setBigUint64(o, BigInt(x), true);

  out.set(ELFMAG, 0);
  out[4] = ELFCLASS64;
  out[5] = ELFDATA2LSB;
  out[6] = EV_CURRENT;
  out[7] = ELFOSABI_SYSV;
  v.setUint16(16, ET_EXEC, true);
  v.setUint16(18, spec.machine ?? EM_X86_64, true);
  v.setUint32(20, EV_CURRENT, true);
  u64(24, spec.entry);
  u64(32, phnum > 0 ? EHDR_SIZE : 0); // e_phoff
  u64(40, 0); // e_shoff
  v.setUint32(48, 0, true); // e_flags
  v.setUint16(52, EHDR_SIZE, true);
  v.setUint16(54, PHDR_SIZE, true);
  v.setUint16(56, phnum, true);
  v.setUint16(58, SHDR_SIZE, true);
  v.setUint16(60, 0, true); // e_shnum
  v.setUint16(62, 0, true); // e_shstrndx (SHN_UNDEF)

  spec.segments.forEach((s, i) => {
    const o = EHDR_SIZE + i * PHDR_SIZE;
    v.setUint32(o, s.type, true);
    v.setUint32(o + 4, s.flags, true);
    u64(o + 8, offsets[i]!);
    u64(o + 16, s.vaddr);
    u64(o + 24, s.paddr ?? s.vaddr);
    u64(o + 32, s.data.length);
    u64(o + 40, s.memsz ?? s.data.length);
    u64(o + 48, s.align ?? (s.type === PT_LOAD ? PAGE_SIZE : 8));
    out.set(s.data, offsets[i]!);
  });
  return out;
}
