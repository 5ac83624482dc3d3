// Entry register state for the boot vCPU. Linux 64-bit boot protocol (boot.rst "64-bit Boot
// Protocol"): long mode, paging on with an identity map, CS/DS from the boot GDT, RSI = zero
// page — Firecracker's setup_regs/setup_sregs. PVH (xen docs/misc/pvh.pandoc): 32-bit flat
// protected mode, paging off, EBX = hvm_start_info.

import type { RegsUpdate, SregsUpdate } from '@kiln/kvm';
import { BOOT_GDT_START, BOOT_IDT_START, BOOT_STACK_POINTER, PML4_START, PVH_INFO_START, ZERO_PAGE_START } from './layout.ts';
import { GDT_LINUX64, GDT_PVH32, segmentFromGdt } from './gdt.ts';

export const X86_CR0_PE = 0x1n;
export const X86_CR0_PG = 0x8000_0000n;
export const X86_CR4_PAE = 0x20n;
export const EFER_LME = 0x100n;
export const EFER_LMA = 0x400n;
export const RFLAGS_RESERVED_1 = 0x2n;

/** Descriptor tables and segment registers loaded from a boot GDT (code at 1, data at 2, TSS at 3). */
function segments(gdt: readonly bigint[]): Pick<SregsUpdate, 'gdt' | 'idt' | 'cs' | 'ds' | 'es' | 'fs' | 'gs' | 'ss' | 'tr'> {
  const code = segmentFromGdt(gdt[1]!, 1);
  const data = segmentFromGdt(gdt[2]!, 2);
  return {
    gdt: { base: BOOT_GDT_START, limit: gdt.length * 8 - 1 },
    idt: { base: BOOT_IDT_START, limit: 7 },
    cs: code, ds: data, es: data, fs: data, gs: data, ss: data,
    tr: segmentFromGdt(gdt[3]!, 3),
  };
}

/**
 * Special registers for the 64-bit entry. `cr0` is the vCPU's current CR0 (KVM's reset value,
 * 0x60000010) to which PE and PG are added, as Firecracker does (0xe0000011, verified on PVM).
 */
export function linuxBootSregs(cr0: bigint, cr4: bigint, efer: bigint): SregsUpdate {
  return {
    ...segments(GDT_LINUX64),
    cr0: cr0 | X86_CR0_PE | X86_CR0_PG,
    cr3: BigInt(PML4_START),
    cr4: cr4 | X86_CR4_PAE,
    efer: efer | EFER_LME | EFER_LMA,
  };
}

export function linuxBootRegs(entry: number): RegsUpdate {
  return { rflags: RFLAGS_RESERVED_1, rip: BigInt(entry), rsp: BigInt(BOOT_STACK_POINTER), rbp: BigInt(BOOT_STACK_POINTER), rsi: BigInt(ZERO_PAGE_START) };
}

/** Special registers for the PVH entry: CR0 = PE only, no paging, EFER = 0. */
export function pvhBootSregs(): SregsUpdate {
  return {
    ...segments(GDT_PVH32),
    cr0: X86_CR0_PE,
    cr3: 0n,
    cr4: 0n,
    efer: 0n,
  };
}

export function pvhBootRegs(pvhEntry: number): RegsUpdate {
  return { rflags: RFLAGS_RESERVED_1, rip: BigInt(pvhEntry), rbx: BigInt(PVH_INFO_START) };
}
