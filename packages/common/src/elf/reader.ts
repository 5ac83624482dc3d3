// ELF64 little-endian reader: file header, program headers, section headers, symbols.
// Input is untrusted (images given to `kiln run`, cores given to `kiln build`): every offset
// and size is checked against the buffer before use, and every failure is an ImageError.
// Addresses are plain numbers, refused above Number.MAX_SAFE_INTEGER. Spec: gABI ELF-64 1.5.

import {
  EHDR_SIZE, ELFCLASS64, ELFDATA2LSB, ELFMAG, PHDR_SIZE, SHDR_SIZE, SHT_NOBITS, SHT_SYMTAB,
  SHT_STRTAB, SYM_SIZE,
} from './constants.ts';
import { ImageError } from './errors.ts';

export interface ElfHeader {
  readonly osabi: number;
  readonly type: number;
  readonly machine: number;
  readonly version: number;
  readonly entry: number;
  readonly phoff: number;
  readonly shoff: number;
  readonly flags: number;
  readonly ehsize: number;
  readonly phentsize: number;
  readonly phnum: number;
  readonly shentsize: number;
  readonly shnum: number;
  readonly shstrndx: number;
}

export interface ProgramHeader {
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly vaddr: number;
  readonly paddr: number;
  readonly filesz: number;
  readonly memsz: number;
  readonly align: number;
}

export interface SectionHeader {
  readonly name: string;
  readonly nameOffset: number;
  readonly type: number;
  readonly flags: number;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
}

export interface ElfSymbol {
  readonly name: string;
  readonly value: number;
  readonly size: number;
  /** STT_* (low 4 bits of st_info) */
  readonly type: number;
  /** STB_* (high 4 bits of st_info) */
  readonly bind: number;
  readonly shndx: number;
}

export interface ElfFile {
  readonly bytes: Uint8Array;
  readonly header: ElfHeader;
  readonly programHeaders: readonly ProgramHeader[];
  readonly sectionHeaders: readonly SectionHeader[];
}

/** A bounds-checked little-endian view; reads past `end` throw ETRUNCATED. */
class Reader {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  check(offset: number, size: number, what: string): void {
    if (offset < 0 || size < 0 || offset + size > this.bytes.length) {
      throw new ImageError(
        'ETRUNCATED',
        `${what} at offset ${offset} (${size} bytes) is past the end of the file (${this.bytes.length} bytes)`,
      );
    }
  }
  u8(o: number): number { return this.view.getUint8(o); }
  u16(o: number): number { return this.view.getUint16(o, true); }
  u32(o: number): number { return this.view.getUint32(o, true); }
  /** A 64-bit field as a number; beyond 2^53 it cannot be a position in this file (ETRUNCATED)
   * nor a usable address or size (EBADIMAGE), as `code` says. */
  u64(o: number, what: string, code: 'EBADIMAGE' | 'ETRUNCATED' = 'EBADIMAGE'): number {
    const v = this.view.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ImageError(code, `${what} 0x${v.toString(16)} is ${code === 'ETRUNCATED' ? 'past the end of the file' : 'too large'}`);
    }
    return Number(v);
  }
}

/** Parses an ELF64 little-endian file. Throws ImageError on anything malformed. */
export function parseElf(bytes: Uint8Array): ElfFile {
  const r = new Reader(bytes);
  if (bytes.length < 4 || ELFMAG.some((b, i) => bytes[i] !== b)) {
    throw new ImageError('EBADIMAGE', 'not an ELF file (bad magic)');
  }
  r.check(0, EHDR_SIZE, 'ELF header');
  if (r.u8(4) !== ELFCLASS64) throw new ImageError('EUNSUPPORTED', `not a 64-bit ELF file (EI_CLASS ${r.u8(4)})`);
  if (r.u8(5) !== ELFDATA2LSB) throw new ImageError('EUNSUPPORTED', `not a little-endian ELF file (EI_DATA ${r.u8(5)})`);
  const header: ElfHeader = {
    osabi: r.u8(7),
    type: r.u16(16),
    machine: r.u16(18),
    version: r.u32(20),
    entry: r.u64(24, 'e_entry'),
    phoff: r.u64(32, 'e_phoff', 'ETRUNCATED'),
    shoff: r.u64(40, 'e_shoff', 'ETRUNCATED'),
    flags: r.u32(48),
    ehsize: r.u16(52),
    phentsize: r.u16(54),
    phnum: r.u16(56),
    shentsize: r.u16(58),
    shnum: r.u16(60),
    shstrndx: r.u16(62),
  };
  if (header.phnum > 0 && header.phentsize !== PHDR_SIZE) {
    throw new ImageError('EBADIMAGE', `e_phentsize is ${header.phentsize}, expected ${PHDR_SIZE}`);
  }
  if (header.shnum > 0 && header.shentsize !== SHDR_SIZE) {
    throw new ImageError('EBADIMAGE', `e_shentsize is ${header.shentsize}, expected ${SHDR_SIZE}`);
  }

  r.check(header.phoff, header.phnum * PHDR_SIZE, 'program header table');
  const programHeaders: ProgramHeader[] = [];
  for (let i = 0; i < header.phnum; i++) {
    const o = header.phoff + i * PHDR_SIZE;
    const ph: ProgramHeader = {
      type: r.u32(o),
      flags: r.u32(o + 4),
      offset: r.u64(o + 8, 'p_offset', 'ETRUNCATED'),
      vaddr: r.u64(o + 16, 'p_vaddr'),
      paddr: r.u64(o + 24, 'p_paddr'),
      filesz: r.u64(o + 32, 'p_filesz', 'ETRUNCATED'),
      memsz: r.u64(o + 40, 'p_memsz'),
      align: r.u64(o + 48, 'p_align'),
    };
    if (ph.type !== 0) r.check(ph.offset, ph.filesz, `segment ${i}`);
    if (ph.filesz > ph.memsz && ph.type === 1) {
      throw new ImageError('EBADIMAGE', `segment ${i}: p_filesz ${ph.filesz} > p_memsz ${ph.memsz}`);
    }
    programHeaders.push(ph);
  }

  r.check(header.shoff, header.shnum * SHDR_SIZE, 'section header table');
  const raw: Omit<SectionHeader, 'name'>[] = [];
  for (let i = 0; i < header.shnum; i++) {
    const o = header.shoff + i * SHDR_SIZE;
    const sh = {
      nameOffset: r.u32(o),
      type: r.u32(o + 4),
      flags: r.u64(o + 8, 'sh_flags'),
      addr: r.u64(o + 16, 'sh_addr'),
      offset: r.u64(o + 24, 'sh_offset', 'ETRUNCATED'),
      size: r.u64(o + 32, 'sh_size', 'ETRUNCATED'),
      link: r.u32(o + 40),
      info: r.u32(o + 44),
      addralign: r.u64(o + 48, 'sh_addralign'),
      entsize: r.u64(o + 56, 'sh_entsize'),
    };
    if (sh.type !== SHT_NOBITS && sh.type !== 0) r.check(sh.offset, sh.size, `section ${i}`);
    raw.push(sh);
  }
  let sectionHeaders: SectionHeader[] = raw.map((s) => ({ ...s, name: '' }));
  if (header.shnum > 0 && header.shstrndx !== 0) {
    const strtab = raw[header.shstrndx];
    if (strtab === undefined || strtab.type !== SHT_STRTAB) {
      throw new ImageError('EBADIMAGE', `e_shstrndx ${header.shstrndx} is not a string table`);
    }
    const names = bytes.subarray(strtab.offset, strtab.offset + strtab.size);
    sectionHeaders = raw.map((s) => ({ ...s, name: cString(names, s.nameOffset, 'section name') }));
  }
  return { bytes, header, programHeaders, sectionHeaders };
}

/** The file bytes of a segment (p_filesz bytes from p_offset); bounds were checked by parseElf. */
export function segmentData(elf: ElfFile, ph: ProgramHeader): Uint8Array {
  return elf.bytes.subarray(ph.offset, ph.offset + ph.filesz);
}

/** The file bytes of a section (empty for SHT_NOBITS). */
export function sectionData(elf: ElfFile, sh: SectionHeader): Uint8Array {
  if (sh.type === SHT_NOBITS) return new Uint8Array(0);
  return elf.bytes.subarray(sh.offset, sh.offset + sh.size);
}

/** Symbols of the first SHT_SYMTAB section (with its sh_link string table); [] if none. */
export function readSymbols(elf: ElfFile): ElfSymbol[] {
  const symtab = elf.sectionHeaders.find((s) => s.type === SHT_SYMTAB);
  if (symtab === undefined) return [];
  const strtab = elf.sectionHeaders[symtab.link];
  if (strtab === undefined || strtab.type !== SHT_STRTAB) {
    throw new ImageError('EBADIMAGE', `.symtab sh_link ${symtab.link} is not a string table`);
  }
  if (symtab.entsize !== SYM_SIZE || symtab.size % SYM_SIZE !== 0) {
    throw new ImageError('EBADIMAGE', `.symtab entry size ${symtab.entsize} / size ${symtab.size} is not a multiple of ${SYM_SIZE}`);
  }
  const names = sectionData(elf, strtab);
  const r = new Reader(sectionData(elf, symtab));
  const out: ElfSymbol[] = [];
  for (let o = 0; o < symtab.size; o += SYM_SIZE) {
    const info = r.u8(o + 4);
    out.push({
      name: cString(names, r.u32(o), 'symbol name'),
      type: info & 0xf,
      bind: info >> 4,
      shndx: r.u16(o + 6),
      value: r.u64(o + 8, 'st_value'),
      size: r.u64(o + 16, 'st_size'),
    });
  }
  return out;
}

/** Finds a symbol by name (first match). */
export function findSymbol(elf: ElfFile, name: string): ElfSymbol | undefined {
  return readSymbols(elf).find((s) => s.name === name);
}

const latin1 = (b: Uint8Array): string => {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
};

function cString(table: Uint8Array, offset: number, what: string): string {
  if (offset >= table.length) {
    if (offset === 0 && table.length === 0) return '';
    throw new ImageError('EBADIMAGE', `${what} offset ${offset} is outside its string table (${table.length} bytes)`);
  }
  let end = offset;
  while (end < table.length && table[end] !== 0) end++;
  if (end === table.length) throw new ImageError('EBADIMAGE', `${what} at ${offset} is not NUL-terminated`);
  return latin1(table.subarray(offset, end));
}
