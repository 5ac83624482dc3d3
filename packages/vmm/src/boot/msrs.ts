// Boot MSRs, the minimal subset of Firecracker's create_boot_msr_entries(): fast string
// operations enabled and MTRRs on with write-back as the default type. Everything else keeps
// KVM's reset value. Spec: Intel SDM Vol. 4 (IA32_MISC_ENABLE, IA32_MTRR_DEF_TYPE).

import type { MsrEntry } from '@kiln/kvm';

export const MSR_IA32_MISC_ENABLE = 0x1a0;
export const MSR_IA32_MISC_ENABLE_FAST_STRING = 0x1;
export const MSR_MTRRdefType = 0x2ff;
export const MTRR_ENABLE = 0x800;
export const MTRR_MEM_TYPE_WB = 0x6;

export function bootMsrs(): MsrEntry[] {
  return [
    { index: MSR_IA32_MISC_ENABLE, data: MSR_IA32_MISC_ENABLE_FAST_STRING },
    { index: MSR_MTRRdefType, data: MTRR_ENABLE | MTRR_MEM_TYPE_WB },
  ];
}
