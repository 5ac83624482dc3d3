// Builds a bootable Kiln image from the arch core ELF and the app's QuickJS bytecode.
// Copies the core's PT_LOAD and PT_NOTE segments (the PVH note must survive), and adds one
// read-only PT_LOAD at the core's `__payload_start` holding the payload (bytecode + symbols,
// the bootfs section when the app uses kiln:fs, and the bundle's line map and function names
// when there are).
// Contract: docs/ARCHITECTURE.md "Image payload"; the guest finds the payload at that symbol.

import { EM_X86_64, ET_EXEC, PAGE_SIZE, PF_R, PT_LOAD, PT_NOTE, STT_FUNC, STT_OBJECT } from '../elf/constants.ts';
import { ImageError } from '../elf/errors.ts';
import { findSymbol, parseElf, readSymbols, segmentData, type ElfFile } from '../elf/reader.ts';
import { writeElf, type SegmentSpec } from '../elf/writer.ts';
import {
  PAYLOAD_KIND_BOOTFS, PAYLOAD_KIND_BYTECODE, PAYLOAD_KIND_FUNCTION_NAMES, PAYLOAD_KIND_LINE_MAP, PAYLOAD_KIND_SYMBOLS, PAYLOAD_MAGIC, decodePayload, encodePayload, encodeSymbols,
  type PayloadSection,
} from './payload.ts';

export const PAYLOAD_SYMBOL = '__payload_start';

/** Assembles an image (with a bootfs section when `bootfs` is given, a line map section when
 * `lineMap` is: image/line_map.ts, a function-names section when `functionNames` is:
 * image/function_names.ts); throws ImageError when the core is unusable. */
export function assembleImage(coreElf: Uint8Array, bytecode: Uint8Array, bootfs?: Uint8Array, lineMap?: Uint8Array, functionNames?: Uint8Array): Uint8Array {
  const core = parseElf(coreElf);
  if (core.header.machine !== EM_X86_64) {
    throw new ImageError('EUNSUPPORTED', `core is not x86-64 (e_machine ${core.header.machine})`);
  }
  if (core.header.type !== ET_EXEC) {
    throw new ImageError('EUNSUPPORTED', `core is not an executable (e_type ${core.header.type})`);
  }
  const start = findSymbol(core, PAYLOAD_SYMBOL);
  if (start === undefined) {
    throw new ImageError('ENOSYMBOL', `core has no ${PAYLOAD_SYMBOL} symbol (is it arch/build/kiln-core.elf, unstripped?)`);
  }
  const at = start.value;
  if (at % PAGE_SIZE !== 0) {
    throw new ImageError('EBADIMAGE', `${PAYLOAD_SYMBOL} 0x${at.toString(16)} is not page aligned`);
  }

  const symbols = readSymbols(core)
    .filter((s) => (s.type === STT_FUNC || s.type === STT_OBJECT) && s.value !== 0 && s.name !== '')
    .map((s) => ({ address: s.value, name: s.name, size: Math.min(s.size, 0xffffffff) }));
  const payload = encodePayload([
    { kind: PAYLOAD_KIND_BYTECODE, data: bytecode },
    { kind: PAYLOAD_KIND_SYMBOLS, data: encodeSymbols(symbols) },
    ...(bootfs ? [{ kind: PAYLOAD_KIND_BOOTFS, data: bootfs }] : []),
    ...(lineMap ? [{ kind: PAYLOAD_KIND_LINE_MAP, data: lineMap }] : []),
    ...(functionNames ? [{ kind: PAYLOAD_KIND_FUNCTION_NAMES, data: functionNames }] : []),
  ]);

  const segments: SegmentSpec[] = [];
  for (const [i, ph] of core.programHeaders.entries()) {
    if (ph.type !== PT_LOAD && ph.type !== PT_NOTE) continue;
    if (ph.type === PT_LOAD) {
      for (const [name, base] of [['p_vaddr', ph.vaddr], ['p_paddr', ph.paddr]] as const) {
        if (base < at + payload.length && at < base + ph.memsz) {
          throw new ImageError(
            'EOVERLAP',
            `core segment ${i} (${name} 0x${base.toString(16)}, ${ph.memsz} bytes) overlaps the payload at 0x${at.toString(16)}`,
          );
        }
      }
    }
    segments.push({
      type: ph.type, flags: ph.flags, vaddr: ph.vaddr, paddr: ph.paddr,
      data: segmentData(core, ph), memsz: ph.memsz, align: ph.align,
    });
  }
  segments.push({ type: PT_LOAD, flags: PF_R, vaddr: at, paddr: at, data: payload, align: PAGE_SIZE });
  return writeElf({ entry: core.header.entry, segments });
}

/** Finds and decodes the payload of an assembled image: the PT_LOAD whose data starts with the magic. */
export function readImagePayload(image: Uint8Array | ElfFile): { address: number; sections: PayloadSection[] } {
  const elf = image instanceof Uint8Array ? parseElf(image) : image;
  for (const ph of elf.programHeaders) {
    if (ph.type !== PT_LOAD) continue;
    const data = segmentData(elf, ph);
    if (data.length >= 8 && String.fromCharCode(...data.subarray(0, 8)) === PAYLOAD_MAGIC) {
      return { address: ph.paddr, sections: decodePayload(data) };
    }
  }
  throw new ImageError('EBADPAYLOAD', 'image has no Kiln payload segment');
}
