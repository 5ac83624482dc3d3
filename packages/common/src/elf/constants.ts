// ELF64 constants with the names of the System V gABI and the x86-64 psABI.
// Only what Kiln reads or writes: file header, program headers, section headers, symbols.
// Spec: System V ABI "ELF-64 Object File Format" 1.5; x86-64 psABI 1.0 §4.

export const ELFMAG = [0x7f, 0x45, 0x4c, 0x46] as const; // "\x7fELF"
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const EV_CURRENT = 1;
export const ELFOSABI_SYSV = 0;

export const ET_EXEC = 2;
export const ET_DYN = 3;
export const EM_X86_64 = 62;

export const EHDR_SIZE = 64;
export const PHDR_SIZE = 56;
export const SHDR_SIZE = 64;
export const SYM_SIZE = 24;

export const PT_NULL = 0;
export const PT_LOAD = 1;
export const PT_NOTE = 4;

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOBITS = 8;
export const SHN_UNDEF = 0;

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;

export const PAGE_SIZE = 4096;
