// Boot GDT and the matching hidden segment state (struct kvm_segment) for the vCPU. KVM loads
// segment registers from what we give it, not from memory, so both must agree: the table is
// written at BOOT_GDT_START and each register is derived from its descriptor, as Firecracker's
// gdt.rs does. Spec: Intel SDM Vol. 3A §3.4.5 "Segment Descriptors".

import type { SegmentUpdate } from '@kiln/kvm';
import type { GuestRam } from './guest_ram.ts';
import { BOOT_GDT_START, BOOT_IDT_START } from './layout.ts';

/** Builds a descriptor from (flags, base, limit) — Firecracker's gdt_entry(). */
export function gdtEntry(flags: number, base: number, limit: number): bigint {
  const b = BigInt(base >>> 0);
  const l = BigInt(limit >>> 0);
  const f = BigInt(flags);
  return ((b & 0xff00_0000n) << 32n) | ((f & 0x0000_f0ffn) << 40n) | ((l & 0x000f_0000n) << 32n) | ((b & 0x00ff_ffffn) << 16n) | (l & 0x0000_ffffn);
}

/** Long-mode boot GDT: null, 0x08 code64, 0x10 data, 0x18 TSS. */
export const GDT_LINUX64: readonly bigint[] = [0n, gdtEntry(0xa09b, 0, 0xfffff), gdtEntry(0xc093, 0, 0xfffff), gdtEntry(0x808b, 0, 0xfffff)];
/** PVH boot GDT: null, 0x08 flat code32, 0x10 flat data, 0x18 TSS (limit 0x67). */
export const GDT_PVH32: readonly bigint[] = [0n, gdtEntry(0xc09b, 0, 0xffffffff), gdtEntry(0xc093, 0, 0xffffffff), gdtEntry(0x008b, 0, 0x67)];

export const BOOT_CODE_SELECTOR = 0x08;
export const BOOT_DATA_SELECTOR = 0x10;
export const BOOT_TSS_SELECTOR = 0x18;

/** The hidden segment state KVM needs for descriptor `entry` at GDT index `index`. */
export function segmentFromGdt(entry: bigint, index: number): Required<SegmentUpdate> {
  const base = Number(((entry >> 16n) & 0xff_ffffn) | ((entry >> 32n) & 0xff00_0000n));
  const rawLimit = Number((entry & 0xffffn) | ((entry >> 32n) & 0xf_0000n));
  const g = Number((entry >> 55n) & 1n);
  const present = Number((entry >> 47n) & 1n);
  return {
    base: BigInt(base),
    limit: g ? ((rawLimit << 12) | 0xfff) >>> 0 : rawLimit,
    selector: index * 8,
    type: Number((entry >> 40n) & 0xfn),
    present,
    dpl: Number((entry >> 45n) & 3n),
    db: Number((entry >> 54n) & 1n),
    s: Number((entry >> 44n) & 1n),
    l: Number((entry >> 53n) & 1n),
    g,
    avl: Number((entry >> 52n) & 1n),
    unusable: present ? 0 : 1,
  };
}

/** Writes `gdt` at BOOT_GDT_START and an empty IDT (one zero descriptor) at BOOT_IDT_START. */
export function writeGdt(ram: GuestRam, gdt: readonly bigint[]): void {
  const v = ram.view(BOOT_GDT_START, gdt.length * 8);
  gdt.forEach((e, i) => v.setBigUint64(i * 8, e, true));
  ram.view(BOOT_IDT_START, 8).setBigUint64(0, 0n, true);
}
