// The FAT boot sector (BPB) and the FAT32 FSInfo sector (Microsoft "FAT: General Overview of
// On-Disk Format" 1.03, §3 and §5): field offsets in one table, parse → repr or a reason the
// sector is not a usable FAT volume, emit repr → bytes, and the volume geometry derived from it.
// The FAT type comes only from the count of data clusters (§3.5): < 4085 FAT12, < 65525
// FAT16, else FAT32; a BPB whose layout disagrees with its cluster count is refused.

import { put16, put32, u16, u32 } from './le.ts';

export type FatType = 'fat12' | 'fat16' | 'fat32';

export const BOOT_SIGNATURE_OFFSET = 510;
export const FAT12_MAX_CLUSTERS = 4084;
export const FAT16_MAX_CLUSTERS = 65524;
/** FAT32 entries are 28 bits; the highest usable cluster number is 0x0FFFFFF6. */
export const FAT32_MAX_CLUSTERS = 0x0ffffff5;

/** Byte offsets of the BPB (common part, then the FAT12/16 and FAT32 extensions). */
export const BPB = {
  jump: 0, oemName: 3, bytesPerSector: 11, sectorsPerCluster: 13, reservedSectors: 14, fatCount: 16,
  rootEntries: 17, totalSectors16: 19, media: 21, fatSectors16: 22, sectorsPerTrack: 24, heads: 26,
  hiddenSectors: 28, totalSectors32: 32,
  // FAT12/16 extended BPB
  drive16: 36, ntFlags16: 37, bootSig16: 38, volumeId16: 39, label16: 43, fsType16: 54, bootCode16: 62,
  // FAT32 extended BPB
  fatSectors32: 36, extFlags: 40, fsVersion: 42, rootCluster: 44, fsInfoSector: 48, backupBootSector: 50,
  drive32: 64, ntFlags32: 65, bootSig32: 66, volumeId32: 67, label32: 71, fsType32: 82, bootCode32: 90,
} as const;

/** The Windows NT "volume dirty" bit in the BPB's reserved byte (0x25 / 0x41); dosfstools checks it. */
export const NT_FLAG_DIRTY = 0x01;
export const EXTENDED_BOOT_SIGNATURE = 0x29;

export interface Fat32Fields {
  /** Bit 7 set: only FAT number (bits 0-3) is active; clear: all FATs mirrored. */
  extFlags: number;
  fsVersion: number;
  rootCluster: number;
  fsInfoSector: number;
  backupBootSector: number;
}

export interface BootSector {
  oemName: string;
  bytesPerSector: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  fatCount: number;
  rootEntries: number;
  totalSectors: number;
  media: number;
  fatSectors: number;
  sectorsPerTrack: number;
  heads: number;
  hiddenSectors: number;
  /** Present exactly when the BPB has the FAT32 layout (BPB_FATSz16 = 0). */
  fat32?: Fat32Fields;
  driveNumber: number;
  ntFlags: number;
  /** The extended fields below are meaningful only with the 0x29 signature. */
  extendedSignature: boolean;
  volumeId: number;
  /** 11 characters, space padded ("NO NAME    " when unlabelled). */
  volumeLabel: string;
  /** 8 characters ("FAT12   ", …): informational only. */
  fsTypeLabel: string;
}

/** Where things are on the volume, in sectors of `sectorSize` bytes unless named otherwise. */
export interface FatGeometry {
  type: FatType;
  sectorSize: number;
  sectorsPerCluster: number;
  clusterSize: number;
  reservedSectors: number;
  fatCount: number;
  fatSectors: number;
  /** FAT12/16 fixed root directory: first sector and entry count (0 on FAT32). */
  rootDirSector: number;
  rootEntries: number;
  firstDataSector: number;
  totalSectors: number;
  /** Data clusters are numbered 2 .. clusterCount+1. */
  clusterCount: number;
  /** FAT32 root directory's first cluster (0 on FAT12/16). */
  rootCluster: number;
  /** FAT32 FSInfo sector (0 when there is none). */
  fsInfoSector: number;
  backupBootSector: number;
  /** Index of the only FAT in use when mirroring is off, or -1 when every copy is written. */
  activeFat: number;
  /** Byte offset of the NT flags byte holding the dirty bit. */
  ntFlagsOffset: number;
}

function ascii(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(b[off + i]!);
  return s;
}

function putAscii(b: Uint8Array, off: number, len: number, s: string): void {
  for (let i = 0; i < len; i++) b[off + i] = i < s.length ? s.charCodeAt(i) & 0xff : 0x20;
}

const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/** Parses the first sector (at least 512 bytes). Returns the repr, or a reason it is not a FAT boot sector. */
export function parseBootSector(b: Uint8Array): BootSector | string {
  if (b.length < 512) return `boot sector is ${b.length} bytes, expected at least 512`;
  if (b[BOOT_SIGNATURE_OFFSET] !== 0x55 || b[BOOT_SIGNATURE_OFFSET + 1] !== 0xaa) return 'no 0x55AA boot signature';
  if (b[0] !== 0xeb && b[0] !== 0xe9) return `jump instruction 0x${b[0]!.toString(16)} is not EB or E9`;
  const fatSectors16 = u16(b, BPB.fatSectors16);
  const isFat32Layout = fatSectors16 === 0;
  const t16 = u16(b, BPB.totalSectors16);
  const ext = isFat32Layout
    ? { drive: BPB.drive32, nt: BPB.ntFlags32, sig: BPB.bootSig32, id: BPB.volumeId32, label: BPB.label32, fs: BPB.fsType32 }
    : { drive: BPB.drive16, nt: BPB.ntFlags16, sig: BPB.bootSig16, id: BPB.volumeId16, label: BPB.label16, fs: BPB.fsType16 };
  const extendedSignature = b[ext.sig] === EXTENDED_BOOT_SIGNATURE;
  return {
    oemName: ascii(b, BPB.oemName, 8),
    bytesPerSector: u16(b, BPB.bytesPerSector),
    sectorsPerCluster: b[BPB.sectorsPerCluster]!,
    reservedSectors: u16(b, BPB.reservedSectors),
    fatCount: b[BPB.fatCount]!,
    rootEntries: u16(b, BPB.rootEntries),
    totalSectors: t16 !== 0 ? t16 : u32(b, BPB.totalSectors32),
    media: b[BPB.media]!,
    fatSectors: isFat32Layout ? u32(b, BPB.fatSectors32) : fatSectors16,
    sectorsPerTrack: u16(b, BPB.sectorsPerTrack),
    heads: u16(b, BPB.heads),
    hiddenSectors: u32(b, BPB.hiddenSectors),
    ...(isFat32Layout ? {
      fat32: {
        extFlags: u16(b, BPB.extFlags),
        fsVersion: u16(b, BPB.fsVersion),
        rootCluster: u32(b, BPB.rootCluster),
        fsInfoSector: u16(b, BPB.fsInfoSector),
        backupBootSector: u16(b, BPB.backupBootSector),
      },
    } : {}),
    driveNumber: b[ext.drive]!,
    ntFlags: b[ext.nt]!,
    extendedSignature,
    volumeId: extendedSignature ? u32(b, ext.id) : 0,
    volumeLabel: extendedSignature ? ascii(b, ext.label, 11) : 'NO NAME    ',
    fsTypeLabel: extendedSignature ? ascii(b, ext.fs, 8) : '        ',
  };
}

/** Checks the BPB's numbers against each other (and the device size, when given) and derives the layout. */
export function geometry(bs: BootSector, deviceBytes?: number): FatGeometry | string {
  const ss = bs.bytesPerSector;
  if (ss !== 512 && ss !== 1024 && ss !== 2048 && ss !== 4096) return `bytes per sector ${ss} is not 512, 1024, 2048 or 4096`;
  if (!isPow2(bs.sectorsPerCluster) || bs.sectorsPerCluster > 128) return `sectors per cluster ${bs.sectorsPerCluster} is not a power of 2 up to 128`;
  const clusterSize = ss * bs.sectorsPerCluster;
  if (clusterSize > 65536) return `cluster size ${clusterSize} is larger than 64 KiB`;
  if (bs.reservedSectors < 1) return 'no reserved sectors (the boot sector itself is one)';
  if (bs.fatCount < 1 || bs.fatCount > 4) return `FAT count ${bs.fatCount} is not 1 to 4`;
  if (bs.fatSectors < 1) return 'FAT size is 0';
  if (bs.media !== 0xf0 && bs.media < 0xf8) return `media byte 0x${bs.media.toString(16)} is invalid`;
  const rootDirSectors = Math.ceil(bs.rootEntries * 32 / ss);
  const firstDataSector = bs.reservedSectors + bs.fatCount * bs.fatSectors + rootDirSectors;
  if (bs.totalSectors <= firstDataSector) return `total sectors ${bs.totalSectors} leave no data region (it starts at sector ${firstDataSector})`;
  if (deviceBytes !== undefined && bs.totalSectors * ss > deviceBytes) {
    return `volume of ${bs.totalSectors} sectors (${bs.totalSectors * ss} bytes) is larger than the device (${deviceBytes} bytes)`;
  }
  const clusterCount = Math.floor((bs.totalSectors - firstDataSector) / bs.sectorsPerCluster);
  const type: FatType = clusterCount <= FAT12_MAX_CLUSTERS ? 'fat12' : clusterCount <= FAT16_MAX_CLUSTERS ? 'fat16' : 'fat32';
  if (clusterCount < 1) return 'no data clusters';
  if (clusterCount > FAT32_MAX_CLUSTERS) return `${clusterCount} clusters is more than FAT32 can address`;
  if ((type === 'fat32') !== (bs.fat32 !== undefined)) {
    return `${clusterCount} clusters make this ${type.toUpperCase()}, but the BPB has the ${bs.fat32 ? 'FAT32' : 'FAT12/16'} layout`;
  }
  const entryBits = type === 'fat12' ? 12 : type === 'fat16' ? 16 : 32;
  if (Math.floor(bs.fatSectors * ss * 8 / entryBits) < clusterCount + 2) {
    return `FAT of ${bs.fatSectors} sectors cannot hold ${clusterCount + 2} ${entryBits}-bit entries`;
  }
  let rootCluster = 0;
  let fsInfoSector = 0;
  let backupBootSector = 0;
  let activeFat = -1;
  if (bs.fat32) {
    if (bs.rootEntries !== 0) return `FAT32 with ${bs.rootEntries} fixed root entries (must be 0)`;
    if (bs.fat32.fsVersion !== 0) return `FAT32 version ${bs.fat32.fsVersion >> 8}.${bs.fat32.fsVersion & 0xff} is not 0.0`;
    rootCluster = bs.fat32.rootCluster;
    if (rootCluster < 2 || rootCluster > clusterCount + 1) return `root cluster ${rootCluster} is outside 2..${clusterCount + 1}`;
    const fsi = bs.fat32.fsInfoSector;
    fsInfoSector = fsi >= 1 && fsi < bs.reservedSectors ? fsi : 0;
    const bk = bs.fat32.backupBootSector;
    backupBootSector = bk >= 1 && bk < bs.reservedSectors && bk !== fsInfoSector ? bk : 0;
    if (bs.fat32.extFlags & 0x80) {
      activeFat = bs.fat32.extFlags & 0x0f;
      if (activeFat >= bs.fatCount) return `active FAT ${activeFat} does not exist (${bs.fatCount} FATs)`;
    }
  } else if (bs.rootEntries === 0) {
    return `${type.toUpperCase()} with no root directory entries`;
  }
  return {
    type, sectorSize: ss, sectorsPerCluster: bs.sectorsPerCluster, clusterSize,
    reservedSectors: bs.reservedSectors, fatCount: bs.fatCount, fatSectors: bs.fatSectors,
    rootDirSector: bs.fat32 ? 0 : bs.reservedSectors + bs.fatCount * bs.fatSectors,
    rootEntries: bs.fat32 ? 0 : bs.rootEntries,
    firstDataSector, totalSectors: bs.totalSectors, clusterCount, rootCluster, fsInfoSector, backupBootSector, activeFat,
    ntFlagsOffset: bs.fat32 ? BPB.ntFlags32 : BPB.ntFlags16,
  };
}

/** The FAT type of a volume whose first sector is `sector0`, or null when it is not a usable FAT boot sector. */
export function probeFat(sector0: Uint8Array): FatType | null {
  const bs = parseBootSector(sector0);
  if (typeof bs === 'string') return null;
  const g = geometry(bs);
  return typeof g === 'string' ? null : g.type;
}

/** Writes the boot sector fields into `b` (512 bytes or more; boot code is left as it is, the signature set). */
export function emitBootSector(bs: BootSector, b: Uint8Array): void {
  b[BPB.jump] = 0xeb;
  b[BPB.jump + 1] = bs.fat32 ? BPB.bootCode32 - 2 : BPB.bootCode16 - 2;
  b[BPB.jump + 2] = 0x90;
  putAscii(b, BPB.oemName, 8, bs.oemName);
  put16(b, BPB.bytesPerSector, bs.bytesPerSector);
  b[BPB.sectorsPerCluster] = bs.sectorsPerCluster;
  put16(b, BPB.reservedSectors, bs.reservedSectors);
  b[BPB.fatCount] = bs.fatCount;
  put16(b, BPB.rootEntries, bs.rootEntries);
  const small = !bs.fat32 && bs.totalSectors < 0x10000;
  put16(b, BPB.totalSectors16, small ? bs.totalSectors : 0);
  put32(b, BPB.totalSectors32, small ? 0 : bs.totalSectors);
  b[BPB.media] = bs.media;
  put16(b, BPB.fatSectors16, bs.fat32 ? 0 : bs.fatSectors);
  put16(b, BPB.sectorsPerTrack, bs.sectorsPerTrack);
  put16(b, BPB.heads, bs.heads);
  put32(b, BPB.hiddenSectors, bs.hiddenSectors);
  let ext: { drive: number; nt: number; sig: number; id: number; label: number; fs: number };
  if (bs.fat32) {
    put32(b, BPB.fatSectors32, bs.fatSectors);
    put16(b, BPB.extFlags, bs.fat32.extFlags);
    put16(b, BPB.fsVersion, bs.fat32.fsVersion);
    put32(b, BPB.rootCluster, bs.fat32.rootCluster);
    put16(b, BPB.fsInfoSector, bs.fat32.fsInfoSector);
    put16(b, BPB.backupBootSector, bs.fat32.backupBootSector);
    b.fill(0, 52, 64);
    ext = { drive: BPB.drive32, nt: BPB.ntFlags32, sig: BPB.bootSig32, id: BPB.volumeId32, label: BPB.label32, fs: BPB.fsType32 };
  } else {
    ext = { drive: BPB.drive16, nt: BPB.ntFlags16, sig: BPB.bootSig16, id: BPB.volumeId16, label: BPB.label16, fs: BPB.fsType16 };
  }
  b[ext.drive] = bs.driveNumber;
  b[ext.nt] = bs.ntFlags;
  b[ext.sig] = bs.extendedSignature ? EXTENDED_BOOT_SIGNATURE : 0;
  if (bs.extendedSignature) {
    put32(b, ext.id, bs.volumeId);
    putAscii(b, ext.label, 11, bs.volumeLabel);
    putAscii(b, ext.fs, 8, bs.fsTypeLabel);
  }
  b[BOOT_SIGNATURE_OFFSET] = 0x55;
  b[BOOT_SIGNATURE_OFFSET + 1] = 0xaa;
}

// FSInfo (§5): a hint of the free cluster count and where to start looking for free clusters.
export const FSINFO = { leadSig: 0, strucSig: 484, freeCount: 488, nextFree: 492, trailSig: 508 } as const;
export const FSINFO_LEAD_SIG = 0x41615252;
export const FSINFO_STRUC_SIG = 0x61417272;
export const FSINFO_TRAIL_SIG = 0xaa550000;
/** "Unknown" for both hints. */
export const FSINFO_UNKNOWN = 0xffffffff;

export interface FsInfo {
  freeCount: number;
  nextFree: number;
}

/** The hints of an FSInfo sector, or null when its signatures are wrong (then it is ignored, not an error). */
export function parseFsInfo(b: Uint8Array): FsInfo | null {
  if (b.length < 512) return null;
  if (u32(b, FSINFO.leadSig) !== FSINFO_LEAD_SIG || u32(b, FSINFO.strucSig) !== FSINFO_STRUC_SIG || u32(b, FSINFO.trailSig) !== FSINFO_TRAIL_SIG) return null;
  return { freeCount: u32(b, FSINFO.freeCount), nextFree: u32(b, FSINFO.nextFree) };
}

/** Writes the signatures and hints into `b` (512 bytes or more; other bytes untouched). */
export function emitFsInfo(info: FsInfo, b: Uint8Array): void {
  put32(b, FSINFO.leadSig, FSINFO_LEAD_SIG);
  put32(b, FSINFO.strucSig, FSINFO_STRUC_SIG);
  put32(b, FSINFO.freeCount, info.freeCount);
  put32(b, FSINFO.nextFree, info.nextFree);
  put32(b, FSINFO.trailSig, FSINFO_TRAIL_SIG);
}
