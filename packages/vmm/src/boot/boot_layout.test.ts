// Golden-value tests for the boot structures the VMM writes into guest memory: zero page
// offsets, E820 map, PVH start info and memmap, command line limits, GDT descriptors and the
// segment state derived from them, page tables, entry registers and the CPUID edits.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestRam } from './guest_ram.ts';
import { ramRegions, ZERO_PAGE_START, PVH_INFO_START, PVH_MEMMAP_START } from './layout.ts';
import { CMDLINE_ADDR } from '@kiln/common/layout.ts';
import { e820Map, E820_RAM } from './e820.ts';
import { buildZeroPage, writeZeroPage } from './zero_page.ts';
import { buildStartInfo, writePvhStartInfo } from './pvh.ts';
import { encodeCmdline, writeCmdline } from './cmdline.ts';
import { GDT_LINUX64, GDT_PVH32, gdtEntry, segmentFromGdt, writeGdt } from './gdt.ts';
import { writeBootPageTables } from './page_tables.ts';
import { linuxBootRegs, linuxBootSregs, pvhBootRegs, pvhBootSregs } from './regs.ts';
import { buildCpuid } from './cpuid.ts';
import { VmmError } from '../errors.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const ram = (mem: number): GuestRam => new GuestRam(new Uint8Array(mem), ramRegions(mem));
const le = (b: Uint8Array, off: number, n: number): bigint => {
  let x = 0n;
  for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[off + i]!);
  return x;
};

test('ramRegions: one slot up to 3 GiB, RAM past 3 GiB moves to 4 GiB', () => {
  assert.deepEqual(ramRegions(8 * MiB), [{ guestPhysAddr: 0, hostOffset: 0, size: 8 * MiB }]);
  assert.deepEqual(ramRegions(3 * GiB), [{ guestPhysAddr: 0, hostOffset: 0, size: 3 * GiB }]);
  assert.deepEqual(ramRegions(5 * GiB), [
    { guestPhysAddr: 0, hostOffset: 0, size: 3 * GiB },
    { guestPhysAddr: 4 * GiB, hostOffset: 3 * GiB, size: 2 * GiB },
  ]);
});

test('e820 map matches docs/ARCHITECTURE.md', () => {
  assert.deepEqual(e820Map(128 * MiB), [
    { addr: 0, size: 0x9fc00, type: E820_RAM },
    { addr: 0x100000, size: 128 * MiB - 0x100000, type: E820_RAM },
  ]);
  assert.deepEqual(e820Map(4 * GiB), [
    { addr: 0, size: 0x9fc00, type: E820_RAM },
    { addr: 0x100000, size: 3 * GiB - 0x100000, type: E820_RAM },
    { addr: 4 * GiB, size: 1 * GiB, type: E820_RAM },
  ]);
});

test('zero page: golden offsets of the fields Firecracker fills', () => {
  const zp = buildZeroPage({ cmdlineAddr: 0x20000, cmdlineSize: 12, e820: e820Map(8 * MiB) });
  assert.equal(zp.length, 4096);
  assert.equal(le(zp, 0x1fe, 2), 0xaa55n); // boot_flag
  assert.deepEqual([...zp.subarray(0x202, 0x206)], [0x48, 0x64, 0x72, 0x53]); // "HdrS"
  assert.equal(zp[0x210], 0xff); // type_of_loader
  assert.equal(le(zp, 0x228, 4), 0x20000n); // cmd_line_ptr
  assert.equal(le(zp, 0x230, 4), 0x1000000n); // kernel_alignment
  assert.equal(le(zp, 0x238, 4), 12n); // cmdline_size
  assert.equal(zp[0x1e8], 2); // e820_entries
  // e820_table[0] = {0, 0x9fc00, 1}, [1] = {0x100000, 7 MiB, 1}; 20 bytes each
  assert.equal(le(zp, 0x2d0, 8), 0n);
  assert.equal(le(zp, 0x2d8, 8), 0x9fc00n);
  assert.equal(le(zp, 0x2e0, 4), 1n);
  assert.equal(le(zp, 0x2e4, 8), 0x100000n);
  assert.equal(le(zp, 0x2ec, 8), 0x700000n);
  assert.equal(le(zp, 0x2f4, 4), 1n);
  // nothing else is set
  const touched = new Set<number>();
  for (const [o, n] of [[0x1e8, 1], [0x1fe, 2], [0x202, 4], [0x210, 1], [0x228, 4], [0x230, 4], [0x238, 4], [0x2d0, 40]] as const) for (let i = 0; i < n; i++) touched.add(o + i);
  zp.forEach((b, i) => {
    if (!touched.has(i)) assert.equal(b, 0, `byte 0x${i.toString(16)}`);
  });
  const r = ram(8 * MiB);
  writeZeroPage(r, { cmdlineAddr: 0x20000, cmdlineSize: 12, e820: e820Map(8 * MiB) });
  assert.deepEqual(r.slice(ZERO_PAGE_START, 4096), zp);
});

test('PVH hvm_start_info and memmap: golden layout', () => {
  const si = buildStartInfo({ cmdlineAddr: 0x20000, memmapAddr: 0x6040, memmapEntries: 2 });
  assert.equal(si.length, 56);
  assert.equal(le(si, 0, 4), 0x336ec578n);
  assert.equal(le(si, 4, 4), 1n);
  assert.equal(le(si, 8, 4), 0n); // nr_modules
  assert.equal(le(si, 24, 8), 0x20000n);
  assert.equal(le(si, 40, 8), 0x6040n);
  assert.equal(le(si, 48, 4), 2n);
  const r = ram(8 * MiB);
  writePvhStartInfo(r, { cmdlineAddr: CMDLINE_ADDR, e820: e820Map(8 * MiB) });
  assert.deepEqual(r.slice(PVH_INFO_START, 56), si);
  const mm = r.slice(PVH_MEMMAP_START, 48);
  assert.equal(le(mm, 0, 8), 0n);
  assert.equal(le(mm, 8, 8), 0x9fc00n);
  assert.equal(le(mm, 16, 4), 1n);
  assert.equal(le(mm, 20, 4), 0n);
  assert.equal(le(mm, 24, 8), 0x100000n);
  assert.equal(le(mm, 32, 8), 0x700000n);
  assert.equal(le(mm, 40, 4), 1n);
});

test('command line: NUL-terminated at 0x20000, 4096 bytes max with the NUL', () => {
  const r = ram(8 * MiB);
  assert.equal(writeCmdline(r, 'console=ttyS0 A=1'), 18);
  assert.equal(new TextDecoder().decode(r.slice(0x20000, 18)), 'console=ttyS0 A=1\0');
  assert.equal(encodeCmdline('x'.repeat(4095)).length, 4096);
  assert.throws(() => encodeCmdline('x'.repeat(4096)), (e: unknown) => e instanceof VmmError && e.code === 'ECMDLINE' && /4095/.test(e.message));
  assert.throws(() => encodeCmdline('a\0b'), (e: unknown) => e instanceof VmmError && e.code === 'ECMDLINE');
  assert.equal(encodeCmdline('').length, 1);
});

test('GDT: golden descriptors and derived segment state', () => {
  assert.deepEqual(GDT_LINUX64, [0n, 0x00af9b000000ffffn, 0x00cf93000000ffffn, 0x008f8b000000ffffn]);
  assert.deepEqual(GDT_PVH32, [0n, 0x00cf9b000000ffffn, 0x00cf93000000ffffn, 0x0000_8b00_0000_0067n]);
  assert.equal(gdtEntry(0xa09b, 0x12345678, 0xfffff), 0x12af9b345678ffffn);
  assert.deepEqual(segmentFromGdt(GDT_LINUX64[1]!, 1), { base: 0n, limit: 0xffffffff, selector: 8, type: 0xb, present: 1, dpl: 0, db: 0, s: 1, l: 1, g: 1, avl: 0, unusable: 0 });
  assert.deepEqual(segmentFromGdt(GDT_LINUX64[2]!, 2), { base: 0n, limit: 0xffffffff, selector: 0x10, type: 3, present: 1, dpl: 0, db: 1, s: 1, l: 0, g: 1, avl: 0, unusable: 0 });
  assert.deepEqual(segmentFromGdt(GDT_LINUX64[3]!, 3), { base: 0n, limit: 0xffffffff, selector: 0x18, type: 0xb, present: 1, dpl: 0, db: 0, s: 0, l: 0, g: 1, avl: 0, unusable: 0 });
  assert.deepEqual(segmentFromGdt(GDT_PVH32[1]!, 1), { base: 0n, limit: 0xffffffff, selector: 8, type: 0xb, present: 1, dpl: 0, db: 1, s: 1, l: 0, g: 1, avl: 0, unusable: 0 });
  assert.equal(segmentFromGdt(0n, 0).unusable, 1);
  const r = ram(8 * MiB);
  writeGdt(r, GDT_LINUX64);
  assert.equal(le(r.bytes, 0x508, 8), 0x00af9b000000ffffn);
  assert.equal(le(r.bytes, 0x518, 8), 0x008f8b000000ffffn);
});

test('page tables: PML4 0x9000 → PDPT 0xa000 → PD 0xb000, 512 × 2 MiB identity', () => {
  const r = ram(8 * MiB);
  writeBootPageTables(r);
  assert.equal(le(r.bytes, 0x9000, 8), 0xa003n);
  assert.equal(le(r.bytes, 0xa000, 8), 0xb003n);
  assert.equal(le(r.bytes, 0xb000, 8), 0x83n);
  assert.equal(le(r.bytes, 0xb008, 8), 0x200083n);
  assert.equal(le(r.bytes, 0xb000 + 511 * 8, 8), (511n << 21n) | 0x83n);
  assert.equal(le(r.bytes, 0x9008, 8), 0n);
});

test('entry registers: Linux 64-bit and PVH', () => {
  const s = linuxBootSregs(0x60000010n, 0n, 0n);
  assert.equal(s.cr0, 0xe0000011n);
  assert.equal(s.cr3, 0x9000n);
  assert.equal(s.cr4, 0x20n);
  assert.equal(s.efer, 0x500n);
  assert.equal(s.cs?.selector, 8);
  assert.equal(s.cs?.l, 1);
  assert.equal(s.ds?.selector, 0x10);
  assert.equal(s.ss?.selector, 0x10);
  assert.equal(s.tr?.selector, 0x18);
  assert.deepEqual(s.gdt, { base: 0x500, limit: 31 });
  assert.deepEqual(s.idt, { base: 0x520, limit: 7 });
  assert.deepEqual(linuxBootRegs(0x100000), { rflags: 2n, rip: 0x100000n, rsp: 0x8ff0n, rbp: 0x8ff0n, rsi: 0x7000n });
  const p = pvhBootSregs();
  assert.equal(p.cr0, 1n);
  assert.equal(p.cr4, 0n);
  assert.equal(p.efer, 0n);
  assert.equal(p.cs?.db, 1);
  assert.equal(p.cs?.l, 0);
  assert.equal(p.cs?.limit, 0xffffffff);
  assert.deepEqual(pvhBootRegs(0x100010), { rflags: 2n, rip: 0x100010n, rbx: 0x6000n });
});

test('CPUID: APIC id in leaf 1, timing leaf 0x40000010, max hypervisor leaf raised', () => {
  const supported = [
    { function: 1, index: 0, flags: 0, eax: 0x806f8, ebx: 0x00aabbcc, ecx: 0, edx: 0 },
    { function: 0xb, index: 0, flags: 1, eax: 1, ebx: 1, ecx: 0x100, edx: 0 },
    { function: 0x40000000, index: 0, flags: 0, eax: 0x40000001, ebx: 0x4b4d564b, ecx: 0x564b4d56, edx: 0x4d },
    { function: 0x40000001, index: 0, flags: 0, eax: 0x1234, ebx: 0, ecx: 0, edx: 0 },
  ];
  const c = buildCpuid(supported, 3, 2_100_000);
  assert.equal(c.find((e) => e.function === 1)!.ebx, 0x03aabbcc);
  assert.equal(c.find((e) => e.function === 0xb)!.edx, 3);
  const sig = c.find((e) => e.function === 0x40000000)!;
  assert.equal(sig.eax, 0x40000010);
  assert.deepEqual([sig.ebx, sig.ecx, sig.edx], [0x4b4d564b, 0x564b4d56, 0x4d]);
  assert.deepEqual(c.find((e) => e.function === 0x40000010), { function: 0x40000010, index: 0, flags: 0, eax: 2_100_000, ebx: 1_000_000, ecx: 0, edx: 0 });
  assert.equal(supported[0]!.ebx, 0x00aabbcc, 'input not modified');
  assert.equal(c.filter((e) => e.function === 0x40000010).length, 1);
});

test('GuestRam rejects ranges outside RAM', () => {
  const r = ram(8 * MiB);
  assert.throws(() => r.slice(8 * MiB - 4, 8), RangeError);
  assert.equal(r.contains(0, 8 * MiB), true);
  assert.equal(r.contains(-1, 1), false);
});
