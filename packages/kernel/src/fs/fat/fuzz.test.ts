// Corrupt volumes: random mutations of a populated volume's boot sector, FATs and directory
// sectors (random bytes, and targeted damage: chain loops, links out of range or into free
// clusters, huge sizes, wrong attributes). Mounting, listing, reading every file and making a
// few changes must only ever fail with FsError (and never with the driver's "internal error"),
// and must finish: chain walks are bounded, so loops end in EIO.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { FsError, type FileSystem, type OpenFlags } from '../types.ts';
import { geometry, parseBootSector, type BootSector, type FatType } from './bpb.ts';
import { MemoryBlockDevice } from './device.ts';
import { formatFat } from './format.ts';
import { mountFat } from './volume.ts';

const W: OpenFlags = { read: true, write: true, create: true, exclusive: false, truncate: false };

async function populated(type: FatType, mib: number): Promise<Uint8Array> {
  const dev = new MemoryBlockDevice(mib * 1024 * 1024);
  await formatFat(dev, { type });
  const fs = await mountFat(dev);
  await fs.mkdir('/dir');
  await fs.mkdir('/dir/nested directory');
  for (let i = 0; i < 30; i++) {
    const f = await fs.open(i % 2 ? `/dir/file with long name ${i}.bin` : `/F${i}.TXT`, W);
    await f.write(0, new Uint8Array(i * 700 + 1).fill(i));
    await f.close();
  }
  await fs.unmount();
  return dev.bytes;
}

async function exercise(fs: FileSystem): Promise<void> {
  const visit = async (dir: string, depth: number): Promise<void> => {
    if (depth > 8) return;
    for (const e of await fs.readdir(dir)) {
      const p = dir === '/' ? `/${e.name}` : `${dir}/${e.name}`;
      await attempt(async () => {
        if (e.type === 'directory') return visit(p, depth + 1);
        const f = await fs.open(p, { ...W, create: false, write: false });
        const buf = new Uint8Array(64 * 1024);
        for (let pos = 0, n = 1; n > 0 && pos < 1 << 20; pos += n) n = await f.read(pos, buf, 0, buf.length);
        await f.close();
      });
    }
  };
  await attempt(() => visit('/', 0));
  if (fs.readOnly) return;
  await attempt(async () => {
    const f = await fs.open('/new file.txt', W);
    await f.write(0, new Uint8Array(5000).fill(7));
    await f.close();
  });
  await attempt(() => fs.mkdir('/dir/made'));
  await attempt(() => fs.unlink('/F2.TXT'));
  await attempt(() => fs.rename('/dir/file with long name 3.bin', '/moved.bin'));
  await attempt(() => fs.sync());
}

let failures = 0;
async function attempt(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof FsError, `threw a non-FsError: ${(e as Error)?.stack ?? e}`);
    assert.doesNotMatch(e.message, /internal error/, e.message);
    failures++;
  }
}

for (const [type, mib] of [['fat12', 2], ['fat16', 8], ['fat32', 34]] as const) {
  test(`${type}_corrupt_volumes_fail_with_fserror_only`, { timeout: 300_000 }, async () => {
    const base = await populated(type, mib);
    const bs = parseBootSector(base) as BootSector;
    const g = geometry(bs);
    assert.ok(typeof g !== 'string');
    const fatStart = g.reservedSectors * 512;
    const fatLen = Math.min(g.fatSectors * 512, 8192);
    const dirStart = type === 'fat32' ? g.firstDataSector * 512 : g.rootDirSector * 512;
    const entryBytes = type === 'fat12' ? 2 : type === 'fat16' ? 2 : 4;
    const mutation = fc.oneof(
      fc.record({ at: fc.integer({ min: 0, max: 89 }), v: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ at: fc.integer({ min: fatStart, max: fatStart + fatLen - 1 }), v: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ at: fc.integer({ min: dirStart, max: dirStart + 4095 }), v: fc.integer({ min: 0, max: 255 }) }),
      // A FAT entry pointing at itself, at 0, past the end, or at a random cluster.
      fc.record({
        cluster: fc.integer({ min: 2, max: 80 }),
        to: fc.oneof(fc.constant(-1), fc.constant(0), fc.constant(1), fc.integer({ min: 2, max: 90 }), fc.constant(g.clusterCount + 5), fc.constant(0xffffff7)),
      }).map(({ cluster, to }) => ({ cluster, to })),
    );
    await fc.assert(fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 8 }), fc.boolean(), async (muts, readOnly) => {
      const img = base.slice();
      for (const m of muts) {
        if ('at' in m) img[m.at] = m.v;
        else {
          const v = m.to === -1 ? m.cluster : m.to;
          for (let copy = 0; copy < 2; copy++) {
            const off = fatStart + copy * g.fatSectors * 512;
            if (type === 'fat12') {
              const b = off + m.cluster + (m.cluster >> 1);
              const cur = img[b]! | (img[b + 1]! << 8);
              const nv = m.cluster & 1 ? (cur & 0x000f) | ((v & 0xfff) << 4) : (cur & 0xf000) | (v & 0xfff);
              img[b] = nv & 0xff;
              img[b + 1] = nv >> 8;
            } else {
              for (let k = 0; k < entryBytes; k++) img[off + m.cluster * entryBytes + k] = (v >>> (8 * k)) & 0xff;
            }
          }
        }
      }
      let fs: FileSystem | null = null;
      await attempt(async () => {
        fs = await mountFat(new MemoryBlockDevice(img), { readOnly });
      });
      if (fs) await exercise(fs);
    }), { numRuns: type === 'fat32' ? 60 : 200 });
    assert.ok(failures > 0, 'no corruption was ever detected');
  });
}
