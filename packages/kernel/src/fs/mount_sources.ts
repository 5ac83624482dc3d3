// Turns a mount source from the command line into a FileSystem: `tmpfs` (fs/memfs.ts), `disk:N`
// (the N-th virtio-blk disk, filesystem detected from its first sector) or `virtiofs:TAG`.
// The one place that knows every filesystem driver: adding one is one import and one case.

import { FsError, type FileSystem } from './types.ts';
import { MemFs } from './memfs.ts';
import { formatMountSource, type MountSource } from './mount_spec.ts';

export async function openMountSource(source: MountSource, path: string): Promise<FileSystem> {
  switch (source.kind) {
    case 'tmpfs':
      return new MemFs();
    case 'disk':
    case 'virtiofs':
      throw new FsError('ENODEV', 'mount', path, `this kernel has no driver for ${formatMountSource(source)} yet`);
  }
}
