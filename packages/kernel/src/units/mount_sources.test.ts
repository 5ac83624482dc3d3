// Mounting a disk (mount_sources.ts): whatever goes wrong, the error is an FsError of `mount`
// naming the path being mounted, not the root of the filesystem on the disk.

import { formatFat, MemoryBlockDevice } from '../fs/fat/index.ts';
import { FsError } from '../fs/types.ts';
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { mountDisk } from './mount_sources.ts';

async function failure(p: Promise<unknown>): Promise<{ code: string; syscall: string; path: string; message: string }> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  assert.ok(e instanceof FsError, `not an FsError: ${e}`);
  return { code: e.code, syscall: e.syscall, path: e.path, message: e.message };
}

test('a_failed_disk_mount_names_the_mount_path', async () => {
  const blank = await failure(mountDisk(new MemoryBlockDevice(1024 * 1024), 1, '/d'));
  assert.deepEqual(blank, { code: 'ENODEV', syscall: 'mount', path: '/d', message: "ENODEV: disk 1 holds no filesystem Kiln knows (FAT12, FAT16, FAT32), mount '/d'" });
  // A FAT32 volume whose root directory's chain runs into a free cluster: the FAT driver's EIO.
  const dev = new MemoryBlockDevice(40 * 1024 * 1024);
  await formatFat(dev, { type: 'fat32' });
  const fat = (dev.bytes[14]! | (dev.bytes[15]! << 8)) * 512; // BPB_RsvdSecCnt
  dev.bytes.fill(0, fat + 2 * 4, fat + 3 * 4); // FAT[2], the root directory's cluster
  const bad = await failure(mountDisk(dev, 0, '/d'));
  assert.equal(bad.code, 'EIO');
  assert.equal(bad.path, '/d');
  assert.match(bad.message, /^EIO: .*, mount '\/d'$/);
  // A device error (kiln:block's BlockError shape: a code and "CODE: message").
  const failing = { size: 1 << 20, readOnly: false, read: async () => {
    throw Object.assign(new Error('EIO: request failed with status 1'), { code: 'EIO' });
  }, write: async () => {}, flush: async () => {} };
  assert.deepEqual(await failure(mountDisk(failing, 2, '/d/e')), { code: 'EIO', syscall: 'mount', path: '/d/e', message: "EIO: request failed with status 1, mount '/d/e'" });
});
