// Test helper: builds small ELF files shaped like arch/build/kiln-core.elf (PT_LOAD text and
// data, a PT_NOTE, section headers with .symtab/.strtab/.shstrtab) without a C toolchain.
// Uses writeElf for the segments, then appends sections and patches e_shoff/e_shnum.
// Used by the ELF and assembler tests and by e2e tests that need malformed images.

import {
  PF_R, PF_W, PF_X, PT_LOAD, PT_NOTE, SHDR_SIZE, SHT_NOBITS, SHT_PROGBITS, SHT_STRTAB, SHT_SYMTAB,
  STB_GLOBAL, STT_FUNC, STT_NOTYPE, STT_OBJECT, SYM_SIZE,
} from '../elf/constants.ts';
import { writeElf, type SegmentSpec } from '../elf/writer.ts';

export interface SyntheticSymbol { name: string; value: number; size: number; type: number }

export interface SyntheticCoreOptions {
  /** address of __payload_start; undefined → no such symbol */
  payloadStart?: number;
  /** extra symbols */
  symbols?: SyntheticSymbol[];
  /** override the data segment's memsz (e.g. to overlap the payload) */
  dataMemsz?: number;
}

export const SYN_TEXT_ADDR = 0x100000;
export const SYN_DATA_ADDR = 0x101000;
export const SYN_ENTRY = 0x100010;
/** XEN_ELFNOTE_PHYS32_ENTRY (18) note, name "Xen", desc = 32-bit entry. */
export const SYN_NOTE = new Uint8Array([
  4, 0, 0, 0, 4, 0, 0, 0, 18, 0, 0, 0, 0x58, 0x65, 0x6e, 0, 0x00, 0x00, 0x10, 0x00,
]);

export function syntheticCore(opts: SyntheticCoreOptions = {}): Uint8Array {
  const text = new Uint8Array(64).fill(0x90); // nops
  text.set(SYN_NOTE, 32); // the note lives inside .text, as with a linker script
  const data = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const dataMemsz = opts.dataMemsz ?? 0x2000; // .data + .bss
  const segments: SegmentSpec[] = [
    { type: PT_LOAD, flags: PF_R | PF_X, vaddr: SYN_TEXT_ADDR, data: text },
    { type: PT_LOAD, flags: PF_R | PF_W, vaddr: SYN_DATA_ADDR, data, memsz: dataMemsz },
    { type: PT_NOTE, flags: PF_R, vaddr: SYN_TEXT_ADDR + 32, data: SYN_NOTE, align: 4 },
  ];
  const base = writeElf({ entry: SYN_ENTRY, segments });

  const syms: SyntheticSymbol[] = [
    { name: '', value: 0, size: 0, type: STT_NOTYPE },
    { name: '_start', value: SYN_ENTRY, size: 16, type: STT_FUNC },
    { name: 'kmain', value: SYN_TEXT_ADDR, size: 16, type: STT_FUNC },
    { name: 'counter', value: SYN_DATA_ADDR, size: 8, type: STT_OBJECT },
    ...(opts.payloadStart === undefined ? [] : [{ name: '__payload_start', value: opts.payloadStart, size: 0, type: STT_NOTYPE }]),
    ...(opts.symbols ?? []),
  ];
  const enc = new TextEncoder();
  const strParts: number[] = [0];
  const symtab = new Uint8Array(syms.length * SYM_SIZE);
  const sv = new DataView(symtab.buffer);
  syms.forEach((s, i) => {
    let nameOff = 0;
    if (s.name !== '') {
      nameOff = strParts.length;
      strParts.push(...enc.encode(s.name), 0);
    }
    const o = i * SYM_SIZE;
    sv.setUint32(o, nameOff, true);
    symtab[o + 4] = (STB_GLOBAL << 4) | s.type;
    sv.setUint16(o + 6, s.type === STT_NOTYPE && s.name === '' ? 0 : 1, true);
    sv.setBigUint64(o + 8, BigInt(s.value), true);
    sv.setBigUint64(o + 16, BigInt(s.size), true);
  });
  const strtab = new Uint8Array(strParts);
  const shnames = ['', '.text', '.bss', '.symtab', '.strtab', '.shstrtab'];
  const shstrParts: number[] = [];
  const shnameOff = shnames.map((n) => {
    const at = shstrParts.length;
    shstrParts.push(...enc.encode(n), 0);
    return at;
  });
  const shstrtab = new Uint8Array(shstrParts);

  // Append section contents after the segments, then the section header table.
  const symtabOff = align8(base.length);
  const strtabOff = symtabOff + symtab.length;
  const shstrOff = strtabOff + strtab.length;
  const shoff = align8(shstrOff + shstrtab.length);
  const out = new Uint8Array(shoff + shnames.length * SHDR_SIZE);
  out.set(base);
  out.set(symtab, symtabOff);
  out.set(strtab, strtabOff);
  out.set(shstrtab, shstrOff);
  const v = new DataView(out.buffer);
  const textOff = Number(new DataView(base.buffer).getBigUint64(64 + 8, true));
  const sh = (i: number, type: number, addr: number, off: number, size: number, link = 0, entsize = 0): void => {
    const o = shoff + i * SHDR_SIZE;
    v.setUint32(o, shnameOff[i]!, true);
    v.setUint32(o + 4, type, true);
    v.setBigUint64(o + 16, BigInt(addr), true);
    v.setBigUint64(o + 24, BigInt(off), true);
    v.setBigUint64(o + 32, BigInt(size), true);
    v.setUint32(o + 40, link, true);
    v.setBigUint64(o + 48, 1n, true);
    v.setBigUint64(o + 56, BigInt(entsize), true);
  };
  sh(1, SHT_PROGBITS, SYN_TEXT_ADDR, textOff, text.length);
  sh(2, SHT_NOBITS, SYN_DATA_ADDR + 8, 0, dataMemsz - 8);
  sh(3, SHT_SYMTAB, 0, symtabOff, symtab.length, 4, SYM_SIZE);
  sh(4, SHT_STRTAB, 0, strtabOff, strtab.length);
  sh(5, SHT_STRTAB, 0, shstrOff, shstrtab.length);
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint16(60, shnames.length, true);
  v.setUint16(62, 5, true);
  return out;
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;
