// Guest physical layout used by the boot code: where the VMM puts the GDT, zero page, PVH start
// info, page tables, stack and command line, and which ranges are RAM. Firecracker's values
// (src/vmm/src/arch/x86_64/layout.rs); contract in docs/ARCHITECTURE.md "Guest physical layout".

import { CMDLINE_ADDR, CMDLINE_MAX, IMAGE_LOAD_ADDR, LOW_RAM_END, MMIO_GAP_END, MMIO_GAP_START } from '@kiln/common/layout.ts';

export { CMDLINE_ADDR, CMDLINE_MAX };

export const BOOT_GDT_START = 0x500;
export const BOOT_IDT_START = 0x520;
export const PVH_INFO_START = 0x6000;
/** PVH memory map right after hvm_start_info (56 bytes), 64-byte aligned. */
export const PVH_MEMMAP_START = 0x6040;
export const ZERO_PAGE_START = 0x7000;
export const BOOT_STACK_POINTER = 0x8ff0;
export const PML4_START = 0x9000;
export const PDPTE_START = 0xa000;
export const PDE_START = 0xb000;
/** Start of the EBDA: low RAM is [0, EBDA_START). */
export const EBDA_START = LOW_RAM_END;
export const HIMEM_START = IMAGE_LOAD_ADDR;
/** 32-bit MMIO gap [MMIO_MEM_START, FIRST_ADDR_PAST_32BITS): RAM above it moves to 4 GiB. */
export const MMIO_MEM_START = MMIO_GAP_START;
export const FIRST_ADDR_PAST_32BITS = MMIO_GAP_END;

/** A contiguous range of guest RAM and where it sits in the host mapping. */
export interface RamRegion {
  guestPhysAddr: number;
  /** Offset in the single host mapping that backs all guest RAM. */
  hostOffset: number;
  size: number;
}

/**
 * The memory slots for `memBytes` of RAM: [0, min(mem, 3 GiB)) and, for more than 3 GiB, the
 * rest from 4 GiB. Both come from one host mapping of `memBytes` bytes.
 */
export function ramRegions(memBytes: number): RamRegion[] {
  const low = Math.min(memBytes, MMIO_MEM_START);
  const regions: RamRegion[] = [{ guestPhysAddr: 0, hostOffset: 0, size: low }];
  if (memBytes > MMIO_MEM_START) {
    regions.push({ guestPhysAddr: FIRST_ADDR_PAST_32BITS, hostOffset: MMIO_MEM_START, size: memBytes - MMIO_MEM_START });
  }
  return regions;
}
