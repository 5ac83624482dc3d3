// Turns a mount source from the command line into a FileSystem: `tmpfs` (fs/tmpfs.ts), `disk:N`
// (the N-th virtio-blk disk; its filesystem is detected from the first sector: FAT12/16/32)
// or `virtiofs:TAG`. The one place that knows every filesystem driver: adding one is one
// import and one case. Every failure is an FsError of `mount` naming the mount path.

import type { MountSource } from '@kiln/common/mount_spec.ts';
import { mountFat, probeFat, type FatBlockDevice } from '../fs/fat/index.ts';
import { Tmpfs } from '../fs/tmpfs.ts';
import { FsError, rebase, type FileSystem, type FsErrorCode } from '../fs/types.ts';
import { mountVirtioFs } from '../fs/virtiofs/index.ts';
import { openBlockDevice } from './block.ts';

/** Device error codes (kiln:block's BlockError) that are FsError codes too; others become EIO. */
const DEVICE_CODES: ReadonlySet<string> = new Set<FsErrorCode>(['ENODEV', 'EROFS', 'EINVAL', 'EIO']);

/** `e` as an FsError of mounting at `path` (filesystems name their own root, devices no path). */
function mountError(e: unknown, path: string): unknown {
  if (e instanceof FsError) return rebase(e, 'mount', path);
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !(e instanceof Error)) return e;
  const detail = e.message.startsWith(`${code}: `) ? e.message.slice(code.length + 2) : e.message;
  return new FsError(DEVICE_CODES.has(code) ? code as FsErrorCode : 'EIO', 'mount', path, detail);
}

export async function openMountSource(source: MountSource, path: string): Promise<FileSystem> {
  try {
    switch (source.kind) {
      case 'tmpfs':
        return new Tmpfs();
      case 'disk':
        return await mountDisk(await openBlockDevice(source.index), source.index, path);
      case 'virtiofs':
        return await mountVirtioFs(source.tag);
    }
  } catch (e) {
    throw mountError(e, path);
  }
}

/** The filesystem on disk `index` (detected from its first sector), to be mounted at `path`. */
export async function mountDisk(dev: FatBlockDevice, index: number, path: string): Promise<FileSystem> {
  try {
    const fat = probeFat(await dev.read(0, 512));
    if (fat === null) throw new FsError('ENODEV', 'mount', path, `disk ${index} holds no filesystem Kiln knows (FAT12, FAT16, FAT32)`);
    return await mountFat(dev, { readOnly: dev.readOnly });
  } catch (e) {
    throw mountError(e, path);
  }
}
