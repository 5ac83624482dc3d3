// The guest's physical memory map (BIOS E820 style), shared by the Linux zero page and the PVH
// start info: [0, EBDA) RAM, [1 MiB, min(mem, 3 GiB)) RAM, and RAM past 3 GiB moved above
// 4 GiB. As Firecracker's configure_system(); contract in docs/ARCHITECTURE.md.

import { EBDA_START, FIRST_ADDR_PAST_32BITS, HIMEM_START, MMIO_MEM_START } from './layout.ts';

export const E820_RAM = 1;
export const E820_RESERVED = 2;

export interface E820Entry {
  addr: number;
  size: number;
  type: number;
}

export function e820Map(memBytes: number): E820Entry[] {
  const map: E820Entry[] = [{ addr: 0, size: EBDA_START, type: E820_RAM }];
  if (memBytes <= MMIO_MEM_START) {
    map.push({ addr: HIMEM_START, size: memBytes - HIMEM_START, type: E820_RAM });
  } else {
    map.push({ addr: HIMEM_START, size: MMIO_MEM_START - HIMEM_START, type: E820_RAM });
    map.push({ addr: FIRST_ADDR_PAST_32BITS, size: memBytes - MMIO_MEM_START, type: E820_RAM });
  }
  return map;
}
