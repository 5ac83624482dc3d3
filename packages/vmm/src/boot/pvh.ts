// PVH boot: struct hvm_start_info and its memory map, whose address the 32-bit PVH entry gets
// in EBX. Spec: Xen include/public/arch-x86/hvm/start_info.h (version 1), as Firecracker and
// QEMU fill it: no modules, no RSDP, command line and E820-typed memmap.

import type { E820Entry } from './e820.ts';
import type { GuestRam } from './guest_ram.ts';
import { PVH_INFO_START, PVH_MEMMAP_START } from './layout.ts';

export const XEN_HVM_START_MAGIC_VALUE = 0x336ec578;
export const HVM_START_INFO_SIZE = 56;
export const HVM_MEMMAP_TABLE_ENTRY_SIZE = 24;
// struct hvm_start_info field offsets
export const START_INFO_MAGIC = 0; // u32
export const START_INFO_VERSION = 4; // u32
export const START_INFO_NR_MODULES = 8; // u32
export const START_INFO_FLAGS = 12; // u32
export const START_INFO_MODLIST_PADDR = 16; // u64
export const START_INFO_CMDLINE_PADDR = 24; // u64
export const START_INFO_RSDP_PADDR = 32; // u64
export const START_INFO_MEMMAP_PADDR = 40; // u64
export const START_INFO_MEMMAP_ENTRIES = 48; // u32

export function buildStartInfo(p: { cmdlineAddr: number; memmapAddr: number; memmapEntries: number }): Uint8Array {
  const b = new Uint8Array(HVM_START_INFO_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(START_INFO_MAGIC, XEN_HVM_START_MAGIC_VALUE, true);
  v.setUint32(START_INFO_VERSION, 1, true);
  v.setBigUint64(START_INFO_CMDLINE_PADDR, BigInt(p.cmdlineAddr), true);
  v.setBigUint64(START_INFO_MEMMAP_PADDR, BigInt(p.memmapAddr), true);
  v.setUint32(START_INFO_MEMMAP_ENTRIES, p.memmapEntries, true);
  return b;
}

/** struct hvm_memmap_table_entry: u64 addr, u64 size, u32 type, u32 reserved. */
export function buildMemmap(e820: E820Entry[]): Uint8Array {
  const b = new Uint8Array(e820.length * HVM_MEMMAP_TABLE_ENTRY_SIZE);
  const v = new DataView(b.buffer);
  e820.forEach((e, i) => {
    const o = i * HVM_MEMMAP_TABLE_ENTRY_SIZE;
    v.setBigUint64(o, BigInt(e.addr), true);
    v.setBigUint64(o + 8, BigInt(e.size), true);
    v.setUint32(o + 16, e.type, true);
  });
  return b;
}

export function writePvhStartInfo(ram: GuestRam, p: { cmdlineAddr: number; e820: E820Entry[] }): void {
  const memmap = buildMemmap(p.e820);
  if (PVH_MEMMAP_START + memmap.length > PVH_INFO_START + 0x1000) throw new RangeError('PVH memmap does not fit its page');
  ram.write(PVH_INFO_START, buildStartInfo({ cmdlineAddr: p.cmdlineAddr, memmapAddr: PVH_MEMMAP_START, memmapEntries: p.e820.length }));
  ram.write(PVH_MEMMAP_START, memmap);
}
