// The `kiln:netdev` module: raw Ethernet frames on a virtio-net NIC, the narrow device interface
// (MirageOS's NETIF shape) a TCP/IP stack sits on. openNetDevice(i) opens the i-th virtio-net
// device on the command line (slot order; `kiln run --net ...`). write(frame) sends one frame
// (Ethernet header included, no FCS) and resolves once the device took it; send(frame) sends
// it now without a promise, or returns false while every transmit slot is busy, and onRoom(cb)
// says when slots freed (what kiln:net's stack uses); listen(cb) gets every received frame until
// the returned function is called, and keeps the program alive meanwhile. Errors carry a code: ENODEV,
// EINVAL, EMSGSIZE. Apps typecheck against this file (packages/kernel/tsconfig.app.json maps
// kiln:netdev here).

import { VIRTIO_ID_NET } from '@kiln/common/virtio/constants.ts';
import { ops } from '../ops.ts';
import { guestPlatform } from '../drivers/platform.ts';
import { NetDevError, VirtioNetDriver, type NetStats } from '../drivers/virtio/net.ts';
import { virtioDevices } from '../drivers/virtio/mmio.ts';

export { NetDevError };
export type { NetDevErrorCode, NetStats } from '../drivers/virtio/net.ts';

export interface NetDevice {
  /** The NIC's MAC address (6 bytes). */
  readonly mac: Uint8Array;
  /** Largest payload of a frame (without the Ethernet header). */
  readonly mtu: number;
  /** Sends one frame (header included, no FCS; 14 to mtu + 18 bytes; copied before write returns); resolves once the device took it. */
  write(frame: Uint8Array): Promise<void>;
  /** Sends one frame now, without a promise: copies it into a free transmit slot (true), or sends nothing and returns false while every slot is busy or writes wait; a bad frame throws write's error. */
  send(frame: Uint8Array): boolean;
  /** Calls `cb` (from a promise job) once transmit slots freed with no write waiting (send may succeed again), until the returned function is called. */
  onRoom(cb: () => void): () => void;
  /** Calls `cb` with every received frame, in the event loop, until the returned function is called; keeps the program alive meanwhile. */
  listen(cb: (frame: Uint8Array) => void): () => void;
  stats(): NetStats;
}

const opened = new Map<number, VirtioNetDriver>();

/** Opens the `index`-th virtio-net NIC (`kiln run --net tap=NAME` or `--net user,...`); ENODEV when there is none. */
export async function openNetDevice(index = 0): Promise<NetDevice> {
  return openNetDeviceSync(index);
}

/** openNetDevice without the promise (kiln:net's listen() is synchronous). */
export function openNetDeviceSync(index = 0): NetDevice {
  if (!Number.isInteger(index) || index < 0) throw new NetDevError('EINVAL', `bad network device index ${index}`);
  let nic = opened.get(index);
  if (!nic) {
    const nics = virtioDevices(guestPlatform(), ops.op_cmdline()).filter((d) => d.deviceId === VIRTIO_ID_NET);
    const dev = nics[index];
    if (!dev) throw new NetDevError('ENODEV', `no network device ${index} (${nics.length} virtio-net device${nics.length === 1 ? '' : 's'}; kiln run --net tap=NAME or --net user)`);
    nic = new VirtioNetDriver(dev);
    opened.set(index, nic);
  }
  const n = nic;
  return {
    mac: n.mac.slice(),
    mtu: n.mtu,
    write: (frame) => n.write(frame),
    send: (frame) => n.send(frame),
    onRoom: (cb) => n.onRoom(cb),
    listen: (cb) => n.listen(cb),
    stats: () => n.stats(),
  };
}
