// The Linux x86 boot protocol's "zero page" (struct boot_params) that a 64-bit entry receives
// in RSI: setup header magic, loader type, command line pointer and the E820 table. Only the
// fields Firecracker fills. Spec: Linux Documentation/arch/x86/boot.rst and zero-page.rst,
// arch/x86/include/uapi/asm/bootparam.h (offsets below are from struct boot_params).

import type { E820Entry } from './e820.ts';
import type { GuestRam } from './guest_ram.ts';
import { ZERO_PAGE_START } from './layout.ts';

export const BOOT_PARAMS_SIZE = 4096;
export const E820_ENTRIES_OFFSET = 0x1e8; // u8 e820_entries
export const BOOT_FLAG_OFFSET = 0x1fe; // u16 hdr.boot_flag
export const HEADER_OFFSET = 0x202; // u32 hdr.header
export const TYPE_OF_LOADER_OFFSET = 0x210; // u8 hdr.type_of_loader
export const CMD_LINE_PTR_OFFSET = 0x228; // u32 hdr.cmd_line_ptr
export const KERNEL_ALIGNMENT_OFFSET = 0x230; // u32 hdr.kernel_alignment
export const CMDLINE_SIZE_OFFSET = 0x238; // u32 hdr.cmdline_size
export const E820_TABLE_OFFSET = 0x2d0; // struct boot_e820_entry e820_table[128]
export const E820_ENTRY_SIZE = 20; // u64 addr, u64 size, u32 type (packed)
export const E820_MAX_ENTRIES_ZEROPAGE = 128;

export const KERNEL_BOOT_FLAG_MAGIC = 0xaa55;
export const KERNEL_HDR_MAGIC = 0x53726448; // "HdrS"
export const KERNEL_LOADER_OTHER = 0xff;
export const KERNEL_MIN_ALIGNMENT_BYTES = 0x0100_0000;

/** Builds the 4096-byte boot_params. */
export function buildZeroPage(p: { cmdlineAddr: number; cmdlineSize: number; e820: E820Entry[] }): Uint8Array {
  if (p.e820.length > E820_MAX_ENTRIES_ZEROPAGE) throw new RangeError('too many E820 entries');
  const b = new Uint8Array(BOOT_PARAMS_SIZE);
  const v = new DataView(b.buffer);
  v.setUint16(BOOT_FLAG_OFFSET, KERNEL_BOOT_FLAG_MAGIC, true);
  v.setUint32(HEADER_OFFSET, KERNEL_HDR_MAGIC, true);
  v.setUint8(TYPE_OF_LOADER_OFFSET, KERNEL_LOADER_OTHER);
  v.setUint32(CMD_LINE_PTR_OFFSET, p.cmdlineAddr, true);
  v.setUint32(CMDLINE_SIZE_OFFSET, p.cmdlineSize, true);
  v.setUint32(KERNEL_ALIGNMENT_OFFSET, KERNEL_MIN_ALIGNMENT_BYTES, true);
  v.setUint8(E820_ENTRIES_OFFSET, p.e820.length);
  p.e820.forEach((e, i) => {
    const o = E820_TABLE_OFFSET + i * E820_ENTRY_SIZE;
    v.setBigUint64(o, BigInt(e.addr), true);
    v.setBigUint64(o + 8, BigInt(e.size), true);
    v.setUint32(o + 16, e.type, true);
  });
  return b;
}

export function writeZeroPage(ram: GuestRam, p: { cmdlineAddr: number; cmdlineSize: number; e820: E820Entry[] }): void {
  ram.write(ZERO_PAGE_START, buildZeroPage(p));
}
