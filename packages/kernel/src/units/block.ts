// The `kiln:block` module: virtio-blk disks for apps. openBlockDevice(i) opens the i-th
// virtio-blk device on the command line (in slot order). Offsets and lengths are bytes,
// multiples of 512. Errors carry a code: ENODEV (no such disk), EROFS (read-only disk),
// EINVAL (unaligned or out of range), EIO (device error). Apps typecheck against this file
// (packages/kernel/tsconfig.app.json maps kiln:block here).

import { VIRTIO_ID_BLOCK } from '@kiln/common/virtio/constants.ts';
import { ops } from '../ops.ts';
import { guestPlatform } from '../drivers/platform.ts';
import { BlockError, VirtioBlk } from '../drivers/virtio/block.ts';
import { virtioDevices } from '../drivers/virtio/mmio.ts';

export { BlockError };
export type { BlockErrorCode } from '../drivers/virtio/block.ts';

export interface BlockDevice {
  /** Size in bytes (a multiple of 512). */
  readonly size: number;
  readonly readOnly: boolean;
  /** Reads `length` bytes at `offset` (both multiples of 512, inside the disk). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Writes `bytes` at `offset` (multiples of 512); EROFS on a read-only disk. */
  write(offset: number, bytes: Uint8Array): Promise<void>;
  /** Asks the device to make written data durable (a no-op without VIRTIO_BLK_F_FLUSH). */
  flush(): Promise<void>;
  /** The device's id string (virtio GET_ID, at most 20 characters). */
  id(): Promise<string>;
}

const opened = new Map<number, VirtioBlk>();

/** Opens the `index`-th virtio-blk disk (`kiln run --disk PATH`); ENODEV when there is none. */
export async function openBlockDevice(index = 0): Promise<BlockDevice> {
  if (!Number.isInteger(index) || index < 0) throw new BlockError('EINVAL', `bad block device index ${index}`);
  let blk = opened.get(index);
  if (!blk) {
    const disks = virtioDevices(guestPlatform(), ops.op_cmdline()).filter((d) => d.deviceId === VIRTIO_ID_BLOCK);
    const dev = disks[index];
    if (!dev) throw new BlockError('ENODEV', `no block device ${index} (${disks.length} virtio-blk device${disks.length === 1 ? '' : 's'}; kiln run --disk PATH)`);
    blk = new VirtioBlk(dev);
    opened.set(index, blk);
  }
  const b = blk;
  return {
    size: b.size,
    readOnly: b.readOnly,
    read: (offset, length) => b.read(offset, length),
    write: (offset, bytes) => b.write(offset, bytes),
    flush: () => b.flush(),
    id: () => b.id(),
  };
}
