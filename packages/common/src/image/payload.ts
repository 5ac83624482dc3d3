// Kiln image payload: the read-only segment `kiln build` adds at the core's __payload_start.
// It carries the app's QuickJS bytecode, the core's symbol table (for fault reports), the
// bootfs (image/bootfs.ts), the bundle's line map (image/line_map.ts) and its function names
// (image/function_names.ts, for the profiler). Pure TS without
// TextEncoder: the guest imports the constants.
// Format (little-endian), the contract with arch/payload.c: docs/ARCHITECTURE.md "Image payload".
// Decoding takes untrusted bytes: every offset is checked and failures are ImageError(EBADPAYLOAD).

import { ImageError } from '../elf/errors.ts';
import { decodeUtf8, encodeUtf8 } from '../text/utf8.ts';

export const PAYLOAD_MAGIC = 'KILNPAY1';
export const PAYLOAD_VERSION = 1;
export const PAYLOAD_HEADER_SIZE = 24;
export const PAYLOAD_SECTION_ENTRY_SIZE = 16;
export const PAYLOAD_ALIGN = 8;

export const PAYLOAD_KIND_BYTECODE = 1;
export const PAYLOAD_KIND_SYMBOLS = 2;
export const PAYLOAD_KIND_BOOTFS = 3;
export const PAYLOAD_KIND_LINE_MAP = 4;
export const PAYLOAD_KIND_FUNCTION_NAMES = 5;

export interface PayloadSection {
  readonly kind: number;
  readonly data: Uint8Array;
}

export interface PayloadSymbol {
  readonly address: number;
  readonly name: string;
  readonly size: number;
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;
const MAGIC_BYTES = Array.from(PAYLOAD_MAGIC, (c) => c.charCodeAt(0));

/**
 * Encodes sections into a payload. Section data starts 8-byte aligned; the total size
 * (header field and returned length) includes the padding after the last section.
 */
export function encodePayload(sections: readonly PayloadSection[]): Uint8Array {
  let cursor = align(PAYLOAD_HEADER_SIZE + sections.length * PAYLOAD_SECTION_ENTRY_SIZE, PAYLOAD_ALIGN);
  const offsets = sections.map((s) => {
    const at = cursor;
    cursor = align(cursor + s.data.length, PAYLOAD_ALIGN);
    return at;
  });
  if (cursor > 0xffffffff) throw new ImageError('EBADPAYLOAD', `payload too large (${cursor} bytes)`);
  const out = new Uint8Array(cursor);
  const v = new DataView(out.buffer);
  out.set(MAGIC_BYTES, 0);
  v.setUint32(8, PAYLOAD_VERSION, true);
  v.setUint32(12, sections.length, true);
  v.setBigUint64(16, BigInt(cursor), true);
  sections.forEach((s, i) => {
    const e = PAYLOAD_HEADER_SIZE + i * PAYLOAD_SECTION_ENTRY_SIZE;
    v.setUint32(e, s.kind, true);
    v.setUint32(e + 4, 0, true);
    v.setUint32(e + 8, offsets[i]!, true);
    v.setUint32(e + 12, s.data.length, true);
    out.set(s.data, offsets[i]!);
  });
  return out;
}

/** Decodes a payload; `bytes` may extend past the payload (e.g. a whole segment). */
export function decodePayload(bytes: Uint8Array): PayloadSection[] {
  const bad = (msg: string): ImageError => new ImageError('EBADPAYLOAD', `payload: ${msg}`);
  if (bytes.length < PAYLOAD_HEADER_SIZE) throw bad(`only ${bytes.length} bytes, header needs ${PAYLOAD_HEADER_SIZE}`);
  if (MAGIC_BYTES.some((b, i) => bytes[i] !== b)) throw bad(`bad magic (expected "${PAYLOAD_MAGIC}")`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = v.getUint32(8, true);
  if (version !== PAYLOAD_VERSION) throw bad(`version ${version}, expected ${PAYLOAD_VERSION}`);
  const count = v.getUint32(12, true);
  const total = v.getBigUint64(16, true);
  if (total > BigInt(bytes.length)) throw bad(`total size ${total} exceeds the ${bytes.length} bytes available`);
  const size = Number(total);
  if (PAYLOAD_HEADER_SIZE + count * PAYLOAD_SECTION_ENTRY_SIZE > size) {
    throw bad(`${count} sections do not fit in ${size} bytes`);
  }
  const out: PayloadSection[] = [];
  for (let i = 0; i < count; i++) {
    const e = PAYLOAD_HEADER_SIZE + i * PAYLOAD_SECTION_ENTRY_SIZE;
    const kind = v.getUint32(e, true);
    const offset = v.getUint32(e + 8, true);
    const len = v.getUint32(e + 12, true);
    if (offset % PAYLOAD_ALIGN !== 0) throw bad(`section ${i} offset ${offset} is not ${PAYLOAD_ALIGN}-byte aligned`);
    if (offset + len > size) throw bad(`section ${i} (${offset}+${len}) is past the payload end ${size}`);
    out.push({ kind, data: bytes.subarray(offset, offset + len) });
  }
  return out;
}

/** Encodes a symbol table section; symbols are sorted by address (stable). */
export function encodeSymbols(symbols: readonly PayloadSymbol[]): Uint8Array {
  const sorted = [...symbols].sort((a, b) => a.address - b.address);
  const names = sorted.map((s) => encodeUtf8(s.name));
  const strBytes = names.reduce((n, b) => n + b.length + 1, 0);
  const out = new Uint8Array(4 + sorted.length * 16 + strBytes);
  const v = new DataView(out.buffer);
  v.setUint32(0, sorted.length, true);
  let str = 0;
  const strBase = 4 + sorted.length * 16;
  sorted.forEach((s, i) => {
    const e = 4 + i * 16;
    v.setBigUint64(e, BigInt(s.address), true);
    v.setUint32(e + 8, str, true);
    v.setUint32(e + 12, s.size, true);
    out.set(names[i]!, strBase + str);
    str += names[i]!.length + 1; // NUL is already zero
  });
  return out;
}

/** Decodes a symbol table section. */
export function decodeSymbols(bytes: Uint8Array): PayloadSymbol[] {
  const bad = (msg: string): ImageError => new ImageError('EBADPAYLOAD', `symbol table: ${msg}`);
  if (bytes.length < 4) throw bad('shorter than its count field');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = v.getUint32(0, true);
  const strBase = 4 + count * 16;
  if (strBase > bytes.length) throw bad(`${count} entries do not fit in ${bytes.length} bytes`);
  const out: PayloadSymbol[] = [];
  for (let i = 0; i < count; i++) {
    const e = 4 + i * 16;
    const address = v.getBigUint64(e, true);
    if (address > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`entry ${i} address too large`);
    const nameOff = strBase + v.getUint32(e + 8, true);
    let end = nameOff;
    while (end < bytes.length && bytes[end] !== 0) end++;
    if (end >= bytes.length) throw bad(`entry ${i} name is outside the string table or not NUL-terminated`);
    out.push({ address: Number(address), name: decodeUtf8(bytes.subarray(nameOff, end)), size: v.getUint32(e + 12, true) });
  }
  return out;
}
