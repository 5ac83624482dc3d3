// Hand-assembled test guests as ELF images (built with @kiln/common's writeElf), used by the
// VMM's integration tests and available to e2e tests: a 64-bit Linux-entry guest that prints,
// signals the boot timer and exits with a code; a spinner; a triple-faulter; a PVH guest.

import { writeElf, PT_LOAD, PT_NOTE, PF_R, PF_X, PF_W, type SegmentSpec } from '@kiln/common';

export const GUEST_BASE = 0x100000;

function elf(code: number[], opts: { data?: Uint8Array; pvhEntry?: number } = {}): Uint8Array {
  const text = new Uint8Array(0x1000);
  text.set(code);
  const segments: SegmentSpec[] = [{ type: PT_LOAD, flags: PF_R | PF_X | PF_W, vaddr: GUEST_BASE, data: text }];
  if (opts.data) segments.push({ type: PT_LOAD, flags: PF_R | PF_W, vaddr: GUEST_BASE + 0x1000, data: opts.data });
  if (opts.pvhEntry !== undefined) {
    const note = new Uint8Array(24);
    const v = new DataView(note.buffer);
    v.setUint32(0, 4, true); // namesz
    v.setUint32(4, 8, true); // descsz: 8-byte value, as QEMU wants in ELF64
    v.setUint32(8, 18, true); // XEN_ELFNOTE_PHYS32_ENTRY
    note.set([0x58, 0x65, 0x6e, 0], 12); // "Xen\0"
    v.setBigUint64(16, BigInt(opts.pvhEntry), true);
    segments.push({ type: PT_NOTE, flags: PF_R, vaddr: GUEST_BASE + 0x2000, data: note });
  }
  return writeElf({ entry: GUEST_BASE, segments });
}

const OUT_CHAR = (c: number): number[] => [0xb0, c, 0xee]; // mov al, c; out dx, al

/**
 * 64-bit guest: prints `text` on 0x3f8, maps 3–4 GiB (PDPT[3] → a PD in its data page whose
 * first entry is a 2 MiB page at 0xC0000000) so it can write 123 to the boot timer, then
 * writes `code` to port 0xf4.
 */
export function helloGuest(text: string, code: number): Uint8Array {
  const bytes = [0x66, 0xba, 0xf8, 0x03]; // mov dx, 0x3f8
  for (const c of new TextEncoder().encode(text)) bytes.push(...OUT_CHAR(c));
  bytes.push(0x48, 0xc7, 0x04, 0x25, 0x18, 0xa0, 0x00, 0x00, 0x03, 0x10, 0x10, 0x00); // mov qword [0xa018], 0x101003
  bytes.push(0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8); // mov rax, cr3; mov cr3, rax
  bytes.push(0xb8, 0x00, 0x00, 0x00, 0xc0); // mov eax, 0xC0000000
  bytes.push(0xc6, 0x00, 0x7b); // mov byte [rax], 123
  bytes.push(0xb0, code & 0xff, 0xe6, 0xf4); // mov al, code; out 0xf4, al
  bytes.push(0xf4, 0xeb, 0xfe); // hlt; jmp .
  const pd = new Uint8Array(0x1000);
  new DataView(pd.buffer).setBigUint64(0, 0xc000_0083n, true);
  return elf(bytes, { data: pd });
}

/** 64-bit guest that spins forever. */
export function spinGuest(): Uint8Array {
  return elf([0xeb, 0xfe]);
}

/**
 * 64-bit guest that executes ud2 with the VMM's empty IDT (limit 7, vector 0 not present):
 * #UD → #GP → #DF → triple fault. (ud2 rather than int3: this host's PVM emulator does not
 * emulate software interrupts and reports KVM_INTERNAL_ERROR_EMULATION instead.)
 */
export function tripleFaultGuest(): Uint8Array {
  return elf([0x0f, 0x0b, 0xeb, 0xfe]);
}

/** 64-bit guest that executes int3 (triple fault on VT-x KVM; emulation failure under PVM). */
export function int3Guest(): Uint8Array {
  return elf([0xcc, 0xeb, 0xfe]);
}

/** 64-bit guest that resets the machine through the i8042. */
export function resetGuest(): Uint8Array {
  return elf([0xb0, 0xfe, 0xe6, 0x64, 0xeb, 0xfe]); // mov al, 0xfe; out 0x64, al; jmp .
}

/**
 * PVH guest (32-bit code at GUEST_BASE+0x10): writes 'P' and the low byte of the start-info
 * magic at [ebx] to 0x3f8, then exits with `code`.
 */
export function pvhGuest(code: number): Uint8Array {
  const bytes = new Array<number>(0x10).fill(0xf4); // the 64-bit entry would just halt
  bytes.push(0x66, 0xba, 0xf8, 0x03, 0xb0, 0x50, 0xee); // mov dx,0x3f8; mov al,'P'; out dx,al
  bytes.push(0x8b, 0x03, 0xee); // mov eax,[ebx]; out dx,al
  bytes.push(0xb0, code & 0xff, 0xe6, 0xf4, 0xeb, 0xfe); // mov al,code; out 0xf4,al; jmp .
  return elf(bytes, { pvhEntry: GUEST_BASE + 0x10 });
}

/**
 * 64-bit guest that maps 3–4 GiB like helloGuest, reads the 32-bit register at `addr` (a
 * virtio-mmio register, say) and exits with its low byte.
 */
export function mmioReadGuest(addr: number): Uint8Array {
  const bytes = [0x48, 0xc7, 0x04, 0x25, 0x18, 0xa0, 0x00, 0x00, 0x03, 0x10, 0x10, 0x00]; // mov qword [0xa018], 0x101003
  bytes.push(0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8); // mov rax, cr3; mov cr3, rax
  bytes.push(0xb8, addr & 0xff, (addr >>> 8) & 0xff, (addr >>> 16) & 0xff, (addr >>> 24) & 0xff); // mov eax, addr
  bytes.push(0x8b, 0x00); // mov eax, [rax]
  bytes.push(0xe6, 0xf4); // out 0xf4, al
  bytes.push(0xf4, 0xeb, 0xfe); // hlt; jmp .
  const pd = new Uint8Array(0x1000);
  new DataView(pd.buffer).setBigUint64(0, 0xc000_0083n, true);
  return elf(bytes, { data: pd });
}
