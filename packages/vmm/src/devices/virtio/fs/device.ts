// virtio-fs (device type 26): the FUSE server (server.ts) behind a virtio-mmio slot. Config: the
// tag the guest mounts by (36 bytes, NUL-padded) and one request queue. Queue 0 (hiprio) carries
// FORGET/INTERRUPT (no reply), queue 1 every other request. Each chain is one request: its
// device-readable bytes are copied into a host buffer first (so the guest cannot change them
// while they are checked and used), answered synchronously on the main thread, and the reply is
// copied into the device-writable part. A device reset (the guest driver starting over) drops
// every inode and handle the guest held. Spec: virtio 1.2 §5.11, fuse.h.

import { encodeUtf8 } from '@kiln/common/text/utf8.ts';
import { VIRTIO_ID_FS } from '@kiln/common/virtio/constants.ts';
import { VIRTIO_FS_CFG_NUM_REQUEST_QUEUES, VIRTIO_FS_CFG_TAG, VIRTIO_FS_CONFIG_SIZE, VIRTIO_FS_TAG_BYTES } from '@kiln/common/virtio/devices.ts';
import { VmmError } from '../../../errors.ts';
import { readConfigBytes, serveQueue, type DeviceContext, type VirtioDevice } from '../device.ts';
import { FUSE_MAX_REQUEST, FuseServer, type FuseServerOptions } from './server.ts';

export const FS_HIPRIO_QUEUE_SIZE = 64;
export const FS_REQUEST_QUEUE_SIZE = 256;

export interface ShareOptions extends FuseServerOptions {
  /** What the guest mounts it by: 1 to 36 bytes of UTF-8. */
  tag: string;
}

/** The tag's bytes, or a VmmError ESHARE when it is empty or longer than 36 bytes. */
export function encodeTag(tag: string): Uint8Array {
  const b = encodeUtf8(tag);
  if (b.length === 0 || b.length > VIRTIO_FS_TAG_BYTES || b.includes(0)) {
    throw new VmmError('ESHARE', `share tag ${JSON.stringify(tag)}: must be 1 to ${VIRTIO_FS_TAG_BYTES} bytes of UTF-8 without NUL (got ${b.length})`);
  }
  return b;
}

export class VirtioFs implements VirtioDevice {
  readonly name: string;
  readonly deviceId = VIRTIO_ID_FS;
  readonly deviceFeatures = 0n;
  readonly queueSizes = [FS_HIPRIO_QUEUE_SIZE, FS_REQUEST_QUEUE_SIZE];
  readonly tag: string;
  readonly server: FuseServer;
  readonly #config = new Uint8Array(VIRTIO_FS_CONFIG_SIZE);
  readonly #req = new Uint8Array(FUSE_MAX_REQUEST);
  #ctx: DeviceContext | undefined;

  constructor(server: FuseServer, tag: string) {
    this.server = server;
    this.tag = tag;
    this.name = `virtio-fs(${tag})`;
    this.#config.set(encodeTag(tag), VIRTIO_FS_CFG_TAG);
    new DataView(this.#config.buffer).setUint32(VIRTIO_FS_CFG_NUM_REQUEST_QUEUES, 1, true);
  }

  /** Opens the host directory and builds the device; VmmError ESHARE for a bad directory or tag. */
  static open(o: ShareOptions): VirtioFs {
    encodeTag(o.tag);
    return new VirtioFs(FuseServer.open(o), o.tag);
  }

  readConfig(offset: number, data: Uint8Array): void {
    readConfigBytes(this.#config, offset, data);
  }
  writeConfig(): void {} // the config is read-only
  activate(ctx: DeviceContext): void {
    this.#ctx = ctx;
  }
  reset(): void {
    this.#ctx = undefined;
    this.server.reset();
  }

  notify(q: number): void {
    if (!this.#ctx || q >= this.queueSizes.length) return;
    serveQueue(this.#ctx, q, (vq, chain) => {
      const n = vq.readFrom(chain, this.#req.subarray(0, Math.min(chain.readableLen, this.#req.length)));
      const reply = this.server.handle(this.#req.subarray(0, n), chain.writableLen);
      return reply ? vq.writeTo(chain, reply) : 0;
    });
  }

  /** Closes every host fd the share holds. */
  close(): void {
    this.#ctx = undefined;
    this.server.close();
  }
}
