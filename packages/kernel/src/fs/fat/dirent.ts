// FAT directory entries (Microsoft FAT spec §6, §7): the 32-byte short (8.3) entry, the long
// file name (LFN) entry that carries 13 UTF-16 units of the name, the LFN checksum over the
// short name, and the packed DOS date/time. Entries are read from and written into a directory
// buffer at a byte offset; callers pass in-bounds offsets (directory buffers are whole clusters).
// Short names are kept as "raw" 11-character strings, one char per on-disk byte.

import { put16, put32, u16, u32 } from './le.ts';

export const DIRENT_SIZE = 32;

export const ATTR_READ_ONLY = 0x01;
export const ATTR_HIDDEN = 0x02;
export const ATTR_SYSTEM = 0x04;
export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;
export const ATTR_LONG_NAME = 0x0f;
export const ATTR_LONG_NAME_MASK = 0x3f;

/** First name byte: entry is free and so is every entry after it. */
export const ENTRY_END = 0x00;
/** First name byte: entry is free (deleted). */
export const ENTRY_FREE = 0xe5;
/** First name byte stored for a name whose first OEM byte really is 0xE5. */
export const ENTRY_KANJI_E5 = 0x05;

/** Windows NT case bits in byte 12: the base / the extension is shown in lower case. */
export const NT_LOWER_BASE = 0x08;
export const NT_LOWER_EXT = 0x10;

export const DIRENT = {
  name: 0, attr: 11, ntCase: 12, ctimeTenth: 13, ctime: 14, cdate: 16, adate: 18, clusterHi: 20,
  mtime: 22, mdate: 24, clusterLo: 26, size: 28,
} as const;

export const LFN = { ord: 0, name1: 1, attr: 11, type: 12, checksum: 13, name2: 14, clusterLo: 26, name3: 28 } as const;
export const LFN_LAST = 0x40;
export const LFN_CHARS = 13;
export const LFN_MAX_ENTRIES = 20;
/** Byte offsets of the 13 UTF-16 units inside an LFN entry. */
const LFN_UNIT_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

export interface ShortEntry {
  /** The 11 name bytes as a string of chars 0-255 (first byte 0x05 already means 0xE5 here, as stored). */
  rawName: string;
  attr: number;
  ntCase: number;
  ctimeTenth: number;
  ctime: number;
  cdate: number;
  adate: number;
  /** First cluster (high word ignored on FAT12/16 by the caller). */
  cluster: number;
  mtime: number;
  mdate: number;
  size: number;
}

export function parseShort(b: Uint8Array, off: number): ShortEntry {
  let rawName = '';
  for (let i = 0; i < 11; i++) rawName += String.fromCharCode(b[off + i]!);
  return {
    rawName,
    attr: b[off + DIRENT.attr]!,
    ntCase: b[off + DIRENT.ntCase]!,
    ctimeTenth: b[off + DIRENT.ctimeTenth]!,
    ctime: u16(b, off + DIRENT.ctime),
    cdate: u16(b, off + DIRENT.cdate),
    adate: u16(b, off + DIRENT.adate),
    cluster: u16(b, off + DIRENT.clusterHi) * 0x10000 + u16(b, off + DIRENT.clusterLo),
    mtime: u16(b, off + DIRENT.mtime),
    mdate: u16(b, off + DIRENT.mdate),
    size: u32(b, off + DIRENT.size),
  };
}

export function emitShort(e: ShortEntry, b: Uint8Array, off: number): void {
  for (let i = 0; i < 11; i++) b[off + i] = e.rawName.charCodeAt(i) & 0xff;
  b[off + DIRENT.attr] = e.attr;
  b[off + DIRENT.ntCase] = e.ntCase;
  b[off + DIRENT.ctimeTenth] = e.ctimeTenth;
  put16(b, off + DIRENT.ctime, e.ctime);
  put16(b, off + DIRENT.cdate, e.cdate);
  put16(b, off + DIRENT.adate, e.adate);
  put16(b, off + DIRENT.clusterHi, Math.floor(e.cluster / 0x10000));
  put16(b, off + DIRENT.mtime, e.mtime);
  put16(b, off + DIRENT.mdate, e.mdate);
  put16(b, off + DIRENT.clusterLo, e.cluster & 0xffff);
  put32(b, off + DIRENT.size, e.size);
}

/** The LFN checksum of an 11-byte short name (§7.2): rotate right by one, add the next byte, mod 256. */
export function lfnChecksum(rawName: string): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = ((((sum & 1) << 7) | (sum >> 1)) + rawName.charCodeAt(i)) & 0xff;
  return sum;
}

export function isLfnEntry(b: Uint8Array, off: number): boolean {
  return (b[off + DIRENT.attr]! & ATTR_LONG_NAME_MASK) === ATTR_LONG_NAME && b[off] !== ENTRY_FREE && b[off] !== ENTRY_END;
}

/**
 * Writes LFN entry `seq` (1-based; entry 1 holds units 0-12) of `name` into b[off..]. The name is
 * followed by one 0x0000 unit when it does not fill the entry, then 0xFFFF padding.
 */
export function emitLfn(name: string, seq: number, last: boolean, checksum: number, b: Uint8Array, off: number): void {
  b[off + LFN.ord] = seq | (last ? LFN_LAST : 0);
  b[off + LFN.attr] = ATTR_LONG_NAME;
  b[off + LFN.type] = 0;
  b[off + LFN.checksum] = checksum;
  put16(b, off + LFN.clusterLo, 0);
  const base = (seq - 1) * LFN_CHARS;
  for (let i = 0; i < LFN_CHARS; i++) {
    const k = base + i;
    const unit = k < name.length ? name.charCodeAt(k) : k === name.length ? 0 : 0xffff;
    put16(b, off + LFN_UNIT_OFFSETS[i]!, unit);
  }
}

/** The name units of one LFN entry, up to its 0x0000 terminator. */
export function lfnChars(b: Uint8Array, off: number): string {
  let s = '';
  for (let i = 0; i < LFN_CHARS; i++) {
    const unit = u16(b, off + LFN_UNIT_OFFSETS[i]!);
    if (unit === 0) break;
    s += String.fromCharCode(unit);
  }
  return s;
}

// DOS date: bits 15-9 years since 1980, 8-5 month 1-12, 4-0 day 1-31. Time: bits 15-11 hours,
// 10-5 minutes, 4-0 seconds/2. Kiln stores UTC (the guest has no time zone).
export const FAT_EPOCH_MS = Date.UTC(1980, 0, 1);
const FAT_LAST_MS = Date.UTC(2107, 11, 31, 23, 59, 58);

export interface DosTime {
  date: number;
  time: number;
  /** Creation time's extra 10 ms units, 0-199. */
  tenth: number;
}

export function toDosTime(ms: number): DosTime {
  const t = Math.min(Math.max(ms, FAT_EPOCH_MS), FAT_LAST_MS);
  const d = new Date(t);
  const sec = d.getUTCSeconds();
  return {
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (sec >> 1),
    tenth: (sec & 1) * 100 + Math.floor(d.getUTCMilliseconds() / 10),
  };
}

/** Milliseconds since the epoch of a DOS date/time (0 for a zero or impossible date). */
export function fromDosTime(date: number, time: number, tenth = 0): number {
  const day = date & 31;
  const month = (date >> 5) & 15;
  if (day === 0 || month === 0 || month > 12) return 0;
  const ms = Date.UTC(1980 + (date >> 9), month - 1, day, time >> 11, (time >> 5) & 63, (time & 31) * 2);
  return ms + (tenth <= 199 ? tenth * 10 : 0);
}
