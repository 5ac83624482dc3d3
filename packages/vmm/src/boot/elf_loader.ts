// Loads a bootable x86-64 ELF64 image into guest RAM, as Firecracker's linux-loader does for
// `vmlinux`-style ELFs: PT_LOAD segments copied to p_paddr (memsz beyond filesz zeroed), the
// 64-bit entry from e_entry and the PVH entry from the XEN_ELFNOTE_PHYS32_ENTRY note.
// Input is untrusted: @kiln/common's parseElf checks every table and segment against the file,
// this adds the boot checks (RAM, 1 MiB floor, overlaps, entries); any problem is an ImageError. Spec: gABI ELF-64 "ELF Header", "Program Header", "Note Section";
// Xen public/elfnote.h (XEN_ELFNOTE_PHYS32_ENTRY = 18); PVH boot ABI (xen docs/misc/pvh.pandoc).

import { ImageError } from '@kiln/common/elf/errors.ts';
import { EM_X86_64, ET_EXEC, PT_LOAD, PT_NOTE } from '@kiln/common/elf/constants.ts';
import { parseElf, segmentData, type ElfFile } from '@kiln/common/elf/reader.ts';
import { HIMEM_START } from './layout.ts';
import type { GuestRam } from './guest_ram.ts';

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

function hex(x: number): string {
  return '0x' + x.toString(16);
}

/**
 * Parses and validates `image` for loading into `ram`. The ELF structure (bounds of every table
 * and segment) is @kiln/common's parseElf; this adds what booting needs. Throws ImageError:
 * EBADIMAGE (not ELF, or a segment or entry the guest cannot use), EUNSUPPORTED (not ELF64
 * little-endian x86-64 ET_EXEC), ETRUNCATED (a table or segment extends past the file), EOVERLAP.
 */
export function parseKernelImage(image: Uint8Array, ram: RamCheck): KernelImage {
  const elf = parseElf(image);
  const h = elf.header;
  if (h.machine !== EM_X86_64) throw new ImageError('EUNSUPPORTED', `not an x86-64 image (e_machine ${h.machine}, want ${EM_X86_64})`);
  if (h.type !== ET_EXEC) throw new ImageError('EUNSUPPORTED', `not an executable (e_type ${h.type}, want ET_EXEC)`);
  if (h.phnum === 0) throw new ImageError('EBADIMAGE', 'image has no program headers');

  const segments: LoadSegment[] = [];
  elf.programHeaders.forEach((ph, i) => {
    if (ph.type !== PT_LOAD || ph.memsz === 0) return;
    if (ph.paddr < HIMEM_START) {
      throw new ImageError('EBADIMAGE', `segment ${i} at ${hex(ph.paddr)} is below 1 MiB (the VMM owns low memory)`);
    }
    if (ph.paddr + ph.memsz > Number.MAX_SAFE_INTEGER || !ram.contains(ph.paddr, ph.memsz)) {
      throw new ImageError('EBADIMAGE', `segment ${i} [${hex(ph.paddr)}, +${hex(ph.memsz)}) does not fit in guest RAM (give the VM more memory)`);
    }
    segments.push({ offset: ph.offset, paddr: ph.paddr, filesz: ph.filesz, memsz: ph.memsz });
  });
  if (segments.length === 0) throw new ImageError('EBADIMAGE', 'image has no loadable segment');
  const sorted = [...segments].sort((a, b) => a.paddr - b.paddr);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (a.paddr + a.memsz > b.paddr) {
      throw new ImageError('EOVERLAP', `segments [${hex(a.paddr)}, +${hex(a.memsz)}) and [${hex(b.paddr)}, +${hex(b.memsz)}) overlap`);
    }
  }
  const inSegment = (addr: number): boolean => addr >= HIMEM_START && segments.some((s) => addr >= s.paddr && addr < s.paddr + s.memsz);
  if (!inSegment(h.entry)) {
    throw new ImageError('EBADIMAGE', `entry point ${hex(h.entry)} is not inside a loaded segment at or above 1 MiB`);
  }
  const out: KernelImage = { entry: h.entry, segments, end: Math.max(...segments.map((s) => s.paddr + s.memsz)) };
  const pvh = findPvhEntry(elf);
  if (pvh !== undefined) {
    if (!inSegment(pvh)) throw new ImageError('EBADIMAGE', `PVH entry ${hex(pvh)} is not inside a loaded segment at or above 1 MiB`);
    out.pvhEntry = pvh;
  }
  return out;
}

/** Walks the PT_NOTE segments' notes (namesz, descsz, type, name, desc; 4-byte aligned) for the Xen PVH entry. */
function findPvhEntry(elf: ElfFile): number | undefined {
  for (const ph of elf.programHeaders) {
    if (ph.type !== PT_NOTE) continue;
    const data = segmentData(elf, ph);
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let p = 0;
    while (p + 12 <= data.length) {
      const namesz = v.getUint32(p, true);
      const descsz = v.getUint32(p + 4, true);
      const type = v.getUint32(p + 8, true);
      const nameOff = p + 12;
      const descOff = nameOff + align4(namesz);
      const next = descOff + align4(descsz);
      if (next > data.length || next <= p) break; // malformed: stop walking this segment
      if (type === XEN_ELFNOTE_PHYS32_ENTRY && namesz === 4 && v.getUint32(nameOff, true) === 0x006e6558 /* "Xen\0" */) {
        if (descsz === 4) return v.getUint32(descOff, true);
        if (descsz === 8) {
          const entry = v.getBigUint64(descOff, true);
          if (entry > BigInt(Number.MAX_SAFE_INTEGER)) throw new ImageError('EBADIMAGE', `PVH entry 0x${entry.toString(16)} is out of range`);
          return Number(entry);
        }
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
