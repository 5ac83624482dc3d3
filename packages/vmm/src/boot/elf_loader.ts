// Loads a bootable x86-64 ELF64 image into guest RAM, as Firecracker's linux-loader does for
// `vmlinux`-style ELFs: PT_LOAD segments copied to p_paddr (memsz beyond filesz zeroed), the
// 64-bit entry from e_entry and the PVH entry from the XEN_ELFNOTE_PHYS32_ENTRY note.
// Input is untrusted: every offset and size is checked with exact (bigint) arithmetic, and any
// problem is an ImageError. Spec: gABI ELF-64 "ELF Header", "Program Header", "Note Section";
// Xen public/elfnote.h (XEN_ELFNOTE_PHYS32_ENTRY = 18); PVH boot ABI (xen docs/misc/pvh.pandoc).

import { ImageError } from '@kiln/common/elf/errors.ts';
import { HIMEM_START } from './layout.ts';
import type { GuestRam } from './guest_ram.ts';

export const EI_NIDENT = 16;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const EV_CURRENT = 1;
export const ET_EXEC = 2;
export const EM_X86_64 = 62;
export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const ELF64_EHDR_SIZE = 64;
export const ELF64_PHDR_SIZE = 56;
export const XEN_ELFNOTE_PHYS32_ENTRY = 18;

export interface LoadSegment {
  /** File offset of the segment's bytes. */
  offset: number;
  paddr: number;
  filesz: number;
  memsz: number;
}

export interface KernelImage {
  /** e_entry: the 64-bit Linux-boot entry. */
  entry: number;
  /** The PVH 32-bit entry from the Xen note, if present. */
  pvhEntry?: number;
  segments: LoadSegment[];
  /** Highest guest-physical address a segment occupies, exclusive. */
  end: number;
}

/** Where segments may go: the guest's RAM ranges. */
export interface RamCheck {
  contains(gpa: number, len: number): boolean;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function hex(x: number | bigint): string {
  return '0x' + x.toString(16);
}

/**
 * Parses and validates `image` for loading into `ram`. Throws ImageError: EBADIMAGE (not ELF,
 * or a segment or entry the guest cannot use), EUNSUPPORTED (not ELF64 little-endian x86-64
 * ET_EXEC), ETRUNCATED (a table or segment extends past the file), EOVERLAP.
 */
export function parseKernelImage(image: Uint8Array, ram: RamCheck): KernelImage {
  if (image.length < EI_NIDENT || image[0] !== 0x7f || image[1] !== 0x45 || image[2] !== 0x4c || image[3] !== 0x46) {
    throw new ImageError('EBADIMAGE', 'not an ELF file (bad magic)');
  }
  if (image[4] !== ELFCLASS64) throw new ImageError('EUNSUPPORTED', `not an ELF64 file (EI_CLASS ${image[4]})`);
  if (image[5] !== ELFDATA2LSB) throw new ImageError('EUNSUPPORTED', `not a little-endian ELF file (EI_DATA ${image[5]})`);
  if (image[6] !== EV_CURRENT) throw new ImageError('EBADIMAGE', `unknown ELF version ${image[6]}`);
  if (image.length < ELF64_EHDR_SIZE) throw new ImageError('ETRUNCATED', `ELF header truncated (${image.length} bytes)`);
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const eType = v.getUint16(16, true);
  const eMachine = v.getUint16(18, true);
  if (eMachine !== EM_X86_64) throw new ImageError('EUNSUPPORTED', `not an x86-64 image (e_machine ${eMachine}, want ${EM_X86_64})`);
  if (eType !== ET_EXEC) throw new ImageError('EUNSUPPORTED', `not an executable (e_type ${eType}, want ET_EXEC)`);
  const eEntry = v.getBigUint64(24, true);
  const ePhoff = v.getBigUint64(32, true);
  const ePhentsize = v.getUint16(54, true);
  const ePhnum = v.getUint16(56, true);
  if (ePhnum === 0) throw new ImageError('EBADIMAGE', 'image has no program headers');
  if (ePhentsize !== ELF64_PHDR_SIZE) throw new ImageError('EBADIMAGE', `e_phentsize is ${ePhentsize}, want ${ELF64_PHDR_SIZE}`);
  const fileLen = BigInt(image.length);
  if (ePhoff + BigInt(ePhnum * ELF64_PHDR_SIZE) > fileLen) {
    throw new ImageError('ETRUNCATED', `program headers [${hex(ePhoff)}, +${ePhnum}×${ELF64_PHDR_SIZE}) extend past the end of the file (${image.length} bytes)`);
  }
  const phoff = Number(ePhoff);

  const segments: LoadSegment[] = [];
  const notes: { offset: number; size: number }[] = [];
  for (let i = 0; i < ePhnum; i++) {
    const p = phoff + i * ELF64_PHDR_SIZE;
    const type = v.getUint32(p, true);
    if (type !== PT_LOAD && type !== PT_NOTE) continue;
    const offset = v.getBigUint64(p + 8, true);
    const paddr = v.getBigUint64(p + 24, true);
    const filesz = v.getBigUint64(p + 32, true);
    const memsz = v.getBigUint64(p + 40, true);
    if (offset + filesz > fileLen) {
      throw new ImageError('ETRUNCATED', `segment ${i} bytes [${hex(offset)}, +${hex(filesz)}) extend past the end of the file (${image.length} bytes)`);
    }
    if (type === PT_NOTE) {
      notes.push({ offset: Number(offset), size: Number(filesz) });
      continue;
    }
    if (filesz > memsz) throw new ImageError('EBADIMAGE', `segment ${i}: p_filesz ${hex(filesz)} > p_memsz ${hex(memsz)}`);
    if (memsz === 0n) continue;
    if (paddr < BigInt(HIMEM_START)) {
      throw new ImageError('EBADIMAGE', `segment ${i} at ${hex(paddr)} is below 1 MiB (the VMM owns low memory)`);
    }
    if (paddr + memsz > MAX_SAFE || !ram.contains(Number(paddr), Number(memsz))) {
      throw new ImageError('EBADIMAGE', `segment ${i} [${hex(paddr)}, +${hex(memsz)}) does not fit in guest RAM (give the VM more memory)`);
    }
    segments.push({ offset: Number(offset), paddr: Number(paddr), filesz: Number(filesz), memsz: Number(memsz) });
  }
  if (segments.length === 0) throw new ImageError('EBADIMAGE', 'image has no loadable segment');
  const sorted = [...segments].sort((a, b) => a.paddr - b.paddr);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (a.paddr + a.memsz > b.paddr) {
      throw new ImageError('EOVERLAP', `segments [${hex(a.paddr)}, +${hex(a.memsz)}) and [${hex(b.paddr)}, +${hex(b.memsz)}) overlap`);
    }
  }
  const inSegment = (addr: bigint): boolean => segments.some((s) => addr >= BigInt(s.paddr) && addr < BigInt(s.paddr + s.memsz));
  if (eEntry < BigInt(HIMEM_START) || !inSegment(eEntry)) {
    throw new ImageError('EBADIMAGE', `entry point ${hex(eEntry)} is not inside a loaded segment at or above 1 MiB`);
  }
  const out: KernelImage = {
    entry: Number(eEntry),
    segments,
    end: Math.max(...segments.map((s) => s.paddr + s.memsz)),
  };
  const pvh = findPvhEntry(v, notes);
  if (pvh !== undefined) {
    if (pvh < BigInt(HIMEM_START) || !inSegment(pvh)) {
      throw new ImageError('EBADIMAGE', `PVH entry ${hex(pvh)} is not inside a loaded segment at or above 1 MiB`);
    }
    out.pvhEntry = Number(pvh);
  }
  return out;
}

/** Walks ELF notes (namesz, descsz, type, name, desc; 4-byte aligned) for the Xen PVH entry. */
function findPvhEntry(v: DataView, notes: { offset: number; size: number }[]): bigint | undefined {
  for (const n of notes) {
    let p = n.offset;
    const end = n.offset + n.size;
    while (p + 12 <= end) {
      const namesz = v.getUint32(p, true);
      const descsz = v.getUint32(p + 4, true);
      const type = v.getUint32(p + 8, true);
      const nameOff = p + 12;
      const descOff = nameOff + align4(namesz);
      const next = descOff + align4(descsz);
      if (next > end || next <= p) break; // malformed: stop walking this segment
      if (type === XEN_ELFNOTE_PHYS32_ENTRY && namesz === 4 && v.getUint32(nameOff, true) === 0x006e6558 /* "Xen\0" */) {
        if (descsz === 4) return BigInt(v.getUint32(descOff, true));
        if (descsz === 8) return v.getBigUint64(descOff, true);
        throw new ImageError('EBADIMAGE', `PVH entry note has a ${descsz}-byte value (want 4 or 8)`);
      }
      p = next;
    }
  }
  return undefined;
}

function align4(x: number): number {
  return Math.ceil(x / 4) * 4;
}

/** Copies the image's segments into guest RAM and zeroes each segment's memsz tail, unless the
 * caller knows RAM is fresh from an anonymous mapping (`ramIsZero`): then the tail (.bss, half a
 * MiB for Kiln's core) is left untouched, which saves faulting those host pages in at boot.
 * `kernel` passes an image already parsed against this RAM, so it is not parsed twice. */
export function loadKernelImage(image: Uint8Array, ram: GuestRam, opts: { kernel?: KernelImage; ramIsZero?: boolean } = {}): KernelImage {
  const k = opts.kernel ?? parseKernelImage(image, ram);
  for (const s of k.segments) {
    ram.write(s.paddr, image.subarray(s.offset, s.offset + s.filesz));
    if (s.memsz > s.filesz && !opts.ramIsZero) ram.fill(s.paddr + s.filesz, s.memsz - s.filesz, 0);
  }
  return k;
}
