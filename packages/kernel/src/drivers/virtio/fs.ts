// virtio-fs driver (virtio 1.2 §5.11): FUSE requests over virtqueues. Each request is one chain
// in one DMA buffer: the device-readable FUSE request (in header + body), then the
// device-writable room for the reply (out header + body); the driver fills the first part in
// place and hands the reply to the caller as a view before the buffer goes back to the pool, so
// WRITE and READ data are copied once each way. Queue 0 (hiprio) takes FORGET/BATCH_FORGET, which
// have no reply; queue 1 everything else, many requests in flight (up to 4 MiB of them), the
// rest waiting in order. The device's tag (config, 36 bytes) names it: `readFsTag` reads it
// without driving the device, so the right one can be picked among several shares.
// Each request in flight holds a ref (keeps the program alive). FUSE itself: fs/virtiofs/.

import { decodeUtf8 } from '@kiln/common/text/utf8.ts';
import { VIRTIO_ID_FS } from '@kiln/common/virtio/constants.ts';
import {
  VIRTIO_FS_CFG_NUM_REQUEST_QUEUES, VIRTIO_FS_CFG_TAG, VIRTIO_FS_HIPRIO_QUEUE, VIRTIO_FS_REQUEST_QUEUE, VIRTIO_FS_TAG_BYTES,
} from '@kiln/common/virtio/devices.ts';
import { ref, unref } from '../../lib/handles.ts';
import type { Platform } from '../platform.ts';
import type { VirtioMmioDevice } from './mmio.ts';
import type { Virtqueue, VirtqBuffer } from './virtqueue.ts';

export const FS_REQUEST_QUEUE_SIZE = 128;
export const FS_HIPRIO_QUEUE_SIZE = 16;
/** Request bytes (DMA) in flight at most; more requests wait their turn (a 64 MiB guest must not
 * spend its memory on one big read). 4 MiB = four 1 MiB READs or WRITEs. */
export const FS_MAX_INFLIGHT_BYTES = 4 << 20;
/** Free DMA buffers kept for reuse, in bytes. */
const POOL_BYTES = 4 << 20;
const PAGE = 4096;

/** The tag in a virtio-fs device's config (UTF-8, NUL-padded to 36 bytes). Reads 9 config words. */
export function readFsTag(dev: VirtioMmioDevice): string {
  const raw = new Uint8Array(VIRTIO_FS_TAG_BYTES);
  dev.readConfig((cfg) => {
    for (let i = 0; i < VIRTIO_FS_TAG_BYTES; i += 4) {
      const w = cfg(VIRTIO_FS_CFG_TAG + i, 4);
      raw[i] = w & 0xff;
      raw[i + 1] = (w >>> 8) & 0xff;
      raw[i + 2] = (w >>> 16) & 0xff;
      raw[i + 3] = w >>> 24;
    }
    return 0;
  });
  const nul = raw.indexOf(0);
  return decodeUtf8(nul < 0 ? raw : raw.subarray(0, nul));
}

interface Pending {
  inLen: number;
  outLen: number;
  fill: (req: Uint8Array) => void;
  /** Gets the DMA view of the reply (the buffer is reused after it returns). */
  done: (reply: Uint8Array) => void;
}

/** DMA buffers (sizes rounded to 4 KiB) reused across requests: allocation zeroes memory. */
class DmaPool {
  readonly #free = new Map<number, number[]>();
  #pooledBytes = 0;
  constructor(private readonly p: Platform) {}

  static round(size: number): number {
    return Math.ceil(size / PAGE) * PAGE;
  }

  take(size: number): number {
    const r = DmaPool.round(size);
    const list = this.#free.get(r);
    if (list && list.length) {
      this.#pooledBytes -= r;
      return list.pop()!;
    }
    return this.p.dmaAlloc(r, 64);
  }

  give(addr: number, size: number): void {
    const r = DmaPool.round(size);
    if (this.#pooledBytes + r > POOL_BYTES) return this.p.dmaFree(addr);
    let list = this.#free.get(r);
    if (!list) this.#free.set(r, (list = []));
    list.push(addr);
    this.#pooledBytes += r;
  }
}

export class VirtioFsDriver {
  readonly tag: string;
  readonly p: Platform;
  private readonly hiprio: Virtqueue;
  private readonly rq: Virtqueue;
  private readonly waiting: Pending[] = [];
  private readonly pool: DmaPool;
  private inflightBytes = 0;
  /** Requests sent, for tests and benchmarks. */
  requests = 0;

  constructor(readonly dev: VirtioMmioDevice) {
    if (dev.deviceId !== VIRTIO_ID_FS) throw new TypeError(`virtio-fs: device id ${dev.deviceId} is not a file system device`);
    this.p = dev.p;
    this.tag = readFsTag(dev);
    dev.negotiate(0);
    const queues = dev.readConfig((cfg) => cfg(VIRTIO_FS_CFG_NUM_REQUEST_QUEUES, 4));
    if (queues < 1) throw new TypeError(`virtio-fs ${this.tag}: the device has no request queue`);
    this.hiprio = dev.setupQueue(VIRTIO_FS_HIPRIO_QUEUE, FS_HIPRIO_QUEUE_SIZE);
    this.rq = dev.setupQueue(VIRTIO_FS_REQUEST_QUEUE, FS_REQUEST_QUEUE_SIZE);
    dev.driverOk();
    this.pool = new DmaPool(this.p);
  }

  /**
   * One FUSE request on the request queue: `fill` writes the `inLen` request bytes in place;
   * `done` gets a view of the reply bytes the device wrote (at most `outLen`), valid only during
   * the call, and its result resolves the promise. Requests leave in order; one waits while the
   * ring is full or FS_MAX_INFLIGHT_BYTES are in flight.
   */
  send<T>(inLen: number, fill: (req: Uint8Array) => void, outLen: number, done: (reply: Uint8Array) => T): Promise<T> {
    this.requests++;
    return new Promise((resolve, reject) => {
      ref();
      this.waiting.push({
        inLen,
        outLen,
        fill,
        done: (reply) => {
          unref();
          try {
            resolve(done(reply));
          } catch (e) {
            reject(e);
          }
        },
      });
      this.pump();
    });
  }

  /** A request without a reply (FORGET, BATCH_FORGET) on the hiprio queue; dropped if the ring is full. */
  sendNoReply(inLen: number, fill: (req: Uint8Array) => void): void {
    const addr = this.pool.take(inLen);
    fill(this.p.bytes(addr, inLen));
    ref();
    const added = this.hiprio.add([{ addr, len: inLen, write: false }], () => {
      unref();
      this.pool.give(addr, inLen);
    });
    if (!added) {
      // The server keeps those lookups; they are bounded by its inode table and dropped at DESTROY.
      unref();
      this.pool.give(addr, inLen);
      return;
    }
    this.hiprio.kick();
  }

  /** Moves waiting requests onto the ring while descriptors and the byte budget allow, then kicks once. */
  private pump(): void {
    let added = false;
    while (this.waiting.length > 0) {
      const r = this.waiting[0]!;
      const size = r.inLen + r.outLen;
      if (this.inflightBytes > 0 && this.inflightBytes + size > FS_MAX_INFLIGHT_BYTES) break;
      if (this.rq.freeDescriptors < (r.outLen > 0 ? 2 : 1)) break;
      const addr = this.pool.take(size);
      const bytes = this.p.bytes(addr, size);
      r.fill(bytes.subarray(0, r.inLen));
      const bufs: VirtqBuffer[] = [{ addr, len: r.inLen, write: false }];
      if (r.outLen > 0) bufs.push({ addr: addr + r.inLen, len: r.outLen, write: true });
      this.rq.add(bufs, (written) => {
        this.inflightBytes -= size;
        try {
          r.done(bytes.subarray(r.inLen, r.inLen + Math.min(written, r.outLen)));
        } finally {
          this.pool.give(addr, size);
          this.pump();
        }
      });
      this.waiting.shift();
      this.inflightBytes += size;
      added = true;
    }
    if (added) this.rq.kick();
  }
}
