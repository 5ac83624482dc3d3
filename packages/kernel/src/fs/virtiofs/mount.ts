// Mounting a virtio-fs share by tag: finds the virtio-fs device whose config tag matches among the
// virtio-mmio devices on the command line (probing lazily, like every driver), drives it once,
// negotiates FUSE (INIT) and returns the FileSystem. One mount per tag at a time (EBUSY);
// unmount() sends DESTROY and frees the tag for a later mount over the same device.
// Host side: `kiln run --share HOSTDIR:TAG[,ro]`; the VFS (kiln:fs) mounts it at a path.

import { VIRTIO_ID_FS } from '@kiln/common/virtio/constants.ts';
import { ops } from '../../ops.ts';
import { guestPlatform } from '../../drivers/platform.ts';
import { readFsTag, VirtioFsDriver } from '../../drivers/virtio/fs.ts';
import { virtioDevices, type VirtioMmioDevice } from '../../drivers/virtio/mmio.ts';
import { FsError, type FileSystem } from '../types.ts';
import { VirtioFsFileSystem } from './filesystem.ts';
import { FuseSession, FuseStatus } from './session.ts';

export interface MountVirtioFsOptions {
  /** Refuse every change in the guest (EROFS) whatever the host allows. */
  readOnly?: boolean;
}

const drivers = new Map<string, VirtioFsDriver>();
const mounted = new Set<string>();

/** The virtio-fs devices on the command line and their tags (reads each device's config once). */
function sharesOnCmdline(devices: VirtioMmioDevice[]): Map<string, VirtioMmioDevice> {
  const out = new Map<string, VirtioMmioDevice>();
  for (const d of devices) if (d.deviceId === VIRTIO_ID_FS) out.set(readFsTag(d), d);
  return out;
}

/**
 * Mounts the share `tag` over a driver (the guest's from the command line by default; tests give
 * their own). ENODEV when no device has that tag, EBUSY when it is mounted already, EIO when
 * the device does not speak FUSE 7.31 or later.
 */
export async function mountVirtioFsOn(driver: VirtioFsDriver, options: MountVirtioFsOptions = {}, now: () => number = () => ops.op_clock_monotonic_ns() / 1e6): Promise<FileSystem> {
  const tag = driver.tag;
  if (mounted.has(tag)) throw new FsError('EBUSY', 'mount', tag, `virtio-fs share "${tag}" is already mounted`);
  mounted.add(tag);
  const session = new FuseSession(driver);
  try {
    await session.init();
  } catch (e) {
    mounted.delete(tag);
    const why = e instanceof FuseStatus ? `the device refused FUSE INIT (${e.message})` : (e as Error).message;
    throw new FsError('EIO', 'mount', tag, why);
  }
  return new VirtioFsFileSystem(session, { readOnly: options.readOnly ?? false, now, onUnmount: () => mounted.delete(tag) });
}

/** Mounts the virtio-fs share named `tag` (`kiln run --share DIR:TAG`). */
export async function mountVirtioFs(tag: string, options: MountVirtioFsOptions = {}): Promise<FileSystem> {
  let driver = drivers.get(tag);
  if (!driver) {
    const shares = sharesOnCmdline(virtioDevices(guestPlatform(), ops.op_cmdline()));
    const dev = shares.get(tag);
    if (!dev) {
      const known = [...shares.keys()].map((t) => `"${t}"`).join(', ');
      throw new FsError('ENODEV', 'mount', tag, `no virtio-fs share with tag "${tag}" (${known ? `shares: ${known}` : 'no shares'}; kiln run --share HOSTDIR:${tag})`);
    }
    driver = new VirtioFsDriver(dev);
    drivers.set(tag, driver);
  }
  return mountVirtioFsOn(driver, options);
}
