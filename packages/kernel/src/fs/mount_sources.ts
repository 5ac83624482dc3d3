// Turns a mount source from the command line into a FileSystem: `tmpfs` (fs/memfs.ts), `disk:N`
// (the N-th virtio-blk disk; its filesystem is detected from the first sector: FAT12/16/32)
// or `virtiofs:TAG`. The one place that knows every filesystem driver: adding one is one
// import and one case.

import { openBlockDevice } from '../units/block.ts';
import { mountFat, probeFat } from './fat/index.ts';
import { MemFs } from './memfs.ts';
import type { MountSource } from './mount_spec.ts';
import { FsError, type FileSystem } from './types.ts';
import { mountVirtioFs } from './virtiofs/index.ts';

export async function openMountSource(source: MountSource, path: string): Promise<FileSystem> {
  switch (source.kind) {
    case 'tmpfs':
      return new MemFs();
    case 'disk': {
      const dev = await openBlockDevice(source.index);
      const fat = probeFat(await dev.read(0, 512));
      if (fat === null) throw new FsError('ENODEV', 'mount', path, `disk ${source.index} holds no filesystem Kiln knows (FAT12, FAT16, FAT32)`);
      return mountFat(dev, { readOnly: dev.readOnly });
    }
    case 'virtiofs':
      return mountVirtioFs(source.tag);
  }
}
