// virtio-blk (virtio 1.2 §5.2): one request queue; each request is a chain of a 16-byte
// device-readable header (type, reserved, sector), the data (device-writable for reads,
// readable for writes) and a 1-byte device-writable status. Capacity is in 512-byte sectors;
// VIRTIO_BLK_F_RO makes the disk read-only, VIRTIO_BLK_F_FLUSH enables T_FLUSH. Requests that
// do not fit in the queue wait in order; each one in flight holds a ref (keeps the program
// alive). Large transfers are split into requests of at most MAX_REQUEST bytes.

import {
  VIRTIO_BLK_CFG_CAPACITY, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_RO, VIRTIO_BLK_ID_BYTES, VIRTIO_BLK_REQUESTQ,
  VIRTIO_BLK_REQ_HDR_SIZE, VIRTIO_BLK_S_OK, VIRTIO_BLK_S_UNSUPP, VIRTIO_BLK_SECTOR_SIZE, VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT,
} from '@kiln/common/virtio/devices.ts';
import { VIRTIO_ID_BLOCK } from '@kiln/common/virtio/constants.ts';
import { ref, unref } from '../../lib/handles.ts';
import type { Platform } from '../platform.ts';
import { hasBit, type VirtioMmioDevice } from './mmio.ts';
import type { Virtqueue, VirtqBuffer } from './virtqueue.ts';

export const MAX_REQUEST = 1 << 20;
const SECTOR = VIRTIO_BLK_SECTOR_SIZE;

export type BlockErrorCode = 'ENODEV' | 'EROFS' | 'EINVAL' | 'EIO' | 'ENOTSUP';

export class BlockError extends Error {
  constructor(readonly code: BlockErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'BlockError';
  }
}

interface Pending {
  bufs: VirtqBuffer[];
  done: (len: number) => void;
}

export class VirtioBlk {
  readonly sectors: number;
  readonly readOnly: boolean;
  readonly canFlush: boolean;
  private readonly q: Virtqueue;
  private readonly p: Platform;
  private readonly waiting: Pending[] = [];

  constructor(private readonly dev: VirtioMmioDevice) {
    if (dev.deviceId !== VIRTIO_ID_BLOCK) throw new TypeError(`virtio-blk: device id ${dev.deviceId} is not a block device`);
    this.p = dev.p;
    const f = dev.negotiate((1 << VIRTIO_BLK_F_RO) | (1 << VIRTIO_BLK_F_FLUSH));
    this.readOnly = hasBit(f, VIRTIO_BLK_F_RO);
    this.canFlush = hasBit(f, VIRTIO_BLK_F_FLUSH);
    this.sectors = dev.readConfig((cfg) => cfg(VIRTIO_BLK_CFG_CAPACITY, 4) + cfg(VIRTIO_BLK_CFG_CAPACITY + 4, 4) * 0x1_0000_0000);
    this.q = dev.setupQueue(VIRTIO_BLK_REQUESTQ, 128);
    dev.driverOk();
    this.dev.onConfigChange = undefined;
  }

  get size(): number {
    return this.sectors * SECTOR;
  }

  /** One request: header + optional data + status. Resolves with the status byte and the data view. */
  private request(type: number, sector: number, dataLen: number, deviceWrites: boolean, fill?: (data: Uint8Array) => void): Promise<Uint8Array> {
    const p = this.p;
    const dataOff = 512; // header at 0, status at 16, data sector-aligned after them
    const addr = p.dmaAlloc(dataOff + dataLen, 4096);
    const head = p.bytes(addr, 17);
    const h32 = new Uint32Array(head.buffer, head.byteOffset, 4);
    h32[0] = type;
    h32[1] = 0;
    h32[2] = sector >>> 0;
    h32[3] = Math.floor(sector / 0x1_0000_0000);
    head[16] = 0xff; // the device overwrites it
    const data = dataLen > 0 ? p.bytes(addr + dataOff, dataLen) : undefined;
    if (data && fill) fill(data);
    const bufs: VirtqBuffer[] = [{ addr, len: VIRTIO_BLK_REQ_HDR_SIZE, write: false }];
    if (dataLen > 0) bufs.push({ addr: addr + dataOff, len: dataLen, write: deviceWrites });
    bufs.push({ addr: addr + 16, len: 1, write: true });
    return new Promise((resolve, reject) => {
      ref();
      this.submit({
        bufs,
        done: () => {
          unref();
          const status = head[16]!;
          const out = data && deviceWrites ? data.slice() : new Uint8Array(0);
          p.dmaFree(addr);
          if (status === VIRTIO_BLK_S_OK) resolve(out);
          else if (status === VIRTIO_BLK_S_UNSUPP) reject(new BlockError('ENOTSUP', `request type ${type} is not supported by the device`));
          else reject(new BlockError('EIO', `device error (status ${status}) at sector ${sector}`));
        },
      });
    });
  }

  private submit(r: Pending): void {
    if (this.waiting.length === 0 && this.q.add(r.bufs, (len) => this.complete(r, len))) {
      this.q.kick();
      return;
    }
    this.waiting.push(r);
  }

  private complete(r: Pending, len: number): void {
    r.done(len);
    let added = false;
    while (this.waiting.length > 0) {
      const next = this.waiting[0]!;
      if (!this.q.add(next.bufs, (l) => this.complete(next, l))) break;
      this.waiting.shift();
      added = true;
    }
    if (added) this.q.kick();
  }

  private check(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new BlockError('EINVAL', `offset and length must be non-negative integers (got ${offset}, ${length})`);
    }
    if (offset % SECTOR !== 0 || length % SECTOR !== 0) {
      throw new BlockError('EINVAL', `offset ${offset} and length ${length} must be multiples of ${SECTOR}`);
    }
    if (offset + length > this.size) throw new BlockError('EINVAL', `[${offset}, ${offset + length}) is past the end of the disk (${this.size} bytes)`);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.check(offset, length);
    if (length <= MAX_REQUEST) return this.request(VIRTIO_BLK_T_IN, offset / SECTOR, length, true);
    const parts: Promise<Uint8Array>[] = [];
    for (let o = 0; o < length; o += MAX_REQUEST) {
      parts.push(this.request(VIRTIO_BLK_T_IN, (offset + o) / SECTOR, Math.min(MAX_REQUEST, length - o), true));
    }
    const out = new Uint8Array(length);
    let at = 0;
    for (const part of await Promise.all(parts)) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  async write(offset: number, bytes: Uint8Array): Promise<void> {
    if (!(bytes instanceof Uint8Array)) throw new BlockError('EINVAL', 'bytes must be a Uint8Array');
    this.check(offset, bytes.length);
    if (this.readOnly) throw new BlockError('EROFS', 'the disk is read-only');
    const parts: Promise<Uint8Array>[] = [];
    for (let o = 0; o < bytes.length; o += MAX_REQUEST) {
      const chunk = bytes.subarray(o, Math.min(bytes.length, o + MAX_REQUEST));
      parts.push(this.request(VIRTIO_BLK_T_OUT, (offset + o) / SECTOR, chunk.length, false, (d) => d.set(chunk)));
    }
    await Promise.all(parts);
  }

  async flush(): Promise<void> {
    if (!this.canFlush) return; // no volatile write cache to flush (§5.2.6.2)
    await this.request(VIRTIO_BLK_T_FLUSH, 0, 0, false);
  }

  /** The device's id string (GET_ID, up to 20 bytes); '' when the device does not support it. */
  async id(): Promise<string> {
    let raw: Uint8Array;
    try {
      raw = await this.request(VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, true);
    } catch (err) {
      if (err instanceof BlockError && err.code === 'ENOTSUP') return '';
      throw err;
    }
    let s = '';
    for (let i = 0; i < raw.length && raw[i] !== 0; i++) s += String.fromCharCode(raw[i]!);
    return s;
  }
}
