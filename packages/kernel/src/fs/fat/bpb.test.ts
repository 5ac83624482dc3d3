// Golden bytes for the boot sector and FSInfo: sectors made by Debian's mkfs.fat 4.2 (bytes
// copied here, so the test needs no tools) parse to the expected repr and emit back to the same
// bytes; the FAT type follows the cluster count at the spec's boundaries; bad BPBs are refused
// with a reason; any bytes never throw.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import {
  emitBootSector, emitFsInfo, geometry, parseBootSector, parseFsInfo, probeFat, type BootSector,
} from './bpb.ts';

function sector(hexHead: string): Uint8Array {
  const b = new Uint8Array(512);
  b.set(Buffer.from(hexHead, 'hex'));
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

// mkfs.fat -F 16 -i 12345678 -n GOLDEN on 64 MiB (bytes 0-61)
const FAT16_HEAD = 'eb3c906d6b66732e66617400020404000200020000f8800020000800000000000000020080002978563412474f4c44454e20202020204641543136202020';
// mkfs.fat -F 32 -i 9abcdef0 -n GOLDEN on 64 MiB (bytes 0-89)
const FAT32_HEAD = 'eb58906d6b66732e66617400020120000200000000f80000200008000000000000000200f1030000000000000200000001000600000000000000000000000000800029f0debc9a474f4c44454e20202020204641543332202020';
// mkfs.fat -F 12 -i 0 on 4 MiB (bytes 0-61)
const FAT12_HEAD = 'eb3c906d6b66732e66617400020401000200020020f80600200002000000000000000000800029000000004e4f204e414d45202020204641543132202020';

test('bpb_fat16_golden_parse_emit', () => {
  const b = sector(FAT16_HEAD);
  const bs = parseBootSector(b) as BootSector;
  assert.deepEqual(bs, {
    oemName: 'mkfs.fat', bytesPerSector: 512, sectorsPerCluster: 4, reservedSectors: 4, fatCount: 2, rootEntries: 512,
    totalSectors: 131072, media: 0xf8, fatSectors: 128, sectorsPerTrack: 32, heads: 8, hiddenSectors: 0,
    driveNumber: 0x80, ntFlags: 0, extendedSignature: true, volumeId: 0x12345678, volumeLabel: 'GOLDEN     ', fsTypeLabel: 'FAT16   ',
  });
  const g = geometry(bs, 64 * 1024 * 1024);
  assert.ok(typeof g !== 'string');
  assert.equal(g.type, 'fat16');
  assert.equal(g.rootDirSector, 4 + 2 * 128);
  assert.equal(g.firstDataSector, 4 + 2 * 128 + 32);
  assert.equal(g.clusterCount, Math.floor((131072 - 292) / 4));
  assert.equal(g.ntFlagsOffset, 0x25);
  const out = new Uint8Array(512);
  emitBootSector(bs, out);
  assert.deepEqual(Buffer.from(out.subarray(0, 62)).toString('hex'), FAT16_HEAD);
  assert.deepEqual([out[510], out[511]], [0x55, 0xaa]);
});

test('bpb_fat32_golden_parse_emit', () => {
  const b = sector(FAT32_HEAD);
  const bs = parseBootSector(b) as BootSector;
  assert.deepEqual(bs.fat32, { extFlags: 0, fsVersion: 0, rootCluster: 2, fsInfoSector: 1, backupBootSector: 6 });
  assert.equal(bs.fatSectors, 1009);
  assert.equal(bs.totalSectors, 131072);
  assert.equal(bs.volumeId, 0x9abcdef0);
  const g = geometry(bs);
  assert.ok(typeof g !== 'string');
  assert.equal(g.type, 'fat32');
  assert.equal(g.clusterCount, 131072 - 32 - 2 * 1009);
  assert.equal(g.rootCluster, 2);
  assert.equal(g.fsInfoSector, 1);
  assert.equal(g.activeFat, -1);
  assert.equal(g.ntFlagsOffset, 0x41);
  const out = new Uint8Array(512);
  emitBootSector(bs, out);
  assert.equal(Buffer.from(out.subarray(0, 90)).toString('hex'), FAT32_HEAD);
});

test('bpb_fat12_golden_and_probe', () => {
  const b = sector(FAT12_HEAD);
  assert.equal(probeFat(b), 'fat12');
  assert.equal(probeFat(sector(FAT16_HEAD)), 'fat16');
  assert.equal(probeFat(sector(FAT32_HEAD)), 'fat32');
  const bs = parseBootSector(b) as BootSector;
  assert.equal(bs.totalSectors, 8192);
  const out = new Uint8Array(512);
  emitBootSector(bs, out);
  assert.equal(Buffer.from(out.subarray(0, 62)).toString('hex'), FAT12_HEAD);
});

test('fsinfo_golden', () => {
  const b = new Uint8Array(512);
  b.set(Buffer.from('52526141', 'hex'), 0);
  b.set(Buffer.from('72724161fdf7010002000000000000000000000000000000000055aa', 'hex'), 484);
  assert.deepEqual(parseFsInfo(b), { freeCount: 129021, nextFree: 2 });
  const out = new Uint8Array(512);
  emitFsInfo({ freeCount: 129021, nextFree: 2 }, out);
  assert.deepEqual(out, b);
  b[0] = 0;
  assert.equal(parseFsInfo(b), null);
});

/** A FAT12/16 BPB with `clusters` data clusters (4 sectors each, FAT big enough for 16 bits). */
function withClusters(clusters: number, fat32 = false): BootSector {
  const fatSectors = Math.ceil(((clusters + 2) * (fat32 ? 4 : 2)) / 512);
  const rootSectors = fat32 ? 0 : 32;
  return {
    oemName: 'TEST    ', bytesPerSector: 512, sectorsPerCluster: 4, reservedSectors: fat32 ? 32 : 1, fatCount: 2,
    rootEntries: fat32 ? 0 : 512, totalSectors: (fat32 ? 32 : 1) + 2 * fatSectors + rootSectors + clusters * 4, media: 0xf8,
    fatSectors, sectorsPerTrack: 32, heads: 64, hiddenSectors: 0,
    ...(fat32 ? { fat32: { extFlags: 0, fsVersion: 0, rootCluster: 2, fsInfoSector: 1, backupBootSector: 6 } } : {}),
    driveNumber: 0x80, ntFlags: 0, extendedSignature: true, volumeId: 1, volumeLabel: 'NO NAME    ', fsTypeLabel: 'FAT     ',
  };
}

test('fat_type_by_cluster_count_boundaries', () => {
  const typeOf = (bs: BootSector): string => {
    const g = geometry(bs);
    return typeof g === 'string' ? g : g.type;
  };
  assert.equal(typeOf(withClusters(4084)), 'fat12');
  assert.equal(typeOf(withClusters(4085)), 'fat16');
  assert.equal(typeOf(withClusters(65524)), 'fat16');
  assert.equal(typeOf(withClusters(65525, true)), 'fat32');
  assert.match(typeOf(withClusters(65525)), /make this FAT32, but the BPB has the FAT12\/16 layout/);
  assert.match(typeOf(withClusters(1000, true)), /make this FAT12, but the BPB has the FAT32 layout/);
});

test('bpb_refusals_name_the_field', () => {
  const bad = (patch: Partial<BootSector>, re: RegExp): void => {
    const g = geometry({ ...withClusters(5000), ...patch });
    assert.equal(typeof g, 'string');
    assert.match(g as string, re);
  };
  bad({ bytesPerSector: 500 }, /bytes per sector 500/);
  bad({ sectorsPerCluster: 3 }, /sectors per cluster 3/);
  bad({ reservedSectors: 0 }, /no reserved sectors/);
  bad({ fatCount: 0 }, /FAT count 0/);
  bad({ media: 0x12 }, /media byte/);
  bad({ fatSectors: 1 }, /cannot hold/);
  bad({ totalSectors: 10 }, /leave no data region/);
  assert.match(geometry(withClusters(5000), 1024) as string, /larger than the device/);
  const noSig = sector(FAT16_HEAD);
  noSig[511] = 0;
  assert.equal(parseBootSector(noSig), 'no 0x55AA boot signature');
  assert.equal(probeFat(noSig), null);
  assert.equal(probeFat(new Uint8Array(100)), null);
});

test('probe_any_bytes_never_throws', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (b) => {
    const t = probeFat(b);
    assert.ok(t === null || t === 'fat12' || t === 'fat16' || t === 'fat32');
  }), { numRuns: 2000 });
  // Mutations of a real boot sector: still never a throw.
  fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 89 }), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), (muts) => {
    const b = sector(FAT32_HEAD);
    for (const [i, v] of muts) b[i] = v;
    probeFat(b);
  }), { numRuns: 2000 });
});
