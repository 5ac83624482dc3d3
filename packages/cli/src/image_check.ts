// Checks an image before any VMM sees it, so Kiln's VMM and QEMU refuse bad images the same
// way (exit 126, one line). It is the VMM's own loader check (parseKernelImage) against the RAM
// layout `--mem` gives; an image that is fine but does not fit is a `--mem` problem (exit 2).

import { ImageError } from '@kiln/common';
import { parseKernelImage, type KernelImage } from '@kiln/vmm/boot/elf_loader.ts';
import { ramRegions } from '@kiln/vmm/boot/layout.ts';
import { CliError } from './errors.ts';

const MIB = 1024 * 1024;
const LARGEST_MEM_MIB = 65536;

function parseFor(bytes: Uint8Array, memMiB: number): KernelImage {
  const regions = ramRegions(memMiB * MIB);
  const contains = (gpa: number, len: number): boolean =>
    regions.some((r) => gpa >= r.guestPhysAddr && gpa + len <= r.guestPhysAddr + r.size);
  return parseKernelImage(bytes, { contains });
}

/** Throws ImageError for an image no VM can boot, CliError when it needs more than `memMiB`. */
export function checkImage(bytes: Uint8Array, memMiB: number): void {
  try {
    parseFor(bytes, memMiB);
  } catch (err) {
    if (!(err instanceof ImageError)) throw err;
    let fits: KernelImage | undefined;
    try {
      fits = parseFor(bytes, LARGEST_MEM_MIB);
    } catch {
      throw err;
    }
    throw new CliError('EUSAGE', `--mem ${memMiB}: too small for this image, whose segments end at ${(fits.end / MIB).toFixed(1)} MiB (try --mem ${Math.max(8, Math.ceil(fits.end / MIB) + 2)})`);
  }
}
