// Where the VMM's boot code puts the GDT, zero page, PVH start info, page tables and stack (only
// the VMM uses these), and which ranges are RAM. Firecracker's values
// (src/vmm/src/arch/x86_64/layout.rs); the numbers shared with the core, the CLI and the guest
// kernel (MMIO gap, command line, image load address) are @kiln/common/layout.ts's. Contract in
// docs/ARCHITECTURE.md "Guest physical layout".

import { MMIO_GAP_END, MMIO_GAP_START } from '@kiln/common/layout.ts';

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
  const low = Math.min(memBytes, MMIO_GAP_START);
  const regions: RamRegion[] = [{ guestPhysAddr: 0, hostOffset: 0, size: low }];
  if (memBytes > MMIO_GAP_START) {
    regions.push({ guestPhysAddr: MMIO_GAP_END, hostOffset: MMIO_GAP_START, size: memBytes - MMIO_GAP_START });
  }
  return regions;
}
