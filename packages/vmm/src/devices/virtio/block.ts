// virtio-blk over a host file: capacity in 512-byte sectors, optional read-only (VIRTIO_BLK_F_RO,
// writes get S_IOERR), FLUSH (fsync), GET_ID (20 bytes), IN/OUT with bounds checks (S_IOERR).
// File I/O is asynchronous (libuv thread pool) and never touches guest memory off the main
// thread: data is copied between guest RAM and a host buffer on the main thread. Requests run one
// after another and complete in order; at most the queue size (256) wait, as the ring bounds
// them, and one host buffer of at most BLOCK_MAX_REQUEST exists at a time. Spec: virtio 1.2 §5.2 (block device), §2.6.4 (framing).

import { closeSync, fstatSync, fsync, openSync, read, write, constants as fsc } from 'node:fs';
import { basename } from 'node:path';
import { featureBit } from '@kiln/common/virtio/constants.ts';
import { VIRTIO_ID_BLOCK } from '@kiln/common/virtio/constants.ts';
import {
  VIRTIO_BLK_CFG_CAPACITY, VIRTIO_BLK_CFG_SEG_MAX, VIRTIO_BLK_CONFIG_SIZE, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_RO, VIRTIO_BLK_F_SEG_MAX,
  VIRTIO_BLK_ID_BYTES, VIRTIO_BLK_REQ_HDR_SIZE, VIRTIO_BLK_REQUESTQ, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_OK, VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_SECTOR_SIZE, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, decodeBlkReqHeader,
} from '@kiln/common/virtio/devices.ts';
import { VmmError } from '../../errors.ts';
import { ASYNC, readConfigBytes, serveQueue, type DeviceContext, type VirtioDevice } from './device.ts';
import type { DescChain, Virtqueue } from './queue.ts';

export const BLOCK_QUEUE_SIZE = 256;
/** Largest data transfer of one request; larger ones get S_IOERR (bounds host buffer size). */
export const BLOCK_MAX_REQUEST = 32 * 1024 * 1024;

export interface BlockOptions {
  path: string;
  readOnly?: boolean;
  /** GET_ID string (at most 20 bytes; default the file's base name). */
  id?: string;
}

/** The file operations the device needs (node:fs by default; tests can inject failures). */
export interface BlockFile {
  read(buf: Uint8Array, position: number, cb: (err: Error | null, n: number) => void): void;
  write(buf: Uint8Array, position: number, cb: (err: Error | null, n: number) => void): void;
  sync(cb: (err: Error | null) => void): void;
  close(): void;
}

function nodeFile(fd: number): BlockFile {
  return {
    read: (buf, pos, cb) => read(fd, buf, 0, buf.length, pos, (e, n) => cb(e, n)),
    write: (buf, pos, cb) => write(fd, buf, 0, buf.length, pos, (e, n) => cb(e, n)),
    sync: (cb) => fsync(fd, (e) => cb(e)),
    close: () => closeSync(fd),
  };
}

/** Opens a disk image before the VM starts; a VmmError EDISK names the problem. */
export function openDiskFile(path: string, readOnly: boolean): { file: BlockFile; size: number } {
  let fd: number;
  try {
    fd = openSync(path, readOnly ? fsc.O_RDONLY : fsc.O_RDWR);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? (readOnly ? 'not readable' : 'not readable and writable (add ,ro for a read-only disk)') : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new VmmError('EDISK', `disk ${path}: ${why}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() && !st.isBlockDevice()) throw new VmmError('EDISK', `disk ${path}: not a regular file`);
    if (st.size % VIRTIO_BLK_SECTOR_SIZE !== 0) throw new VmmError('EDISK', `disk ${path}: size ${st.size} is not a multiple of 512 bytes`);
    return { file: nodeFile(fd), size: st.size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

interface Request {
  ctx: DeviceContext;
  vq: Virtqueue;
  chain: DescChain;
}

export class VirtioBlock implements VirtioDevice {
  readonly name: string;
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly deviceFeatures: bigint;
  readonly queueSizes = [BLOCK_QUEUE_SIZE];
  readonly readOnly: boolean;
  readonly sizeBytes: number;
  readonly stats = { requests: 0, bytesRead: 0, bytesWritten: 0, errors: 0 };
  readonly #file: BlockFile;
  readonly #id: Uint8Array;
  readonly #config = new Uint8Array(VIRTIO_BLK_CONFIG_SIZE);
  #ctx: DeviceContext | undefined;
  readonly #fifo: Request[] = [];
  #busy = false;
  #closed = false;
  #idle: (() => void)[] = [];

  constructor(file: BlockFile, sizeBytes: number, o: { readOnly?: boolean; id?: string; name?: string } = {}) {
    this.#file = file;
    this.sizeBytes = sizeBytes;
    this.readOnly = o.readOnly ?? false;
    this.name = o.name ?? 'virtio-blk';
    this.#id = new Uint8Array(VIRTIO_BLK_ID_BYTES);
    this.#id.set(new TextEncoder().encode(o.id ?? '').subarray(0, VIRTIO_BLK_ID_BYTES));
    this.deviceFeatures = featureBit(VIRTIO_BLK_F_FLUSH) | featureBit(VIRTIO_BLK_F_SEG_MAX) | (this.readOnly ? featureBit(VIRTIO_BLK_F_RO) : 0n);
    const v = new DataView(this.#config.buffer);
    v.setBigUint64(VIRTIO_BLK_CFG_CAPACITY, BigInt(Math.floor(sizeBytes / VIRTIO_BLK_SECTOR_SIZE)), true);
    v.setUint32(VIRTIO_BLK_CFG_SEG_MAX, BLOCK_QUEUE_SIZE - 2, true);
  }

  static open(o: BlockOptions, name?: string): VirtioBlock {
    const { file, size } = openDiskFile(o.path, o.readOnly ?? false);
    return new VirtioBlock(file, size, { readOnly: o.readOnly ?? false, id: o.id ?? basename(o.path), ...(name ? { name } : {}) });
  }

  /** Requests taken from the ring and not completed (waiting or in the file layer). */
  get outstanding(): number {
    return this.#fifo.length + (this.#busy ? 1 : 0);
  }

  get capacitySectors(): number {
    return Math.floor(this.sizeBytes / VIRTIO_BLK_SECTOR_SIZE);
  }

  readConfig(offset: number, data: Uint8Array): void {
    readConfigBytes(this.#config, offset, data);
  }
  writeConfig(): void {} // writeback (CONFIG_WCE) is not offered: config is read-only
  activate(ctx: DeviceContext): void {
    this.#ctx = ctx;
  }
  reset(): void {
    this.#ctx = undefined;
    this.#fifo.length = 0; // a request already in the file layer completes into nothing
  }

  notify(q: number): void {
    const ctx = this.#ctx;
    if (!ctx || q !== VIRTIO_BLK_REQUESTQ) return;
    serveQueue(ctx, q, (vq, chain) => {
      this.#fifo.push({ ctx, vq, chain });
      return ASYNC;
    }, { resume: () => this.notify(q) });
    this.#next();
  }

  /** Resolves when no request is in the file layer (call before guest memory is freed). */
  drain(): Promise<void> {
    if (!this.#busy) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Drops queued requests, waits for the one in flight, closes the file. Idempotent. */
  async close(): Promise<void> {
    this.reset();
    await this.drain();
    if (!this.#closed) {
      this.#closed = true;
      this.#file.close();
    }
  }

  #next(): void {
    if (this.#busy) return;
    const req = this.#fifo.shift();
    if (!req) {
      const idle = this.#idle;
      this.#idle = [];
      for (const f of idle) f();
      return;
    }
    this.#busy = true;
    this.stats.requests++;
    this.#start(req, (status, dataOut) => {
      this.#busy = false;
      this.#complete(req, status, dataOut);
      this.#next();
    });
  }

  /** Runs one request; `done` gets the status and, for IN/GET_ID, the bytes for the guest. */
  #start(req: Request, done: (status: number, data?: Uint8Array) => void): void {
    const { vq, chain } = req;
    if (chain.writableLen < 1) return done(-1); // no status byte: nothing can be reported
    if (chain.readableLen < VIRTIO_BLK_REQ_HDR_SIZE) return done(VIRTIO_BLK_S_IOERR);
    const hdrBytes = new Uint8Array(VIRTIO_BLK_REQ_HDR_SIZE);
    vq.readFrom(chain, hdrBytes);
    const hdr = decodeBlkReqHeader(hdrBytes);
    switch (hdr.type) {
      case VIRTIO_BLK_T_IN:
      case VIRTIO_BLK_T_OUT: {
        const isIn = hdr.type === VIRTIO_BLK_T_IN;
        const len = isIn ? chain.writableLen - 1 : chain.readableLen - VIRTIO_BLK_REQ_HDR_SIZE;
        const pos = hdr.sector * BigInt(VIRTIO_BLK_SECTOR_SIZE);
        if (len % VIRTIO_BLK_SECTOR_SIZE !== 0 || len > BLOCK_MAX_REQUEST || pos + BigInt(len) > BigInt(this.sizeBytes)) return done(VIRTIO_BLK_S_IOERR);
        if (!isIn && this.readOnly) return done(VIRTIO_BLK_S_IOERR);
        const buf = Buffer.allocUnsafe(len);
        if (!isIn) vq.readFrom(chain, buf, VIRTIO_BLK_REQ_HDR_SIZE);
        const op = isIn ? this.#file.read.bind(this.#file) : this.#file.write.bind(this.#file);
        let at = 0;
        const step = (): void => {
          if (at === len) {
            if (isIn) this.stats.bytesRead += len;
            else this.stats.bytesWritten += len;
            return done(VIRTIO_BLK_S_OK, isIn ? buf : undefined);
          }
          op(buf.subarray(at), Number(pos) + at, (err, n) => {
            if (err || n <= 0) return done(VIRTIO_BLK_S_IOERR);
            at += n;
            step();
          });
        };
        return step();
      }
      case VIRTIO_BLK_T_FLUSH:
        if (this.readOnly) return done(VIRTIO_BLK_S_OK);
        return this.#file.sync((err) => done(err ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK));
      case VIRTIO_BLK_T_GET_ID:
        return done(VIRTIO_BLK_S_OK, this.#id.subarray(0, Math.min(VIRTIO_BLK_ID_BYTES, chain.writableLen - 1)));
      default:
        return done(VIRTIO_BLK_S_UNSUPP);
    }
  }

  #complete(req: Request, status: number, data?: Uint8Array): void {
    const { ctx, vq, chain } = req;
    if (!ctx.live || ctx !== this.#ctx) return; // reset or failed meanwhile: guest memory is not ours to touch
    if (status !== VIRTIO_BLK_S_OK) this.stats.errors++;
    try {
      let used = 0;
      if (status >= 0) {
        if (data && status === VIRTIO_BLK_S_OK) used += vq.writeTo(chain, data);
        vq.writeTo(chain, new Uint8Array([status]), chain.writableLen - 1);
        used += 1;
      }
      vq.push(chain.head, used);
      ctx.signalUsed(VIRTIO_BLK_REQUESTQ);
    } catch (e) {
      ctx.fail(`completing a request: ${(e as Error).message}`);
    }
  }
}
