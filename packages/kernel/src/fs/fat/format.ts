// Formats a block device as an empty FAT12/16/32 volume (what `kiln mkfs fat` runs). The type
// is chosen by size as mkfs.fat does (below 512 MiB FAT12 or FAT16 by cluster count with 2 KiB
// clusters and more as needed; from 512 MiB FAT32 with 4 KiB clusters, 8-32 KiB on bigger
// disks) or forced, in which case the cluster size is adjusted to fit that type's cluster count
// range or a clear error says why the size cannot work. Two FATs, 512-byte sectors, the data
// region aligned to the cluster size, 512 root entries on FAT12/16; FAT32 has FSInfo at sector
// 1 and a backup boot sector at 6. Writes the reserved area, both FATs and the root directory.

import {
  emitBootSector, emitFsInfo, FAT12_MAX_CLUSTERS, FAT16_MAX_CLUSTERS, geometry, type BootSector, type FatGeometry, type FatType,
} from './bpb.ts';
import type { FatBlockDevice } from './device.ts';
import { ATTR_VOLUME_ID, emitShort, toDosTime } from './dirent.ts';
import { put16, put32 } from './le.ts';

const SECTOR = 512;
const ROOT_ENTRIES = 512;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const ZERO_CHUNK = MiB;

export interface FormatOptions {
  /** Force a FAT type (default: by size). */
  type?: FatType;
  /** Volume label: up to 11 characters A-Z 0-9 space and ! # $ % & ' ( ) - @ ^ _ ` { } ~ (lower case is upper-cased). */
  label?: string;
  /** Volume serial number (default: from the clock). */
  volumeId?: number;
}

/** Why a format cannot be done (size or label), with a message for the user. */
export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatError';
  }
}

export interface FatPlan {
  boot: BootSector;
  geometry: FatGeometry;
}

const BITS: Record<FatType, number> = { fat12: 12, fat16: 16, fat32: 32 };

function layout(totalSectors: number, type: FatType, spc: number): { reserved: number; fatSectors: number; clusters: number } {
  const rootSectors = type === 'fat32' ? 0 : (ROOT_ENTRIES * 32) / SECTOR;
  let reserved = type === 'fat32' ? 32 : 1;
  let fatSectors = 1;
  for (let round = 0; round < 8; round++) {
    let clusters = 0;
    for (let i = 0; i < 16; i++) {
      clusters = Math.max(0, Math.floor((totalSectors - reserved - 2 * fatSectors - rootSectors) / spc));
      const need = Math.max(1, Math.ceil(((clusters + 2) * BITS[type]) / 8 / SECTOR));
      if (need <= fatSectors) break;
      fatSectors = need;
    }
    const misalign = (reserved + 2 * fatSectors + rootSectors) % spc;
    if (misalign === 0) return { reserved, fatSectors, clusters };
    reserved += spc - misalign;
  }
  const clusters = Math.max(0, Math.floor((totalSectors - reserved - 2 * fatSectors - rootSectors) / spc));
  return { reserved, fatSectors, clusters };
}

function fits(type: FatType, clusters: number): number {
  const min = type === 'fat12' ? 1 : type === 'fat16' ? FAT12_MAX_CLUSTERS + 1 : FAT16_MAX_CLUSTERS + 1;
  const max = type === 'fat12' ? FAT12_MAX_CLUSTERS : type === 'fat16' ? FAT16_MAX_CLUSTERS : 0x0ffffff5;
  return clusters < min ? -1 : clusters > max ? 1 : 0;
}

function defaultSpc(type: FatType, bytes: number): number {
  if (type !== 'fat32') return 4;
  return bytes <= 8 * GiB ? 8 : bytes <= 16 * GiB ? 16 : bytes <= 32 * GiB ? 32 : 64;
}

function human(bytes: number): string {
  return bytes >= GiB ? `${+(bytes / GiB).toFixed(2)} GiB` : bytes >= MiB ? `${+(bytes / MiB).toFixed(2)} MiB` : `${+(bytes / 1024).toFixed(2)} KiB`;
}

/** The label as stored (11 upper-case chars, space padded), or a FormatError. */
export function labelBytes(label: string): string {
  const up = label.toUpperCase();
  if (up.length === 0 || up.length > 11) throw new FormatError(`label ${JSON.stringify(label)} must be 1 to 11 characters`);
  if (!/^[A-Z0-9 !#$%&'()\-@^_`{}~]+$/.test(up) || up[0] === ' ') {
    throw new FormatError(`label ${JSON.stringify(label)} may only hold A-Z, 0-9, spaces (not first) and ! # $ % & ' ( ) - @ ^ _ \` { } ~`);
  }
  return up.padEnd(11, ' ');
}

/** Chooses the type, cluster size and layout for a device of `bytes` bytes. */
export function planFat(bytes: number, options: FormatOptions = {}): FatPlan {
  const totalSectors = Math.floor(bytes / SECTOR);
  if (totalSectors * SECTOR > 2 * 1024 * GiB - SECTOR) throw new FormatError(`${human(bytes)} is larger than FAT's 2 TiB limit`);
  const forced = options.type;
  const type0: FatType = forced ?? (bytes < 512 * MiB ? 'fat12' : 'fat32');
  let type = type0;
  let spc = defaultSpc(type, bytes);
  let lay = layout(totalSectors, type, spc);
  if (!forced && type === 'fat12' && fits('fat12', lay.clusters) > 0) {
    type = 'fat16';
    lay = layout(totalSectors, type, spc);
  }
  // Larger clusters while there are too many, smaller while there are too few.
  while (fits(type, lay.clusters) > 0 && spc < 128) lay = layout(totalSectors, type, (spc *= 2));
  while (fits(type, lay.clusters) < 0 && spc > 1) lay = layout(totalSectors, type, (spc /= 2));
  const fit = fits(type, lay.clusters);
  if (fit !== 0 || lay.clusters < 1) {
    const name = type.toUpperCase();
    if (fit > 0) throw new FormatError(`${human(bytes)} is too large for ${name} (${lay.clusters} clusters of ${human(spc * SECTOR)}; ${name} allows ${type === 'fat12' ? FAT12_MAX_CLUSTERS : FAT16_MAX_CLUSTERS}); use a smaller size or another --fat`);
    const min = type === 'fat32' ? 'about 33 MiB' : type === 'fat16' ? 'about 2.1 MiB' : 'about 32 KiB';
    throw new FormatError(`${human(bytes)} is too small for ${name} (it needs ${min}); use a larger size${forced ? ' or another --fat' : ''}`);
  }
  const label = options.label === undefined ? 'NO NAME    ' : labelBytes(options.label);
  const boot: BootSector = {
    oemName: 'MSWIN4.1', bytesPerSector: SECTOR, sectorsPerCluster: spc, reservedSectors: lay.reserved, fatCount: 2,
    rootEntries: type === 'fat32' ? 0 : ROOT_ENTRIES, totalSectors, media: 0xf8, fatSectors: lay.fatSectors,
    sectorsPerTrack: 32, heads: 64, hiddenSectors: 0,
    ...(type === 'fat32' ? { fat32: { extFlags: 0, fsVersion: 0, rootCluster: 2, fsInfoSector: 1, backupBootSector: 6 } } : {}),
    driveNumber: 0x80, ntFlags: 0, extendedSignature: true,
    volumeId: (options.volumeId ?? Date.now()) >>> 0, volumeLabel: label,
    fsTypeLabel: type === 'fat12' ? 'FAT12   ' : type === 'fat16' ? 'FAT16   ' : 'FAT32   ',
  };
  const g = geometry(boot);
  if (typeof g === 'string') throw new FormatError(`internal layout error: ${g}`);
  if (g.type !== type) throw new FormatError(`internal layout error: planned ${type}, got ${g.type}`);
  return { boot, geometry: g };
}

async function writeZeros(dev: FatBlockDevice, offset: number, length: number): Promise<void> {
  const zeros = new Uint8Array(Math.min(length, ZERO_CHUNK));
  for (let p = 0; p < length; p += zeros.length) await dev.write(offset + p, zeros.subarray(0, Math.min(zeros.length, length - p)));
}

/** Writes an empty FAT volume over the whole device; returns what was made. */
export async function formatFat(dev: FatBlockDevice, options: FormatOptions = {}): Promise<FatPlan> {
  const plan = planFat(dev.size, options);
  const { boot, geometry: g } = plan;
  const bs = new Uint8Array(SECTOR);
  const codeAt = g.type === 'fat32' ? 90 : 62;
  bs.set([0xcd, 0x18, 0xeb, 0xfe], codeAt); // int 18h (no bootable OS here), then halt in place
  emitBootSector(boot, bs);

  const fatBytes = g.fatSectors * SECTOR;
  const rootBytes = g.type === 'fat32' ? g.clusterSize : g.rootEntries * 32;
  const rootOffset = g.type === 'fat32' ? (g.firstDataSector + (g.rootCluster - 2) * g.sectorsPerCluster) * SECTOR : g.rootDirSector * SECTOR;
  await writeZeros(dev, 0, g.reservedSectors * SECTOR);
  await writeZeros(dev, g.reservedSectors * SECTOR, 2 * fatBytes);
  await writeZeros(dev, rootOffset, rootBytes);

  const fat0 = new Uint8Array(SECTOR);
  if (g.type === 'fat12') fat0.set([0xf8, 0xff, 0xff]);
  else if (g.type === 'fat16') {
    put16(fat0, 0, 0xfff8);
    put16(fat0, 2, 0xffff);
  } else {
    put32(fat0, 0, 0x0ffffff8);
    put32(fat0, 4, 0x0fffffff);
    put32(fat0, 8, 0x0fffffff); // root directory cluster
  }
  for (let i = 0; i < g.fatCount; i++) await dev.write((g.reservedSectors + i * g.fatSectors) * SECTOR, fat0);

  if (g.type === 'fat32') {
    const info = new Uint8Array(SECTOR);
    emitFsInfo({ freeCount: g.clusterCount - 1, nextFree: 3 }, info);
    await dev.write(g.fsInfoSector * SECTOR, info);
    await dev.write(g.backupBootSector * SECTOR, bs);
    await dev.write((g.backupBootSector + 1) * SECTOR, info);
  }
  if (options.label !== undefined) {
    const t = toDosTime(Date.now());
    const dir = new Uint8Array(SECTOR);
    emitShort({
      rawName: boot.volumeLabel, attr: ATTR_VOLUME_ID, ntCase: 0, ctimeTenth: 0, ctime: 0, cdate: 0, adate: 0,
      cluster: 0, mtime: t.time, mdate: t.date, size: 0,
    }, dir, 0);
    await dev.write(rootOffset, dir);
  }
  await dev.write(0, bs);
  await dev.flush();
  return plan;
}
