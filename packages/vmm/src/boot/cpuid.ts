// CPUID table given to each vCPU (docs/ARCHITECTURE.md "CPUID"): KVM_GET_SUPPORTED_CPUID
// passed through, the vCPU's APIC id in leaf 1 EBX[31:24] (and x2APIC id in leaves 0xB/0x1F
// EDX), and the timing leaf 0x40000010 (VMware/KVM convention: EAX = TSC kHz, EBX = LAPIC
// timer kHz) with leaf 0x40000000 EAX raised to reach it. The guest reads its TSC rate there.

import type { CpuidEntry } from '@kiln/kvm';

export const CPUID_LEAF_FEATURES = 0x1;
export const CPUID_LEAF_EXT_TOPOLOGY = 0xb;
export const CPUID_LEAF_V2_EXT_TOPOLOGY = 0x1f;
export const KVM_CPUID_SIGNATURE = 0x4000_0000;
export const CPUID_LEAF_TIMING = 0x4000_0010;
/** LAPIC timer frequency reported to the guest, in kHz (KVM's LAPIC runs at 1 GHz). */
export const LAPIC_TIMER_KHZ = 1_000_000;

export function buildCpuid(supported: readonly CpuidEntry[], vcpuIndex: number, tscKhz: number): CpuidEntry[] {
  const out = supported.filter((e) => e.function !== CPUID_LEAF_TIMING).map((e) => ({ ...e }));
  for (const e of out) {
    if (e.function === CPUID_LEAF_FEATURES) e.ebx = ((e.ebx & 0x00ff_ffff) | ((vcpuIndex & 0xff) << 24)) >>> 0;
    if (e.function === CPUID_LEAF_EXT_TOPOLOGY || e.function === CPUID_LEAF_V2_EXT_TOPOLOGY) e.edx = vcpuIndex >>> 0;
  }
  let sig = out.find((e) => e.function === KVM_CPUID_SIGNATURE);
  if (!sig) {
    // "KVMKVMKVM\0\0\0" as EBX, ECX, EDX
    sig = { function: KVM_CPUID_SIGNATURE, index: 0, flags: 0, eax: 0, ebx: 0x4b4d564b, ecx: 0x564b4d56, edx: 0x4d };
    out.push(sig);
  }
  sig.eax = Math.max(sig.eax, CPUID_LEAF_TIMING) >>> 0;
  out.push({ function: CPUID_LEAF_TIMING, index: 0, flags: 0, eax: tscKhz >>> 0, ebx: LAPIC_TIMER_KHZ, ecx: 0, edx: 0 });
  return out;
}
