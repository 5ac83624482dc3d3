// The guest's physical memory map (BIOS E820 style), shared by the Linux zero page and the PVH
// start info: [0, EBDA) RAM, [1 MiB, min(mem, 3 GiB)) RAM, and RAM past 3 GiB moved above
// 4 GiB. As Firecracker's configure_system(); contract in docs/ARCHITECTURE.md.

import { IMAGE_LOAD_ADDR, LOW_RAM_END, MMIO_GAP_END, MMIO_GAP_START } from '@kiln/common/layout.ts';

export const E820_RAM = 1;
export const E820_RESERVED = 2;

export interface E820Entry {
  addr: number;
  size: number;
  type: number;
}

export function e820Map(memBytes: number): E820Entry[] {
  const map: E820Entry[] = [{ addr: 0, size: LOW_RAM_END, type: E820_RAM }];
  if (memBytes <= MMIO_GAP_START) {
    map.push({ addr: IMAGE_LOAD_ADDR, size: memBytes - IMAGE_LOAD_ADDR, type: E820_RAM });
  } else {
    map.push({ addr: IMAGE_LOAD_ADDR, size: MMIO_GAP_START - IMAGE_LOAD_ADDR, type: E820_RAM });
    map.push({ addr: MMIO_GAP_END, size: memBytes - MMIO_GAP_START, type: E820_RAM });
  }
  return map;
}
