// virtio-vsock with Firecracker's hybrid Unix-socket backend. The guest has one CID (config
// space); the host is CID 2. Stream sockets only (VIRTIO_VSOCK_F_STREAM).
//
// Host-initiated: the VMM listens on `udsPath`; a host client connects and sends
// `CONNECT <port>\n`; the device sends REQUEST to the guest's port from a fresh host port
// (1<<30 upward) and, on RESPONSE, answers `OK <hostport>\n`, then bytes flow. An RST (no
// listener in the guest) closes the client's socket.
// Guest-initiated: a REQUEST to CID 2 port P connects to the Unix socket `<udsPath>_P`:
// RESPONSE when it connects, RST when it does not.
//
// The guest is hostile: every tx header is checked (length, type, CIDs, connection state);
// anything unexpected gets an RST, never an exception. Memory is bounded both ways: the guest
// may have at most BUF_ALLOC bytes in flight to a host socket (our advertised buf_alloc — a
// guest that exceeds its credit is reset), a host socket is paused once HOST_PENDING_MAX bytes
// wait for guest credit, control replies are capped (tx processing waits for rx buffers), and
// the connection table is capped. We never send the guest more than its credit
// (buf_alloc - (tx_cnt - fwd_cnt)). Node sockets run on the main thread (node:net).
// Spec: virtio 1.2 §5.10 (socket device); Firecracker docs/vsock.md (hybrid protocol).

import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { lstatSync, unlinkSync } from 'node:fs';
import { featureBit, VIRTIO_ID_VSOCK } from '@kiln/common/virtio/constants.ts';
import {
  VIRTIO_VSOCK_CONFIG_SIZE, VIRTIO_VSOCK_EVENT, VIRTIO_VSOCK_F_STREAM, VIRTIO_VSOCK_HDR_SIZE, VIRTIO_VSOCK_OP_CREDIT_REQUEST,
  VIRTIO_VSOCK_OP_CREDIT_UPDATE, VIRTIO_VSOCK_OP_REQUEST, VIRTIO_VSOCK_OP_RESPONSE, VIRTIO_VSOCK_OP_RST, VIRTIO_VSOCK_OP_RW,
  VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_RX, VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE, VIRTIO_VSOCK_SHUTDOWN_F_SEND, VIRTIO_VSOCK_TX,
  VIRTIO_VSOCK_TYPE_STREAM, VMADDR_CID_HOST, readVsockHeader, writeVsockHeader, type VsockHeader,
} from '@kiln/common/virtio/devices.ts';
import { VmmError } from '../../errors.ts';
import { LATER, serveLater, serveQueue, type DeviceContext, type VirtioDevice } from './device.ts';
import type { Virtqueue } from './queue.ts';

export const VSOCK_QUEUE_SIZES = [256, 256, 16];
/** Our receive buffer per connection (advertised as buf_alloc): guest bytes not yet written to the host socket. */
export const VSOCK_BUF_ALLOC = 256 * 1024;
/** Largest payload of one packet either way. */
export const VSOCK_MAX_PKT = 64 * 1024;
/** Host bytes waiting for guest credit before the host socket is paused. */
export const VSOCK_HOST_PENDING_MAX = 256 * 1024;
/** Control packets waiting for rx buffers before tx processing stops. */
export const VSOCK_MAX_CTRL = 256;
export const VSOCK_MAX_CONNS = 1024;
/** The first host port handed out for host-initiated connections (Firecracker's choice). */
export const VSOCK_HOST_PORT_FIRST = 1 << 30;
/** Longest `CONNECT <port>\n` line accepted, and how long a client may take to send it / the guest to answer. */
const CONNECT_LINE_MAX = 32;
const CONNECT_TIMEOUT_MS = 5000;

export interface VsockOptions {
  /** The guest's CID (≥ 3). */
  cid: number;
  /** Host Unix socket: listened on for host-initiated connections; `<udsPath>_<port>` for guest-initiated ones. */
  udsPath: string;
}

type State = 'guest-connecting' | 'host-connecting' | 'established' | 'closing';

interface Conn {
  key: string;
  hostPort: number;
  guestPort: number;
  state: State;
  sock: Socket;
  /** Host bytes not yet sent to the guest. */
  pending: Buffer[];
  pendingBytes: number;
  paused: boolean;
  /** SHUTDOWN flags the host side's state calls for (SEND after the host's FIN, both after its close) and those sent. */
  shutdownWanted: number;
  shutdownSent: number;
  /** The guest will not send more (it sent SHUTDOWN SEND). */
  guestSendDone: boolean;
  /** The guest will not receive more (SHUTDOWN RECEIVE): host data is dropped. */
  guestRecvDone: boolean;
  // Credit, guest → host: bytes received from the guest and bytes written to the host socket.
  rxCnt: number;
  fwdCnt: number;
  lastSentFwdCnt: number;
  // Credit, host → guest.
  txCnt: number;
  peerBufAlloc: number;
  peerFwdCnt: number;
  creditRequested: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface EarlyClient {
  sock: Socket;
  port: number;
  rest: Buffer;
  timer: NodeJS.Timeout;
}

interface Ctrl {
  hdr: VsockHeader;
}

export class VirtioVsock implements VirtioDevice {
  readonly name = 'virtio-vsock';
  readonly deviceId = VIRTIO_ID_VSOCK;
  readonly deviceFeatures = featureBit(VIRTIO_VSOCK_F_STREAM);
  readonly queueSizes = VSOCK_QUEUE_SIZES;
  readonly cid: number;
  readonly udsPath: string;
  readonly stats = { rxPackets: 0, txPackets: 0, bytesToGuest: 0, bytesFromGuest: 0, resets: 0, badPackets: 0 };
  readonly #config = new Uint8Array(VIRTIO_VSOCK_CONFIG_SIZE);
  readonly #conns = new Map<string, Conn>();
  readonly #ctrl: Ctrl[] = [];
  /** Connections with host data (or an end) to deliver, in round-robin order. */
  readonly #ready = new Set<Conn>();
  #ctx: DeviceContext | undefined;
  #server: Server | undefined;
  #nextHostPort = VSOCK_HOST_PORT_FIRST;
  #closed = false;
  #unaccepted = new Set<Socket>();
  /** Host clients that sent CONNECT before the guest driver was up. */
  readonly #early: EarlyClient[] = [];

  constructor(o: VsockOptions) {
    if (!Number.isSafeInteger(o.cid) || o.cid < 3 || o.cid > 0xffff_fffe) throw new VmmError('EBADCONFIG', `vsock cid ${o.cid} must be an integer from 3 to 4294967294`);
    if (typeof o.udsPath !== 'string' || o.udsPath === '') throw new VmmError('EBADCONFIG', 'vsock udsPath must be a non-empty path');
    this.cid = o.cid;
    this.udsPath = o.udsPath;
    const v = new DataView(this.#config.buffer);
    v.setUint32(0, o.cid >>> 0, true);
    v.setUint32(4, Math.floor(o.cid / 0x1_0000_0000), true);
  }

  /** Starts listening on udsPath (a stale socket file there is removed). Resolves once listening. */
  listen(): Promise<void> {
    try {
      if (lstatSync(this.udsPath).isSocket()) unlinkSync(this.udsPath);
    } catch {
      // nothing there
    }
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: false }, (s) => this.#onHostClient(s));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (e) => reject(new VmmError('EBADCONFIG', `vsock: cannot listen on ${this.udsPath}: ${e.message}`)));
      server.listen(this.udsPath, () => {
        server.on('error', () => {});
        resolve();
      });
    });
  }

  /** Stops listening, resets every connection and removes the socket file. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.reset();
    for (const s of this.#unaccepted) s.destroy();
    for (const e of [...this.#early]) this.#dropEarly(e);
    this.#unaccepted.clear();
    const server = this.#server;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  get connectionCount(): number {
    return this.#conns.size;
  }

  readConfig(offset: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) data[i] = this.#config[offset + i] ?? 0;
  }
  writeConfig(): void {}
  activate(ctx: DeviceContext): void {
    this.#ctx = ctx;
    for (const e of this.#early.splice(0)) {
      clearTimeout(e.timer);
      if (!e.sock.destroyed) this.#hostConnect(e.sock, e.port, e.rest);
    }
  }
  reset(): void {
    this.#ctx = undefined;
    for (const c of this.#conns.values()) this.#drop(c);
    this.#ctrl.length = 0;
    this.#ready.clear();
  }

  notify(q: number): void {
    if (q === VIRTIO_VSOCK_TX) this.#processTx();
    else if (q === VIRTIO_VSOCK_RX) this.#fillRx();
    // The event queue only holds buffers for events we never send (no migration).
    void VIRTIO_VSOCK_EVENT;
  }

  // ───────────── guest → host ─────────────

  #processTx(): void {
    const ctx = this.#ctx;
    if (!ctx) return;
    const hdrBytes = new Uint8Array(VIRTIO_VSOCK_HDR_SIZE);
    // Answers wait for rx buffers (the guest waits for us): tx stops while they are full.
    serveQueue(ctx, VIRTIO_VSOCK_TX, (vq, chain) => {
      this.stats.txPackets++;
      if (chain.readableLen < VIRTIO_VSOCK_HDR_SIZE) {
        this.stats.badPackets++; // no header: nobody to answer
        return 0;
      }
      vq.readFrom(chain, hdrBytes);
      const h = readVsockHeader(hdrBytes);
      if (h.len > chain.readableLen - VIRTIO_VSOCK_HDR_SIZE || h.len > VSOCK_MAX_PKT) {
        this.stats.badPackets++;
        const c = h.srcCid === this.cid && h.dstCid === VMADDR_CID_HOST ? this.#conns.get(connKey(h.dstPort, h.srcPort)) : undefined;
        if (c) this.#reset(c, true);
        else this.#rstReply(h);
        return 0;
      }
      let payload: Uint8Array | undefined;
      if (h.op === VIRTIO_VSOCK_OP_RW && h.len > 0) {
        payload = Buffer.allocUnsafe(h.len);
        vq.readFrom(chain, payload, VIRTIO_VSOCK_HDR_SIZE);
      }
      this.#onGuestPacket(h, payload);
      return 0;
    }, { ready: () => this.#ctrl.length < VSOCK_MAX_CTRL, resume: () => this.#processTx() });
    this.#fillRx();
  }

  #onGuestPacket(h: VsockHeader, payload: Uint8Array | undefined): void {
    if (h.type !== VIRTIO_VSOCK_TYPE_STREAM || h.srcCid !== this.cid || h.dstCid !== VMADDR_CID_HOST) {
      this.stats.badPackets++;
      return this.#rstReply(h);
    }
    const key = connKey(h.dstPort, h.srcPort);
    const c = this.#conns.get(key);
    if (h.op === VIRTIO_VSOCK_OP_REQUEST) {
      if (c) {
        this.#reset(c);
        return this.#rstReply(h);
      }
      return this.#guestConnect(h);
    }
    if (!c) {
      if (h.op !== VIRTIO_VSOCK_OP_RST) this.#rstReply(h);
      return;
    }
    this.#updatePeerCredit(c, h);
    switch (h.op) {
      case VIRTIO_VSOCK_OP_RESPONSE:
        if (c.state !== 'guest-connecting') return this.#reset(c, true);
        this.#established(c);
        c.sock.write(`OK ${c.hostPort}\n`);
        break;
      case VIRTIO_VSOCK_OP_RST:
        this.#drop(c);
        break;
      case VIRTIO_VSOCK_OP_RW: {
        if (c.state !== 'established' || c.guestSendDone) return this.#reset(c, true);
        const n = payload?.length ?? 0;
        if (c.rxCnt - c.fwdCnt + n > VSOCK_BUF_ALLOC) return this.#reset(c, true); // beyond the credit we gave
        c.rxCnt += n;
        this.stats.bytesFromGuest += n;
        if (n > 0) {
          c.sock.write(payload!, () => {
            c.fwdCnt += n;
            this.#maybeCreditUpdate(c);
          });
        }
        break;
      }
      case VIRTIO_VSOCK_OP_SHUTDOWN: {
        if (c.state !== 'established') return this.#reset(c, true);
        if (h.flags & VIRTIO_VSOCK_SHUTDOWN_F_SEND && !c.guestSendDone) {
          c.guestSendDone = true;
          c.sock.end();
        }
        if (h.flags & VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE) {
          c.guestRecvDone = true;
          c.pending.length = 0;
          c.pendingBytes = 0;
          this.#resume(c);
        }
        // Both directions shut by the guest: it waits for our RST (Linux's close handshake).
        if (c.guestSendDone && c.guestRecvDone) this.#reset(c, true, true);
        break;
      }
      case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
        break; // the credit was taken above
      case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
        this.#sendCtrl(c, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
        break;
      default:
        this.stats.badPackets++;
        this.#reset(c, true);
    }
  }

  #updatePeerCredit(c: Conn, h: VsockHeader): void {
    c.peerBufAlloc = h.bufAlloc;
    c.peerFwdCnt = h.fwdCnt;
    if (this.#peerCredit(c) > 0) {
      c.creditRequested = false;
      if (c.pendingBytes > 0 || hasShutdownToSend(c)) this.#ready.add(c);
    }
  }

  /** Bytes the guest can take now: buf_alloc - (tx_cnt - fwd_cnt), in u32 arithmetic; a lying guest gets 0. */
  #peerCredit(c: Conn): number {
    const inFlight = (c.txCnt - c.peerFwdCnt) >>> 0;
    return inFlight > c.peerBufAlloc ? 0 : c.peerBufAlloc - inFlight;
  }

  #maybeCreditUpdate(c: Conn): void {
    if (c.state !== 'established' || !this.#conns.has(c.key)) return;
    if (c.fwdCnt - c.lastSentFwdCnt >= VSOCK_BUF_ALLOC / 4) {
      this.#sendCtrl(c, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
      this.#fillRx();
    }
  }

  /** Guest REQUEST to host port P: connect to `<udsPath>_P`. */
  #guestConnect(h: VsockHeader): void {
    if (this.#conns.size >= VSOCK_MAX_CONNS || this.#closed) return this.#rstReply(h);
    const sock = netConnect({ path: `${this.udsPath}_${h.dstPort}`, allowHalfOpen: true });
    const c = this.#newConn(h.dstPort, h.srcPort, 'host-connecting', sock);
    this.#updatePeerCredit(c, h);
    sock.once('connect', () => {
      if (this.#conns.get(c.key) !== c) return void sock.destroy();
      this.#established(c);
      this.#sendCtrl(c, VIRTIO_VSOCK_OP_RESPONSE);
      this.#fillRx();
    });
  }

  // ───────────── host → guest ─────────────

  #onHostClient(sock: Socket): void {
    if (this.#closed) return void sock.destroy();
    this.#unaccepted.add(sock);
    let line = '';
    const timer = setTimeout(() => sock.destroy(), CONNECT_TIMEOUT_MS);
    const fail = (): void => {
      clearTimeout(timer);
      this.#unaccepted.delete(sock);
      sock.destroy();
    };
    const onData = (chunk: Buffer): void => {
      const nl = chunk.indexOf(10);
      line += chunk.subarray(0, nl < 0 ? chunk.length : nl).toString('latin1');
      if (line.length > CONNECT_LINE_MAX) return fail();
      if (nl < 0) return;
      sock.off('data', onData);
      sock.pause();
      clearTimeout(timer);
      this.#unaccepted.delete(sock);
      const m = /^CONNECT ([0-9]{1,10})\r?$/.exec(line);
      const port = m ? Number(m[1]) : NaN;
      if (!m || port > 0xffff_ffff || this.#conns.size >= VSOCK_MAX_CONNS) return fail();
      const rest = chunk.subarray(nl + 1);
      if (this.#ctx) return this.#hostConnect(sock, port, rest);
      // The guest driver is not up yet (it starts on the app's first kiln:vsock call): wait for it.
      if (this.#early.length >= 64) return fail();
      const early = { sock, port, rest, timer: setTimeout(() => this.#dropEarly(early), CONNECT_TIMEOUT_MS) };
      this.#early.push(early);
      sock.once('close', () => this.#dropEarly(early));
    };
    sock.on('data', onData);
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      this.#unaccepted.delete(sock);
    });
  }

  #dropEarly(e: EarlyClient): void {
    const i = this.#early.indexOf(e);
    if (i < 0) return;
    this.#early.splice(i, 1);
    clearTimeout(e.timer);
    e.sock.destroy();
  }

  /** A host client asked for guest port `port`: REQUEST from a fresh host port. */
  #hostConnect(sock: Socket, port: number, rest: Buffer): void {
    {
      const hostPort = this.#allocHostPort(port);
      const c = this.#newConn(hostPort, port, 'guest-connecting', sock);
      if (rest.length) this.#onHostData(c, rest);
      c.timer = setTimeout(() => this.#reset(c, true), CONNECT_TIMEOUT_MS);
      this.#sendCtrl(c, VIRTIO_VSOCK_OP_REQUEST);
      this.#fillRx();
    }
  }

  #allocHostPort(guestPort: number): number {
    for (;;) {
      const p = this.#nextHostPort;
      this.#nextHostPort = p >= 0xffff_fffe ? VSOCK_HOST_PORT_FIRST : p + 1;
      if (!this.#conns.has(connKey(p, guestPort))) return p;
    }
  }

  #newConn(hostPort: number, guestPort: number, state: State, sock: Socket): Conn {
    const c: Conn = {
      key: connKey(hostPort, guestPort), hostPort, guestPort, state, sock, pending: [], pendingBytes: 0, paused: false, shutdownWanted: 0,
      shutdownSent: 0, guestSendDone: false, guestRecvDone: false, rxCnt: 0, fwdCnt: 0, lastSentFwdCnt: 0, txCnt: 0, peerBufAlloc: 0,
      peerFwdCnt: 0, creditRequested: false, timer: undefined,
    };
    this.#conns.set(c.key, c);
    sock.on('error', () => {}); // 'close' follows
    sock.on('close', () => this.#onHostClose(c));
    return c;
  }

  #established(c: Conn): void {
    if (c.timer) clearTimeout(c.timer);
    c.timer = undefined;
    c.state = 'established';
    const sock = c.sock;
    sock.on('data', (d: Buffer) => this.#onHostData(c, d));
    sock.on('end', () => {
      if (this.#conns.get(c.key) !== c) return;
      c.shutdownWanted |= VIRTIO_VSOCK_SHUTDOWN_F_SEND;
      this.#ready.add(c);
      this.#fillRx();
    });
    sock.resume();
    if (c.pendingBytes > 0) this.#ready.add(c);
  }

  #onHostData(c: Conn, d: Buffer): void {
    if (c.guestRecvDone || this.#conns.get(c.key) !== c) return;
    c.pending.push(d);
    c.pendingBytes += d.length;
    if (c.pendingBytes >= VSOCK_HOST_PENDING_MAX && !c.paused) {
      c.paused = true;
      c.sock.pause();
    }
    if (c.state === 'established') {
      this.#ready.add(c);
      this.#fillRx();
    }
  }

  #resume(c: Conn): void {
    if (c.paused && c.pendingBytes < VSOCK_HOST_PENDING_MAX / 2) {
      c.paused = false;
      c.sock.resume();
    }
  }

  #onHostClose(c: Conn): void {
    if (this.#conns.get(c.key) !== c) return;
    if (c.state !== 'established') return this.#reset(c, true);
    // The host socket is gone both ways: deliver what is pending, then SHUTDOWN both; the guest
    // answers RST (or is reset after a while).
    c.shutdownWanted = VIRTIO_VSOCK_SHUTDOWN_F_SEND | VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE;
    c.guestSendDone = true;
    c.state = 'closing';
    this.#ready.add(c);
    c.timer = setTimeout(() => this.#reset(c, true), CONNECT_TIMEOUT_MS);
    this.#fillRx();
  }

  // ───────────── rx queue ─────────────

  #sendCtrl(c: Conn, op: number, flags = 0): void {
    this.#ctrl.push({ hdr: this.#hdr(c, op, 0, flags) });
  }

  #hdr(c: Conn, op: number, len: number, flags: number): VsockHeader {
    c.lastSentFwdCnt = c.fwdCnt;
    return {
      srcCid: VMADDR_CID_HOST, dstCid: this.cid, srcPort: c.hostPort, dstPort: c.guestPort, len, type: VIRTIO_VSOCK_TYPE_STREAM, op, flags,
      bufAlloc: VSOCK_BUF_ALLOC, fwdCnt: c.fwdCnt >>> 0,
    };
  }

  /** An RST answering a packet that has no connection (or a bad one), addressed back to its source. Never answers an RST. */
  #rstReply(h: VsockHeader): void {
    if (h.op === VIRTIO_VSOCK_OP_RST || this.#ctrl.length >= 2 * VSOCK_MAX_CTRL) return;
    this.stats.resets++;
    this.#ctrl.push({
      hdr: { srcCid: h.dstCid, dstCid: h.srcCid, srcPort: h.dstPort, dstPort: h.srcPort, len: 0, type: VIRTIO_VSOCK_TYPE_STREAM, op: VIRTIO_VSOCK_OP_RST, flags: 0, bufAlloc: 0, fwdCnt: 0 },
    });
  }

  /** Ends a connection: RST to the guest (when it should hear of it) and the host socket destroyed (or ended gracefully). */
  #reset(c: Conn, tellGuest = false, graceful = false): void {
    if (this.#conns.get(c.key) !== c) return;
    if (tellGuest) {
      this.stats.resets++;
      this.#ctrl.push({ hdr: this.#hdr(c, VIRTIO_VSOCK_OP_RST, 0, 0) });
    }
    this.#remove(c);
    if (graceful) c.sock.end();
    else c.sock.destroy();
    if (tellGuest) this.#fillRx();
  }

  /** Forgets a connection and destroys its host socket (guest RST, device reset). */
  #drop(c: Conn): void {
    if (this.#conns.get(c.key) !== c) return;
    this.#remove(c);
    c.sock.destroy();
  }

  #remove(c: Conn): void {
    if (c.timer) clearTimeout(c.timer);
    c.timer = undefined;
    this.#conns.delete(c.key);
    this.#ready.delete(c);
    c.pending.length = 0;
    c.pendingBytes = 0;
  }

  #fillRx(): void {
    const ctx = this.#ctx;
    if (!ctx) return;
    const hdrBytes = new Uint8Array(VIRTIO_VSOCK_HDR_SIZE);
    const pushed = serveQueue(ctx, VIRTIO_VSOCK_RX, (vq, chain) => {
      if (chain.writableLen < VIRTIO_VSOCK_HDR_SIZE) {
        this.stats.badPackets++;
        return 0; // unusable buffer: hand it back empty
      }
      const used = this.#nextPacket(vq, chain, hdrBytes);
      if (used === 0) return LATER;
      this.stats.rxPackets++;
      return used;
    }, { ready: () => this.#ctrl.length > 0 || this.#hasReadyWork(), resume: () => this.#fillRx() });
    // Answers drained: tx may have stopped for room (on a later turn, so the budget holds).
    if (this.#ctrl.length < VSOCK_MAX_CTRL && pushed && ctx.queues[VIRTIO_VSOCK_TX]?.pending()) serveLater(ctx, VIRTIO_VSOCK_TX, () => this.#processTx());
  }

  #hasReadyWork(): boolean {
    for (const c of this.#ready) {
      if (c.pendingBytes > 0 ? this.#peerCredit(c) > 0 || !c.creditRequested : hasShutdownToSend(c)) return true;
    }
    return false;
  }

  /** Writes the next packet into `chain`; returns the bytes used (0: nothing to send). */
  #nextPacket(vq: Virtqueue, chain: { writableLen: number } & Parameters<Virtqueue['writeTo']>[0], hdrBytes: Uint8Array): number {
    const ctrl = this.#ctrl.shift();
    if (ctrl) {
      vq.writeTo(chain, writeVsockHeader(hdrBytes, ctrl.hdr));
      return VIRTIO_VSOCK_HDR_SIZE;
    }
    for (const c of this.#ready) {
      this.#ready.delete(c);
      if (c.pendingBytes > 0) {
        const credit = this.#peerCredit(c);
        if (credit === 0) {
          if (c.creditRequested) continue; // stays out of #ready until a credit update
          c.creditRequested = true;
          this.#ready.add(c);
          vq.writeTo(chain, writeVsockHeader(hdrBytes, this.#hdr(c, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0, 0)));
          return VIRTIO_VSOCK_HDR_SIZE;
        }
        const n = Math.min(c.pendingBytes, credit, VSOCK_MAX_PKT, chain.writableLen - VIRTIO_VSOCK_HDR_SIZE);
        if (n === 0) {
          this.#ready.add(c);
          return 0;
        }
        let at = VIRTIO_VSOCK_HDR_SIZE;
        let left = n;
        while (left > 0) {
          const b = c.pending[0]!;
          const take = Math.min(b.length, left);
          vq.writeTo(chain, b.subarray(0, take), at);
          at += take;
          left -= take;
          if (take === b.length) c.pending.shift();
          else c.pending[0] = b.subarray(take);
        }
        c.pendingBytes -= n;
        c.txCnt = (c.txCnt + n) >>> 0;
        this.stats.bytesToGuest += n;
        vq.writeTo(chain, writeVsockHeader(hdrBytes, this.#hdr(c, VIRTIO_VSOCK_OP_RW, n, 0)));
        if (c.pendingBytes > 0 || hasShutdownToSend(c)) this.#ready.add(c); // round robin: to the back
        this.#resume(c);
        return VIRTIO_VSOCK_HDR_SIZE + n;
      }
      if (hasShutdownToSend(c)) {
        c.shutdownSent = c.shutdownWanted;
        vq.writeTo(chain, writeVsockHeader(hdrBytes, this.#hdr(c, VIRTIO_VSOCK_OP_SHUTDOWN, 0, c.shutdownWanted)));
        return VIRTIO_VSOCK_HDR_SIZE;
      }
    }
    return 0;
  }
}

function hasShutdownToSend(c: Conn): boolean {
  return (c.shutdownWanted & ~c.shutdownSent) !== 0 && c.pendingBytes === 0;
}

function connKey(hostPort: number, guestPort: number): string {
  return `${hostPort}:${guestPort}`;
}
