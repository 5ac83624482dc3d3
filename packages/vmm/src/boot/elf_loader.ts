// Loads a bootable x86-64 ELF64 image into guest RAM, as Firecracker's linux-loader does for
// `vmlinux`-style ELFs: PT_LOAD segments copied to p_paddr (memsz beyond filesz zeroed), the
// 64-bit entry from e_entry, the PVH entry from the XEN_ELFNOTE_PHYS32_ENTRY note and the process
// platform's entry from the Kiln note (arch/process.h).
// Input is untrusted: @kiln/common's parseElf checks every table and segment against the file,
// this adds the boot checks (RAM, 1 MiB floor, overlaps, entries); any problem is an ImageError. Spec: gABI ELF-64 "ELF Header", "Program Header", "Note Section";
// Xen public/elfnote.h (XEN_ELFNOTE_PHYS32_ENTRY = 18); PVH boot ABI (xen docs/misc/pvh.pandoc).

import { ImageError } from '@kiln/common/elf/errors.ts';
import { EM_X86_64, ET_EXEC, PF_X, PT_LOAD, PT_NOTE } from '@kiln/common/elf/constants.ts';
import { KILN_NOTE_PROCESS_ENTRY } from '../process/abi.ts';
import { parseElf, segmentData, type ElfFile } from '@kiln/common/elf/reader.ts';
import { IMAGE_LOAD_ADDR } from '@kiln/common/layout.ts';
import type { GuestRam } from './guest_ram.ts';

export const XEN_ELFNOTE_PHYS32_ENTRY = 18;

export interface LoadSegment {
  /** File offset of the segment's bytes. */
  offset: number;
  paddr: number;
  filesz: number;
  memsz: number;
  /** p_flags (PF_R | PF_W | PF_X): the process platform maps the segment with these. */
  flags: number;
}

export interface KernelImage {
  /** e_entry: the 64-bit Linux-boot entry. */
  entry: number;
  /** The PVH 32-bit entry from the Xen note, if present. */
  pvhEntry?: number;
  /** The process platform's entry and ABI version from the Kiln note, if present. */
  processEntry?: { entry: number; abi: number };
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
    if (ph.paddr < IMAGE_LOAD_ADDR) {
      throw new ImageError('EBADIMAGE', `segment ${i} at ${hex(ph.paddr)} is below 1 MiB (the VMM owns low memory)`);
    }
    if (ph.paddr + ph.memsz > Number.MAX_SAFE_INTEGER || !ram.contains(ph.paddr, ph.memsz)) {
      throw new ImageError('EBADIMAGE', `segment ${i} [${hex(ph.paddr)}, +${hex(ph.memsz)}) does not fit in guest RAM (give the VM more memory)`);
    }
    segments.push({ offset: ph.offset, paddr: ph.paddr, filesz: ph.filesz, memsz: ph.memsz, flags: ph.flags });
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
  const inSegment = (addr: number): boolean => addr >= IMAGE_LOAD_ADDR && segments.some((s) => addr >= s.paddr && addr < s.paddr + s.memsz);
  if (!inSegment(h.entry)) {
    throw new ImageError('EBADIMAGE', `entry point ${hex(h.entry)} is not inside a loaded segment at or above 1 MiB`);
  }
  const out: KernelImage = { entry: h.entry, segments, end: Math.max(...segments.map((s) => s.paddr + s.memsz)) };
  const pvh = findPvhEntry(elf);
  if (pvh !== undefined) {
    if (!inSegment(pvh)) throw new ImageError('EBADIMAGE', `PVH entry ${hex(pvh)} is not inside a loaded segment at or above 1 MiB`);
    out.pvhEntry = pvh;
  }
  const proc = findProcessEntry(elf);
  if (proc !== undefined) {
    if (!segments.some((s) => (s.flags & PF_X) !== 0 && proc.entry >= s.paddr && proc.entry < s.paddr + s.memsz)) {
      throw new ImageError('EBADIMAGE', `process entry ${hex(proc.entry)} is not inside an executable segment`);
    }
    out.processEntry = proc;
  }
  return out;
}

interface Note {
  name: string;
  type: number;
  desc: DataView;
}

/** The notes of the PT_NOTE segments (namesz, descsz, type, name, desc; 4-byte aligned); a
 * malformed note ends the walk of its segment. */
function notes(elf: ElfFile): Note[] {
  const out: Note[] = [];
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
      if (next > data.length || next <= p) break;
      const name = String.fromCharCode(...data.subarray(nameOff, nameOff + namesz)).replace(/\0$/, '');
      out.push({ name, type, desc: new DataView(data.buffer, data.byteOffset + descOff, descsz) });
      p = next;
    }
  }
  return out;
}

function u64Entry(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ImageError('EBADIMAGE', `${what} 0x${v.toString(16)} is out of range`);
  return Number(v);
}

/** The Xen PVH entry (XEN_ELFNOTE_PHYS32_ENTRY, a 4- or 8-byte value). */
function findPvhEntry(elf: ElfFile): number | undefined {
  const n = notes(elf).find((x) => x.name === 'Xen' && x.type === XEN_ELFNOTE_PHYS32_ENTRY);
  if (!n) return undefined;
  if (n.desc.byteLength === 4) return n.desc.getUint32(0, true);
  if (n.desc.byteLength === 8) return u64Entry(n.desc.getBigUint64(0, true), 'PVH entry');
  throw new ImageError('EBADIMAGE', `PVH entry note has a ${n.desc.byteLength}-byte value (want 4 or 8)`);
}

/** The process platform's entry (arch/process.h: name "Kiln", type 1, desc u64 entry, u32 ABI, u32 0). */
function findProcessEntry(elf: ElfFile): { entry: number; abi: number } | undefined {
  const n = notes(elf).find((x) => x.name === 'Kiln' && x.type === KILN_NOTE_PROCESS_ENTRY);
  if (!n) return undefined;
  if (n.desc.byteLength !== 16) throw new ImageError('EBADIMAGE', `process entry note has ${n.desc.byteLength} bytes (want 16)`);
  return { entry: u64Entry(n.desc.getBigUint64(0, true), 'process entry'), abi: n.desc.getUint32(8, true) };
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
