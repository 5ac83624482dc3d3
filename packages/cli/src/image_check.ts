// Checks an image before any VMM sees it, so Kiln's VMM and QEMU refuse bad images the same
// way (exit 126, one line). It is the VMM's own loader check (parseKernelImage) against the RAM
// layout `--mem` gives; an image that is fine but does not fit is a `--mem` problem (exit 2), and
// so is a Kiln image that fits but leaves its core less than the heap it needs (the guest would
// stop with exit 97, "not enough memory for the heap").

import { HEAP_MIN_BYTES, ImageError, MEM_MIB_MAX, readImagePayload } from '@kiln/common';
import { parseKernelImage, type KernelImage } from '@kiln/vmm/boot/elf_loader.ts';
import { ramRegions } from '@kiln/vmm/boot/layout.ts';
import { CliError } from './errors.ts';

const MIB = 1024 * 1024;
const PAGE = 4096;

/** The smallest --mem (MiB) that boots `bytes`: its segments, plus the core's heap for a Kiln image. */
export function minMemMiB(bytes: Uint8Array, end: number): number {
  let kiln = true;
  try {
    readImagePayload(bytes);
  } catch {
    kiln = false; // another kernel (a Linux): only its segments must fit
  }
  const need = kiln ? Math.ceil(end / PAGE) * PAGE + HEAP_MIN_BYTES + 1 : end;
  return Math.ceil(need / MIB);
}

function parseFor(bytes: Uint8Array, memMiB: number): KernelImage {
  const regions = ramRegions(memMiB * MIB);
  const contains = (gpa: number, len: number): boolean =>
    regions.some((r) => gpa >= r.guestPhysAddr && gpa + len <= r.guestPhysAddr + r.size);
  return parseKernelImage(bytes, { contains });
}

/** Throws ImageError for an image no VM can boot, CliError when it needs more than `memMiB`. */
export function checkImage(bytes: Uint8Array, memMiB: number): void {
  let image: KernelImage;
  try {
    image = parseFor(bytes, memMiB);
  } catch (err) {
    if (!(err instanceof ImageError)) throw err;
    let fits: KernelImage;
    try {
      fits = parseFor(bytes, MEM_MIB_MAX);
    } catch {
      throw err;
    }
    throw tooSmall(memMiB, fits.end, minMemMiB(bytes, fits.end));
  }
  const min = minMemMiB(bytes, image.end);
  if (memMiB < min) throw tooSmall(memMiB, image.end, min);
}

function tooSmall(memMiB: number, end: number, min: number): CliError {
  return new CliError('EUSAGE', `--mem ${memMiB}: too small for this image, whose segments end at ${(end / MIB).toFixed(1)} MiB${min * MIB > end + HEAP_MIN_BYTES ? ` and whose core needs ${HEAP_MIN_BYTES / MIB} MiB of heap after them` : ''} (at least --mem ${min})`);
}
