// virtio-net (virtio 1.2 §5.1), one receiveq/transmitq pair, no offloads: VIRTIO_NET_F_MAC,
// VIRTIO_NET_F_MTU and VIRTIO_NET_F_STATUS when offered. Every buffer starts with the 12-byte
// virtio_net_hdr (VERSION_1: num_buffers always present), all zero on transmit (no checksum
// or segmentation offload). Receive buffers (one DMA block, one descriptor each, big enough for
// a whole frame since MRG_RXBUF is not negotiated) stay posted: each used one is copied out and
// put back at once, with one kick per interrupt. Frames go to the listeners from a promise job
// after the interrupt handler (the event loop, never interrupt context), so a throwing listener
// cannot leave the ring half-processed. Transmit copies each frame into one of a fixed pool of
// DMA slots; writes beyond the pool wait in order, while send() (the network stack's path, no
// promise per frame) takes a free slot or reports that none is free; kicks are batched per turn.
// Listening and frames in flight hold refs (lib/handles.ts).

import { VIRTIO_ID_NET } from '@kiln/common/virtio/constants.ts';
import { ETHERNET_HEADER_LEN, ETHERNET_MAX_OVERHEAD } from '@kiln/common/wire/ethernet.ts';
import {
  VIRTIO_NET_CFG_MAC, VIRTIO_NET_CFG_MTU, VIRTIO_NET_CFG_STATUS, VIRTIO_NET_F_MAC, VIRTIO_NET_F_MTU, VIRTIO_NET_F_STATUS,
  VIRTIO_NET_HDR_SIZE, VIRTIO_NET_RECEIVEQ, VIRTIO_NET_S_LINK_UP, VIRTIO_NET_TRANSMITQ,
} from '@kiln/common/virtio/devices.ts';
import { ref, unref } from '../../lib/handles.ts';
import type { Platform } from '../platform.ts';
import { hasBit, type VirtioMmioDevice } from './mmio.ts';
import type { Virtqueue, VirtqBuffer } from './virtqueue.ts';

export const DEFAULT_MTU = 1500;
const RX_QUEUE = 128;
const TX_QUEUE = 128;
/** Transmit buffers (frames in flight at once). */
const TX_SLOTS = 64;

export type NetDevErrorCode = 'ENODEV' | 'EINVAL' | 'EMSGSIZE' | 'EIO';

export class NetDevError extends Error {
  constructor(readonly code: NetDevErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'NetDevError';
  }
}

export interface NetStats {
  rxFrames: number;
  rxBytes: number;
  /** Frames received with nobody listening (or shorter than an Ethernet header). */
  rxDropped: number;
  txFrames: number;
  txBytes: number;
  /** Device interrupts handled and notifications (VM exits) sent. */
  interrupts: number;
  notifications: number;
}

interface TxWait {
  frame: Uint8Array;
  resolve: () => void;
}

export class VirtioNetDriver {
  readonly mac: Uint8Array;
  readonly mtu: number;
  /** Link state from the config (always up without VIRTIO_NET_F_STATUS). */
  linkUp: boolean;
  private readonly p: Platform;
  private readonly rxq: Virtqueue;
  private readonly txq: Virtqueue;
  private readonly bufSize: number;
  private readonly rxMem: number;
  private readonly txMem: number;
  /** The receive and transmit buffer blocks, viewed once (no view per frame). */
  private readonly rxView: Uint8Array;
  private readonly txView: Uint8Array;
  /** One completion per receive buffer, made once (buffers are posted again after every frame). */
  private readonly rxDone: ((len: number) => void)[] = [];
  /** Per transmit slot, made once: its descriptor, its completion, and the write() waiting on it. */
  private readonly txBufs: [VirtqBuffer][] = [];
  private readonly txDone: (() => void)[] = [];
  private readonly txResolve: ((() => void) | undefined)[] = [];
  /** Free transmit slots (indexes). */
  private readonly txFree: number[] = [];
  private readonly txWaiting: TxWait[] = [];
  /** Called (from a promise job) once slots freed with no write() waiting for them; replaced, never mutated. */
  private roomListeners: (() => void)[] = [];
  private readonly inbox: Uint8Array[] = [];
  /** Replaced, never mutated, on listen/unlisten: a delivery loop can walk it without a copy. */
  private listeners: ((frame: Uint8Array) => void)[] = [];
  private flushScheduled = false;
  private txKickScheduled = false;
  private roomScheduled = false;
  private readonly st = { rxFrames: 0, rxBytes: 0, rxDropped: 0, txFrames: 0, txBytes: 0 };

  constructor(private readonly dev: VirtioMmioDevice) {
    if (dev.deviceId !== VIRTIO_ID_NET) throw new TypeError(`virtio-net: device id ${dev.deviceId} is not a network device`);
    this.p = dev.p;
    const f = dev.negotiate((1 << VIRTIO_NET_F_MAC) | (1 << VIRTIO_NET_F_MTU) | (1 << VIRTIO_NET_F_STATUS));
    const mac = new Uint8Array(6);
    if (hasBit(f, VIRTIO_NET_F_MAC)) {
      dev.readConfig((cfg) => {
        for (let i = 0; i < 6; i++) mac[i] = cfg(VIRTIO_NET_CFG_MAC + i, 1);
        return 0;
      });
    } else {
      // §5.1.5: without VIRTIO_NET_F_MAC the driver picks one (locally administered, unicast)
      mac.set([0x02, 0x4b, 0x4c, 0x47, 0, dev.slot.irq & 0xff]);
    }
    this.mac = mac;
    const mtu = hasBit(f, VIRTIO_NET_F_MTU) ? dev.readConfig((cfg) => cfg(VIRTIO_NET_CFG_MTU, 2)) : DEFAULT_MTU;
    this.mtu = mtu >= 68 ? mtu : DEFAULT_MTU;
    this.linkUp = hasBit(f, VIRTIO_NET_F_STATUS) ? (dev.readConfig((cfg) => cfg(VIRTIO_NET_CFG_STATUS, 2)) & VIRTIO_NET_S_LINK_UP) !== 0 : true;
    this.bufSize = (VIRTIO_NET_HDR_SIZE + this.mtu + ETHERNET_MAX_OVERHEAD + 63) & ~63;
    this.rxq = dev.setupQueue(VIRTIO_NET_RECEIVEQ, RX_QUEUE);
    this.txq = dev.setupQueue(VIRTIO_NET_TRANSMITQ, TX_QUEUE);
    dev.onConfigChange = () => {
      if (hasBit(f, VIRTIO_NET_F_STATUS)) this.linkUp = (dev.readConfig((cfg) => cfg(VIRTIO_NET_CFG_STATUS, 2)) & VIRTIO_NET_S_LINK_UP) !== 0;
    };
    dev.driverOk();
    const rxCount = this.rxq.size;
    this.rxMem = this.p.dmaAlloc(rxCount * this.bufSize, 4096);
    this.rxView = this.p.bytes(this.rxMem, rxCount * this.bufSize);
    for (let i = 0; i < rxCount; i++) {
      this.rxDone.push((len) => this.received(i, len));
      this.postRx(i);
    }
    this.rxq.kick();
    const txCount = Math.min(TX_SLOTS, this.txq.size);
    this.txMem = this.p.dmaAlloc(txCount * this.bufSize, 4096);
    this.txView = this.p.bytes(this.txMem, txCount * this.bufSize);
    for (let i = 0; i < txCount; i++) {
      this.txBufs.push([{ addr: this.txMem + i * this.bufSize, len: 0, write: false }]);
      this.txDone.push(() => this.sent(i));
      this.txResolve.push(undefined);
      this.txFree.push(i);
    }
  }

  /** Posts receive buffer `i` (of the rx block). */
  private postRx(i: number): void {
    this.rxq.add([{ addr: this.rxMem + i * this.bufSize, len: this.bufSize, write: true }], this.rxDone[i]!);
  }

  private received(i: number, len: number): void {
    const n = Math.min(len, this.bufSize) - VIRTIO_NET_HDR_SIZE;
    if (n >= ETHERNET_HEADER_LEN && this.listeners.length > 0) {
      const at = i * this.bufSize + VIRTIO_NET_HDR_SIZE;
      this.inbox.push(this.rxView.slice(at, at + n));
      this.st.rxFrames++;
      this.st.rxBytes += n;
    } else {
      this.st.rxDropped++;
    }
    this.postRx(i); // its descriptor was freed just before this completion ran
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    void Promise.resolve().then(() => this.flush());
  }

  /** Kicks the receive queue once for all buffers put back, then delivers the frames in order. */
  private flush(): void {
    this.flushScheduled = false;
    this.rxq.kick();
    while (this.inbox.length > 0) {
      const frame = this.inbox.shift()!;
      const ls = this.listeners;
      for (let i = 0; i < ls.length; i++) ls[i]!(frame);
    }
  }

  /** Sends one Ethernet frame (14 bytes up to MTU + 18); resolves when the device has taken it. */
  write(frame: Uint8Array): Promise<void> {
    const bad = this.badFrame(frame);
    if (bad) return Promise.reject(bad);
    return new Promise((resolve) => {
      ref();
      // A free slot takes the caller's bytes directly; only a write that has to wait keeps a copy.
      if (this.txWaiting.length > 0 || !this.startTx(frame, resolve)) this.txWaiting.push({ frame: frame.slice(), resolve });
    });
  }

  /**
   * Copies one Ethernet frame into a free transmit slot and sends it, without a promise (the
   * network stack's path): false, and nothing sent, while every slot is busy or write()s wait;
   * onRoom's callbacks run when a slot frees. A bad frame throws what write() rejects with.
   */
  send(frame: Uint8Array): boolean {
    const bad = this.badFrame(frame);
    if (bad) throw bad;
    if (this.txWaiting.length > 0) return false;
    ref();
    if (this.startTx(frame, undefined)) return true;
    unref();
    return false;
  }

  /**
   * Calls `cb` once slots have freed with no write() waiting (once per batch of completions, from
   * a promise job after the interrupt, as listen's frames are), until the returned function is called.
   */
  onRoom(cb: () => void): () => void {
    if (typeof cb !== 'function') throw new NetDevError('EINVAL', 'onRoom needs a callback');
    const entry = (): void => cb();
    this.roomListeners = [...this.roomListeners, entry];
    return () => {
      this.roomListeners = this.roomListeners.filter((l) => l !== entry);
    };
  }

  private badFrame(frame: Uint8Array): NetDevError | undefined {
    if (!(frame instanceof Uint8Array)) return new NetDevError('EINVAL', 'a frame must be a Uint8Array');
    if (frame.length < ETHERNET_HEADER_LEN) return new NetDevError('EINVAL', `a frame needs at least ${ETHERNET_HEADER_LEN} bytes (Ethernet header), got ${frame.length}`);
    if (frame.length > this.mtu + ETHERNET_MAX_OVERHEAD) return new NetDevError('EMSGSIZE', `frame of ${frame.length} bytes exceeds MTU ${this.mtu} + ${ETHERNET_MAX_OVERHEAD}`);
    return undefined;
  }

  /** Copies `frame` into a free slot and adds it to the queue; false (nothing taken) when no slot is free. */
  private startTx(frame: Uint8Array, resolve: (() => void) | undefined): boolean {
    const slot = this.txFree.pop();
    if (slot === undefined) return false;
    const len = frame.length;
    const at = slot * this.bufSize;
    const b = this.txView;
    b.fill(0, at, at + VIRTIO_NET_HDR_SIZE);
    b.set(frame, at + VIRTIO_NET_HDR_SIZE);
    const bufs = this.txBufs[slot]!;
    bufs[0].len = VIRTIO_NET_HDR_SIZE + len;
    if (!this.txq.add(bufs, this.txDone[slot]!)) {
      this.txFree.push(slot);
      return false;
    }
    this.txResolve[slot] = resolve;
    this.st.txFrames++;
    this.st.txBytes += len;
    this.scheduleTxKick();
    return true;
  }

  private scheduleTxKick(): void {
    if (this.txKickScheduled) return;
    this.txKickScheduled = true;
    void Promise.resolve().then(() => {
      this.txKickScheduled = false;
      this.txq.kick();
    });
  }

  private sent(slot: number): void {
    this.txFree.push(slot);
    unref();
    const resolve = this.txResolve[slot];
    if (resolve !== undefined) {
      this.txResolve[slot] = undefined;
      resolve();
    }
    while (this.txWaiting.length > 0 && this.startTx(this.txWaiting[0]!.frame, this.txWaiting[0]!.resolve)) this.txWaiting.shift();
    if (this.txWaiting.length > 0 || this.roomScheduled || this.roomListeners.length === 0) return;
    this.roomScheduled = true;
    void Promise.resolve().then(this.announceRoom);
  }

  /** The room callbacks, outside the interrupt handler: one that throws cannot leave the used ring half-processed. */
  private readonly announceRoom = (): void => {
    this.roomScheduled = false;
    if (this.txWaiting.length > 0 || this.txFree.length === 0) return;
    const ls = this.roomListeners;
    for (let i = 0; i < ls.length; i++) ls[i]!();
  };

  /** Calls `cb` with every received frame (a copy) until the returned function is called. */
  listen(cb: (frame: Uint8Array) => void): () => void {
    if (typeof cb !== 'function') throw new NetDevError('EINVAL', 'listen needs a callback');
    const entry = (f: Uint8Array): void => cb(f);
    this.listeners = [...this.listeners, entry];
    ref();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.listeners = this.listeners.filter((l) => l !== entry);
      unref();
    };
  }

  stats(): NetStats {
    return { ...this.st, interrupts: this.dev.interrupts, notifications: this.rxq.notifications + this.txq.notifications };
  }
}
