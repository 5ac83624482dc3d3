// The `kiln:vsock` module: stream sockets over virtio-vsock, in Deno's Conn/Listener shape
// (shared later by kiln:net). listen(port) → Listener (accept(), async iteration, close());
// connect(cid, port) → Conn (read(buf) → number | null, write(bytes) → number once the peer
// had room, closeWrite(), close()). The host is CID 2 (`kiln run --vsock CID,UDS_PATH`).
// Errors carry a code (VsockError): ENODEV, ECONNREFUSED, ECONNRESET, EADDRINUSE, EINVAL,
// EPIPE, EBADF, ENOTCONN. Apps typecheck against this file (packages/kernel/tsconfig.app.json
// maps kiln:vsock here).

import { VIRTIO_ID_VSOCK } from '@kiln/common/virtio/constants.ts';
import { ops } from '../ops.ts';
import { guestPlatform } from '../drivers/platform.ts';
import { virtioDevices } from '../drivers/virtio/mmio.ts';
import { VirtioVsockDriver, VsockConn, VsockError, VsockListener, type VsockAddr, type VsockErrorCode } from '../drivers/virtio/vsock.ts';

export { VsockError };
export type { VsockConn as Conn, VsockListener as Listener, VsockAddr as Addr, VsockErrorCode };

/** The host's CID. */
export const VMADDR_CID_HOST = 2;

let driver: VirtioVsockDriver | undefined;

function vsock(): VirtioVsockDriver {
  if (driver) return driver;
  const dev = virtioDevices(guestPlatform(), ops.op_cmdline()).find((d) => d.deviceId === VIRTIO_ID_VSOCK);
  if (!dev) throw new VsockError('ENODEV', 'no virtio-vsock device (kiln run --vsock CID,UDS_PATH)');
  driver = new VirtioVsockDriver(dev);
  return driver;
}

/** This guest's CID. */
export function localCid(): number {
  return vsock().cid;
}

/** Listens on `port`; EADDRINUSE if something already does. */
export function listen(port: number): VsockListener {
  return vsock().listen(port);
}

/** Connects to `port` on `cid` (2 = the host); ECONNREFUSED when nobody listens there. */
export function connect(cid: number, port: number): Promise<VsockConn> {
  try {
    return vsock().connect(cid, port);
  } catch (e) {
    return Promise.reject(e);
  }
}
