// Boot page tables for the 64-bit Linux entry: PML4 → PDPT → PD identity-mapping the first
// 1 GiB with 2 MiB pages, as Firecracker's setup_page_tables(). Entries are present+writable
// (0x03) and PS for the 2 MiB pages (0x83). Spec: Intel SDM Vol. 3A §4.5 "4-Level Paging".

import type { GuestRam } from './guest_ram.ts';
import { PDE_START, PDPTE_START, PML4_START } from './layout.ts';

export const PTE_PRESENT_RW = 0x03n;
export const PDE_PS_PRESENT_RW = 0x83n;

export function writeBootPageTables(ram: GuestRam): void {
  ram.view(PML4_START, 8).setBigUint64(0, BigInt(PDPTE_START) | PTE_PRESENT_RW, true);
  ram.view(PDPTE_START, 8).setBigUint64(0, BigInt(PDE_START) | PTE_PRESENT_RW, true);
  const pd = ram.view(PDE_START, 4096);
  for (let i = 0; i < 512; i++) pd.setBigUint64(i * 8, (BigInt(i) << 21n) | PDE_PS_PRESENT_RW, true);
}
