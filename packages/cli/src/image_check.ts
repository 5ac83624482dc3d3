// Checks an image before any VMM sees it, so Kiln's VMM and QEMU refuse bad images the same
// way (exit 126, one line): ELF64 x86-64 executable, PT_LOAD segments that do not overlap and
// that fit in guest RAM for the chosen --mem. Spec: docs/ARCHITECTURE.md "Guest physical layout".

import { EM_X86_64, ET_EXEC, ImageError, LOW_RAM_END, MMIO_GAP_END, MMIO_GAP_START, PT_LOAD, parseElf } from '@kiln/common';

/** Guest RAM ranges [start, end) for `memMiB`, as the VMM lays them out. */
export function ramRanges(memMiB: number): Array<[number, number]> {
  const mem = memMiB * 1024 * 1024;
  const ranges: Array<[number, number]> = [[0, Math.min(mem, LOW_RAM_END)], [0x100000, Math.min(mem, MMIO_GAP_START)]];
  if (mem > MMIO_GAP_START) ranges.push([MMIO_GAP_END, MMIO_GAP_END + (mem - MMIO_GAP_START)]);
  return ranges.filter(([s, e]) => e > s);
}

/** Throws ImageError when the image cannot boot in `memMiB` of RAM. */
export function checkImage(bytes: Uint8Array, memMiB: number): void {
  const elf = parseElf(bytes);
  if (elf.header.machine !== EM_X86_64) throw new ImageError('EUNSUPPORTED', `not an x86-64 image (e_machine ${elf.header.machine})`);
  if (elf.header.type !== ET_EXEC) throw new ImageError('EUNSUPPORTED', `not an executable image (e_type ${elf.header.type})`);
  const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD && p.memsz > 0);
  if (loads.length === 0) throw new ImageError('EBADIMAGE', 'image has no loadable segment');
  const ram = ramRanges(memMiB);
  const hex = (n: number): string => `0x${n.toString(16)}`;
  loads.forEach((p, i) => {
    const end = p.paddr + p.memsz;
    if (!ram.some(([s, e]) => p.paddr >= s && end <= e)) {
      throw new ImageError('EBADIMAGE', `segment ${i} [${hex(p.paddr)}, ${hex(end)}) is outside guest RAM (--mem ${memMiB})`);
    }
    for (const q of loads.slice(i + 1)) {
      if (p.paddr < q.paddr + q.memsz && q.paddr < end) {
        throw new ImageError('EOVERLAP', `segments at ${hex(p.paddr)} and ${hex(q.paddr)} overlap`);
      }
    }
  });
}
