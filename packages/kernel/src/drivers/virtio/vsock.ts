// virtio-vsock driver (virtio 1.2 §5.10), stream sockets only. Three queues: rx (the driver
// keeps RX_BUFFERS device-writable buffers of header + RX_BUF_PAYLOAD bytes posted and reposts
// each after reading it), tx (one DMA block per packet, freed when the device is done), event
// (buffers posted, events ignored: there is no migration here).
//
// Connections are keyed by (local port, remote cid, remote port). Credit both ways: we
// advertise BUF_ALLOC bytes of receive buffer and send CREDIT_UPDATE when the app has consumed
// a quarter of it since our last header; we never send the peer more than its credit
// (buf_alloc - (tx_cnt - fwd_cnt)) and ask with CREDIT_REQUEST when it is 0, so write()
// resolves only once the peer has room: backpressure. A peer that overruns our credit, or
// sends anything unexpected, gets an RST. close() sends SHUTDOWN both ways and forgets the
// connection when the peer answers RST; a peer's full SHUTDOWN is answered with RST.
// Keep-alive: a listener holds a ref until close(), a connection from connect() until it is
// closed or reset, and every tx packet until the device has taken it. No BigInt anywhere:
// CIDs are numbers (readVsockHeader/writeVsockHeader).

import { VIRTIO_ID_VSOCK } from '@kiln/common/virtio/constants.ts';
import {
  VIRTIO_VSOCK_CFG_GUEST_CID, VIRTIO_VSOCK_EVENT, VIRTIO_VSOCK_F_STREAM, VIRTIO_VSOCK_HDR_SIZE, VIRTIO_VSOCK_OP_CREDIT_REQUEST,
  VIRTIO_VSOCK_OP_CREDIT_UPDATE, VIRTIO_VSOCK_OP_REQUEST, VIRTIO_VSOCK_OP_RESPONSE, VIRTIO_VSOCK_OP_RST, VIRTIO_VSOCK_OP_RW,
  VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_RX, VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE, VIRTIO_VSOCK_SHUTDOWN_F_SEND, VIRTIO_VSOCK_TX,
  VIRTIO_VSOCK_TYPE_STREAM, readVsockHeader, writeVsockHeader, type VsockHeader,
} from '@kiln/common/virtio/devices.ts';
import { ref, unref } from '../../lib/handles.ts';
import type { Platform } from '../platform.ts';
import type { VirtioMmioDevice } from './mmio.ts';
import type { Virtqueue } from './virtqueue.ts';
import { acceptIterator } from '../../lib/accept_iterator.ts';
import type { PendingRead, PendingWrite } from '../../lib/pending_io.ts';

export const BUF_ALLOC = 256 * 1024;
export const RX_BUFFERS = 32;
export const RX_BUF_PAYLOAD = 16 * 1024;
/** Largest payload we put in one tx packet. */
export const TX_MAX_PAYLOAD = 16 * 1024;
export const EPHEMERAL_FIRST = 49152;
export const ACCEPT_BACKLOG = 128;
const U32 = 0x1_0000_0000;

export type VsockErrorCode = 'ENODEV' | 'ECONNREFUSED' | 'ECONNRESET' | 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'EINVAL' | 'EPIPE' | 'EBADF' | 'ENOTCONN';

export class VsockError extends Error {
  constructor(readonly code: VsockErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'VsockError';
  }
}

export interface VsockAddr {
  cid: number;
  port: number;
}

type ConnState = 'connecting' | 'established' | 'closing' | 'closed';

/** One stream connection (Deno's Conn shape). */
export class VsockConn {
  state: ConnState = 'connecting';
  readonly key: string;
  // receive side
  private readonly chunks: Uint8Array[] = [];
  private rxBytes = 0;
  rxCnt = 0;
  fwdCnt = 0;
  lastSentFwdCnt = 0;
  private readonly readers: PendingRead[] = [];
  /** The peer will send no more (SHUTDOWN SEND, or it closed). */
  peerSendDone = false;
  /** The peer will read no more. */
  peerRecvDone = false;
  // send side
  txCnt = 0;
  peerBufAlloc = 0;
  peerFwdCnt = 0;
  private creditRequested = false;
  private readonly writers: PendingWrite[] = [];
  private writeShut = false;
  private shutSent = false;
  private error: VsockError | undefined;
  private reffed = false;
  onEstablished: ((err?: VsockError) => void) | undefined;

  constructor(private readonly drv: VirtioVsockDriver, readonly localPort: number, readonly remoteCid: number, readonly remotePort: number) {
    this.key = connKey(localPort, remoteCid, remotePort);
  }

  get localAddr(): VsockAddr {
    return { cid: this.drv.cid, port: this.localPort };
  }
  get remoteAddr(): VsockAddr {
    return { cid: this.remoteCid, port: this.remotePort };
  }

  hold(): void {
    if (!this.reffed) {
      this.reffed = true;
      ref();
    }
  }
  private release(): void {
    if (this.reffed) {
      this.reffed = false;
      unref();
    }
  }

  /** Reads into `buf`; resolves with the byte count, or null at end of stream. */
  read(buf: Uint8Array): Promise<number | null> {
    if (!(buf instanceof Uint8Array)) return Promise.reject(new VsockError('EINVAL', 'read needs a Uint8Array'));
    if (this.rxBytes > 0 || buf.length === 0) return Promise.resolve(this.take(buf));
    if (this.error) return Promise.reject(this.error);
    if (this.peerSendDone || this.state === 'closed' || this.state === 'closing') return Promise.resolve(null);
    return new Promise((resolve, reject) => this.readers.push({ buf, resolve, reject }));
  }

  private take(buf: Uint8Array): number {
    let n = 0;
    while (n < buf.length && this.chunks.length > 0) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, buf.length - n);
      buf.set(k === c.length ? c : c.subarray(0, k), n);
      n += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.rxBytes -= n;
    this.fwdCnt = (this.fwdCnt + n) >>> 0;
    if (this.state === 'established' && ((this.fwdCnt - this.lastSentFwdCnt) >>> 0) >= BUF_ALLOC / 4) this.drv.sendCtrl(this, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
    return n;
  }

  /** Writes all of `bytes`; resolves with its length once the peer's credit let the last byte go out. */
  write(bytes: Uint8Array): Promise<number> {
    if (!(bytes instanceof Uint8Array)) return Promise.reject(new VsockError('EINVAL', 'write needs a Uint8Array'));
    if (this.error) return Promise.reject(this.error);
    if (this.state !== 'established' || this.writeShut) return Promise.reject(new VsockError(this.state === 'connecting' ? 'ENOTCONN' : 'EPIPE', 'the connection is closed for writing'));
    if (this.peerRecvDone) return Promise.reject(new VsockError('EPIPE', 'the peer shut down its receive side'));
    if (bytes.length === 0) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      this.writers.push({ bytes: bytes.slice(), at: 0, resolve, reject });
      this.pump();
    });
  }

  /** Sends what the peer's credit allows. */
  pump(): void {
    while (this.writers.length > 0 && this.state === 'established') {
      const credit = this.credit();
      if (credit === 0) {
        if (!this.creditRequested) {
          this.creditRequested = true;
          this.drv.sendCtrl(this, VIRTIO_VSOCK_OP_CREDIT_REQUEST);
        }
        return;
      }
      const w = this.writers[0]!;
      const n = Math.min(credit, TX_MAX_PAYLOAD, w.bytes.length - w.at);
      this.drv.sendPacket(this, VIRTIO_VSOCK_OP_RW, 0, w.bytes.subarray(w.at, w.at + n));
      this.txCnt = (this.txCnt + n) >>> 0;
      w.at += n;
      if (w.at === w.bytes.length) {
        this.writers.shift();
        w.resolve(w.bytes.length);
      }
    }
    if (this.writers.length === 0 && this.writeShut && !this.shutSent && this.state === 'established') {
      this.shutSent = true;
      this.drv.sendCtrl(this, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_F_SEND);
    }
  }

  credit(): number {
    const inFlight = (this.txCnt - this.peerFwdCnt) >>> 0;
    return inFlight > this.peerBufAlloc ? 0 : this.peerBufAlloc - inFlight;
  }

  /** The peer's header carries its credit. */
  peerCredit(h: VsockHeader): void {
    this.peerBufAlloc = h.bufAlloc;
    this.peerFwdCnt = h.fwdCnt;
    if (this.credit() > 0) this.creditRequested = false;
  }

  /** No more writes: the peer sees end of stream after the bytes already written. */
  closeWrite(): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    if (this.state !== 'established') return Promise.reject(new VsockError('ENOTCONN', 'not connected'));
    this.writeShut = true;
    this.pump();
    return Promise.resolve();
  }

  /** Closes both directions: queued bytes the peer has credit for go out, the rest is dropped (their writes reject with EBADF); SHUTDOWN both ways; pending reads get null. */
  close(): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    if (this.state === 'established') {
      this.writeShut = true;
      this.pump();
      for (const w of this.writers.splice(0)) w.reject(new VsockError('EBADF', 'the connection was closed'));
      this.drv.sendCtrl(this, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_F_SEND | VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE);
      this.state = 'closing'; // the port stays taken until the peer's RST
      this.chunks.length = 0;
      this.rxBytes = 0;
    } else {
      this.drv.sendCtrl(this, VIRTIO_VSOCK_OP_RST);
      this.finish();
      this.drv.forget(this);
    }
    for (const r of this.readers.splice(0)) r.resolve(null);
    this.release();
  }

  // ── events from the driver ──

  established(): void {
    this.state = 'established';
    this.onEstablished?.();
    this.onEstablished = undefined;
  }

  data(payload: Uint8Array): boolean {
    if (this.state !== 'established' || this.peerSendDone) return false;
    if (((this.rxCnt - this.fwdCnt) >>> 0) + payload.length > BUF_ALLOC) return false; // beyond our credit
    this.rxCnt = (this.rxCnt + payload.length) >>> 0;
    if (payload.length === 0) return true;
    this.chunks.push(payload);
    this.rxBytes += payload.length;
    while (this.readers.length > 0 && this.rxBytes > 0) {
      const r = this.readers.shift()!;
      r.resolve(this.take(r.buf));
    }
    return true;
  }

  /** SHUTDOWN from the peer; true when it shut both ways (answer RST). */
  shutdown(flags: number): boolean {
    if (flags & VIRTIO_VSOCK_SHUTDOWN_F_SEND) {
      this.peerSendDone = true;
      if (this.rxBytes === 0) for (const r of this.readers.splice(0)) r.resolve(null);
    }
    if (flags & VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE) {
      this.peerRecvDone = true;
      for (const w of this.writers.splice(0)) w.reject(new VsockError('EPIPE', 'the peer shut down its receive side'));
    }
    if (this.peerSendDone && this.peerRecvDone) {
      this.finish();
      return true;
    }
    return false;
  }

  /** RST from the peer (or a protocol error): refused while connecting, reset once established. */
  reset(): void {
    const wasConnecting = this.state === 'connecting';
    const quiet = this.state === 'closing' || this.state === 'closed';
    this.finish();
    if (quiet) return;
    if (wasConnecting) {
      this.onEstablished?.(new VsockError('ECONNREFUSED', `vsock ${this.remoteCid}:${this.remotePort} refused the connection`));
      this.onEstablished = undefined;
      return;
    }
    if (!this.peerSendDone) this.error = new VsockError('ECONNRESET', `vsock ${this.remoteCid}:${this.remotePort} reset the connection`);
    this.peerSendDone = true;
    this.peerRecvDone = true;
    for (const r of this.readers.splice(0)) {
      if (this.error) r.reject(this.error);
      else r.resolve(null);
    }
    for (const w of this.writers.splice(0)) w.reject(this.error ?? new VsockError('EPIPE', 'the connection is closed'));
  }

  private finish(): void {
    this.state = 'closed';
    this.release();
  }
}

/** A listening port (Deno's Listener shape). */
export class VsockListener implements AsyncIterable<VsockConn> {
  private readonly backlog: VsockConn[] = [];
  private readonly waiting: { resolve(c: VsockConn): void; reject(e: Error): void }[] = [];
  private open = true;

  constructor(private readonly drv: VirtioVsockDriver, readonly port: number) {
    ref();
  }

  get addr(): VsockAddr {
    return { cid: this.drv.cid, port: this.port };
  }

  get backlogFull(): boolean {
    return this.backlog.length >= ACCEPT_BACKLOG;
  }

  /** Resolves with the next incoming connection; rejects with EBADF once closed. */
  accept(): Promise<VsockConn> {
    const c = this.backlog.shift();
    if (c) return Promise.resolve(c);
    if (!this.open) return Promise.reject(new VsockError('EBADF', `listener on port ${this.port} is closed`));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  incoming(c: VsockConn): void {
    const w = this.waiting.shift();
    if (w) w.resolve(c);
    else this.backlog.push(c);
  }

  /** Stops listening: pending accepts reject with EBADF, unaccepted connections are reset. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.drv.unlisten(this);
    for (const w of this.waiting.splice(0)) w.reject(new VsockError('EBADF', `listener on port ${this.port} is closed`));
    for (const c of this.backlog.splice(0)) {
      this.drv.sendCtrl(c, VIRTIO_VSOCK_OP_RST);
      c.reset();
      this.drv.forget(c);
    }
    unref();
  }

  [Symbol.asyncIterator](): AsyncIterator<VsockConn> {
    return acceptIterator(this, (e) => e instanceof VsockError && e.code === 'EBADF');
  }
}

export class VirtioVsockDriver {
  readonly cid: number;
  /** Packets dropped as malformed, RSTs sent for them. */
  readonly stats = { rxPackets: 0, txPackets: 0, badPackets: 0 };
  private readonly p: Platform;
  private readonly rxq: Virtqueue;
  private readonly txq: Virtqueue;
  private readonly conns = new Map<string, VsockConn>();
  private readonly listeners = new Map<number, VsockListener>();
  private readonly txWaiting: { addr: number; len: number }[] = [];
  private nextEphemeral = EPHEMERAL_FIRST;
  private rxDirty = false;

  constructor(private readonly dev: VirtioMmioDevice) {
    if (dev.deviceId !== VIRTIO_ID_VSOCK) throw new TypeError(`virtio-vsock: device id ${dev.deviceId} is not a socket device`);
    this.p = dev.p;
    dev.negotiate(1 << VIRTIO_VSOCK_F_STREAM);
    this.cid = dev.readConfig((cfg) => cfg(VIRTIO_VSOCK_CFG_GUEST_CID, 4) + cfg(VIRTIO_VSOCK_CFG_GUEST_CID + 4, 4) * U32);
    this.rxq = dev.setupQueue(VIRTIO_VSOCK_RX, 64);
    this.txq = dev.setupQueue(VIRTIO_VSOCK_TX, 128);
    const evq = dev.setupQueue(VIRTIO_VSOCK_EVENT, 8);
    const size = VIRTIO_VSOCK_HDR_SIZE + RX_BUF_PAYLOAD;
    for (let i = 0; i < Math.min(RX_BUFFERS, this.rxq.size); i++) this.postRx(this.p.dmaAlloc(size, 64));
    const ev = this.p.dmaAlloc(4 * evq.size, 4);
    for (let i = 0; i < evq.size; i++) evq.add([{ addr: ev + 4 * i, len: 4, write: true }], () => {});
    dev.driverOk();
    this.rxq.kick();
    evq.kick();
  }

  private postRx(addr: number): void {
    this.rxq.add([{ addr, len: VIRTIO_VSOCK_HDR_SIZE + RX_BUF_PAYLOAD, write: true }], (len) => this.onRx(addr, len));
  }

  private onRx(addr: number, len: number): void {
    this.stats.rxPackets++;
    try {
      if (len >= VIRTIO_VSOCK_HDR_SIZE && len <= VIRTIO_VSOCK_HDR_SIZE + RX_BUF_PAYLOAD) {
        const buf = this.p.bytes(addr, len);
        const h = readVsockHeader(buf);
        if (h.len === len - VIRTIO_VSOCK_HDR_SIZE) this.onPacket(h, buf.subarray(VIRTIO_VSOCK_HDR_SIZE, len));
        else this.stats.badPackets++;
      } else {
        this.stats.badPackets++;
      }
    } finally {
      this.postRx(addr);
      if (!this.rxDirty) {
        this.rxDirty = true;
        queueMicrotask(() => {
          this.rxDirty = false;
          this.rxq.kick();
        });
      }
    }
  }

  private onPacket(h: VsockHeader, payload: Uint8Array): void {
    if (h.type !== VIRTIO_VSOCK_TYPE_STREAM || h.dstCid !== this.cid) {
      this.stats.badPackets++;
      return this.rstReply(h);
    }
    const c = this.conns.get(connKey(h.dstPort, h.srcCid, h.srcPort));
    if (h.op === VIRTIO_VSOCK_OP_REQUEST) {
      if (c) return this.rstReply(h);
      const l = this.listeners.get(h.dstPort);
      if (!l || l.backlogFull) return this.rstReply(h);
      const nc = new VsockConn(this, h.dstPort, h.srcCid, h.srcPort);
      nc.peerCredit(h);
      this.conns.set(nc.key, nc);
      nc.established();
      nc.hold();
      this.sendCtrl(nc, VIRTIO_VSOCK_OP_RESPONSE);
      l.incoming(nc);
      return;
    }
    if (!c) {
      if (h.op !== VIRTIO_VSOCK_OP_RST) this.rstReply(h);
      return;
    }
    if (c.state === 'closing' && h.op !== VIRTIO_VSOCK_OP_RST) return; // we closed: only the peer's RST matters
    c.peerCredit(h);
    switch (h.op) {
      case VIRTIO_VSOCK_OP_RESPONSE:
        if (c.state !== 'connecting') return this.protocolReset(c);
        c.established();
        break;
      case VIRTIO_VSOCK_OP_RST:
        this.forget(c);
        c.reset();
        return;
      case VIRTIO_VSOCK_OP_RW:
        if (!c.data(payload.slice())) return this.protocolReset(c);
        break;
      case VIRTIO_VSOCK_OP_SHUTDOWN:
        if (c.state === 'connecting') return this.protocolReset(c);
        if (c.shutdown(h.flags)) {
          this.sendCtrl(c, VIRTIO_VSOCK_OP_RST);
          this.forget(c);
          return;
        }
        break;
      case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
        break;
      case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
        if (c.state === 'established') this.sendCtrl(c, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
        break;
      default:
        this.stats.badPackets++;
        return this.protocolReset(c);
    }
    c.pump();
  }

  private protocolReset(c: VsockConn): void {
    this.stats.badPackets++;
    this.sendCtrl(c, VIRTIO_VSOCK_OP_RST);
    this.forget(c);
    c.reset();
  }

  private rstReply(h: VsockHeader): void {
    if (h.op === VIRTIO_VSOCK_OP_RST) return;
    this.queueTx({ srcCid: this.cid, dstCid: h.srcCid, srcPort: h.dstPort, dstPort: h.srcPort, len: 0, type: VIRTIO_VSOCK_TYPE_STREAM, op: VIRTIO_VSOCK_OP_RST, flags: 0, bufAlloc: 0, fwdCnt: 0 });
  }

  sendCtrl(c: VsockConn, op: number, flags = 0): void {
    this.sendPacket(c, op, flags);
  }

  sendPacket(c: VsockConn, op: number, flags: number, payload?: Uint8Array): void {
    c.lastSentFwdCnt = c.fwdCnt;
    this.queueTx(
      { srcCid: this.cid, dstCid: c.remoteCid, srcPort: c.localPort, dstPort: c.remotePort, len: payload ? payload.length : 0, type: VIRTIO_VSOCK_TYPE_STREAM, op, flags, bufAlloc: BUF_ALLOC, fwdCnt: c.fwdCnt },
      payload,
    );
  }

  private queueTx(h: VsockHeader, payload?: Uint8Array): void {
    const len = VIRTIO_VSOCK_HDR_SIZE + (payload ? payload.length : 0);
    const addr = this.p.dmaAlloc(len, 8);
    const b = this.p.bytes(addr, len);
    writeVsockHeader(b, h);
    if (payload) b.set(payload, VIRTIO_VSOCK_HDR_SIZE);
    ref(); // until the device has taken the packet
    this.stats.txPackets++;
    if (this.txWaiting.length === 0 && this.addTx(addr, len)) this.txq.kick();
    else this.txWaiting.push({ addr, len });
  }

  private addTx(addr: number, len: number): boolean {
    return this.txq.add([{ addr, len, write: false }], () => {
      this.p.dmaFree(addr);
      unref();
      let added = false;
      while (this.txWaiting.length > 0 && this.addTx(this.txWaiting[0]!.addr, this.txWaiting[0]!.len)) {
        this.txWaiting.shift();
        added = true;
      }
      if (added) this.txq.kick();
    });
  }

  listen(port: number): VsockListener {
    checkPort(port);
    if (this.listeners.has(port)) throw new VsockError('EADDRINUSE', `port ${port} is already listening`);
    const l = new VsockListener(this, port);
    this.listeners.set(port, l);
    return l;
  }

  unlisten(l: VsockListener): void {
    if (this.listeners.get(l.port) === l) this.listeners.delete(l.port);
  }

  connect(cid: number, port: number): Promise<VsockConn> {
    checkPort(port);
    if (!Number.isSafeInteger(cid) || cid < 0 || cid > 0xffff_ffff) return Promise.reject(new VsockError('EINVAL', `bad cid ${cid}`));
    const local = this.ephemeralPort(cid, port);
    const c = new VsockConn(this, local, cid, port);
    this.conns.set(c.key, c);
    c.hold();
    return new Promise((resolve, reject) => {
      c.onEstablished = (err) => (err ? reject(err) : resolve(c));
      this.sendCtrl(c, VIRTIO_VSOCK_OP_REQUEST);
    });
  }

  private ephemeralPort(cid: number, port: number): number {
    for (let i = 0; i < 0x10000; i++) {
      const p = this.nextEphemeral;
      this.nextEphemeral = p >= 0xffff_fffe ? EPHEMERAL_FIRST : p + 1;
      if (!this.listeners.has(p) && !this.conns.has(connKey(p, cid, port))) return p;
    }
    throw new VsockError('EADDRNOTAVAIL', 'no free local port');
  }

  forget(c: VsockConn): void {
    if (this.conns.get(c.key) === c) this.conns.delete(c.key);
  }

  get connectionCount(): number {
    return this.conns.size;
  }
}

function connKey(localPort: number, remoteCid: number, remotePort: number): string {
  return `${localPort}:${remoteCid}:${remotePort}`;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff_fffe) throw new VsockError('EINVAL', `bad port ${port} (0 to 4294967294)`);
}
