// The TCP layer (RFC 9293): demultiplexes segments from IP to connections and listeners,
// answers segments for closed ports with RST, opens connections (random ephemeral ports,
// RFC 6528 ISNs), runs the timers and delivers socket events. Sans-IO: time is the injected
// `now`, randomness the injected `random`, and segments leave through `TcpLower.sendSegment`
// (which must not call input() synchronously: queue loopback), so two layers can be wired
// together in one process (see sim.test.ts). What it guarantees (states and TIME-WAIT,
// retransmission, options, buffers, ACKs, RFC 5961, backlogs, ports, when events and timers
// run): docs/ARCHITECTURE.md "TCP/IP", the list after "TCP (`net/tcp/`".

import { TCP_ACK_FLAG, TCP_FIN, TCP_RST, TCP_SYN, TcpPacket, emitTcpHeader, parseTcp, tcpRepr } from '@kiln/common/wire/tcp.ts';
import { NetError, type Ipv4Addr, type Random, type TcpEndpoint, type TcpLayerApi, type TcpLayerOptions, type TcpLower } from '../types.ts';
import { DEFAULT_TCP_CONFIG, newTcpStats, type TcpConfig, type TcpStats } from './config.ts';
import { IsnGenerator } from './isn.ts';
import { TcpListener } from './listener.ts';
import { seqAdd, seqGt } from './seq.ts';
import { TIME_WAIT, TcpConn, type ConnHost, type EventSource } from './socket.ts';
import { TimerHeap } from './timers.ts';

export { DEFAULT_TCP_CONFIG, type TcpConfig, type TcpStats } from './config.ts';

export interface TcpLayerConfig extends TcpLayerOptions {
  /** Overrides of the defaults in config.ts. */
  config?: Partial<TcpConfig>;
}

const EPHEMERAL_FIRST = 49152;
const EPHEMERAL_COUNT = 16384;
/** RFC 9293 §3.6.1 / Linux: a reopened TIME-WAIT tuple starts this far past the old SND.NXT. */
const REOPEN_ISN_GAP = 65535 + 2;

export class TcpLayer implements TcpLayerApi, ConnHost {
  readonly config: TcpConfig;
  readonly counters: TcpStats = newTcpStats();
  readonly lower: TcpLower;
  readonly txRepr = tcpRepr();
  readonly rcvShiftWanted: number;
  nowMs: number;

  private readonly random: Random;
  private readonly now: () => number;
  private readonly isns: IsnGenerator;
  private readonly rxRepr = tcpRepr();
  /** Connections by localPort·65536 + remotePort; the addresses are compared on lookup. */
  private readonly conns = new Map<number, TcpConn[]>();
  private readonly listeners = new Map<number, TcpListener[]>();
  private readonly timers = new TimerHeap<TcpConn>();
  /** The connections in TIME-WAIT, oldest first (a Set keeps insertion order). */
  private readonly timeWait = new Set<TcpConn>();
  private readonly pending: EventSource[] = [];
  private flushing = false;
  private readonly due: TcpConn[] = [];
  private readonly portBytes = new Uint8Array(2);
  private readonly resetBuf = tcpRepr();

  constructor(options: TcpLayerConfig) {
    this.lower = options.lower;
    this.random = options.random;
    this.now = options.now;
    this.config = { ...DEFAULT_TCP_CONFIG, ...options.config };
    let shift = 0;
    while (this.config.rcvBuf >>> shift > 0xffff && shift < 14) shift++;
    this.rcvShiftWanted = shift;
    this.isns = new IsnGenerator(this.random);
    this.nowMs = this.now();
  }

  /** A copy of the counters. */
  stats(): TcpStats {
    return { ...this.counters };
  }

  // ───────────── TcpLayerApi ─────────────

  input(src: Ipv4Addr, dst: Ipv4Addr, segment: Uint8Array): void {
    this.nowMs = this.now();
    const counters = this.counters;
    counters.segmentsIn++;
    const packet = TcpPacket.checked(segment);
    if (typeof packet === 'string') {
      counters.malformed++;
      return;
    }
    const r = parseTcp(packet, src, dst, this.rxRepr);
    if (typeof r === 'string') {
      if (r === 'bad-checksum') counters.checksumErrors++;
      else counters.malformed++;
      return;
    }
    if (r.srcPort === 0 || r.dstPort === 0 || !this.lower.isLocalAddr(dst)) {
      counters.dropped++;
      return;
    }
    const conn = this.find(dst, r.dstPort, src, r.srcPort);
    if (conn) {
      const listener = conn.st === TIME_WAIT && (r.flags & (TCP_SYN | TCP_ACK_FLAG | TCP_RST)) === TCP_SYN && seqGt(r.seq, conn.rcvNxt)
        ? this.findListener(dst, r.dstPort) : undefined;
      if (listener) {
        const iss = seqAdd(conn.sndNxt, REOPEN_ISN_GAP);
        conn.terminate(undefined);
        this.listenInput(listener, src, dst, iss);
      } else {
        conn.input(r);
      }
    } else {
      const listener = this.findListener(dst, r.dstPort);
      if (listener) this.listenInput(listener, src, dst, undefined);
      else this.closedInput(src, dst);
    }
    this.flushEvents();
  }

  listen(local: TcpEndpoint, backlog?: number): TcpListener {
    this.nowMs = this.now();
    if (!isPort(local.port, true)) throw new NetError('EINVAL', `port ${local.port} is not 0–65535`);
    if (local.addr !== 0 && !this.lower.isLocalAddr(local.addr)) throw new NetError('EADDRNOTAVAIL', 'not a local address');
    const n = backlog ?? this.config.defaultBacklog;
    if (!Number.isInteger(n) || n < 0) throw new NetError('EINVAL', `backlog ${n} is not a non-negative integer`);
    let port = local.port;
    if (port === 0) {
      port = this.pickPort((p) => !this.listenerConflict(local.addr, p));
      if (port === 0) throw new NetError('EADDRINUSE', 'no free port');
    } else if (this.listenerConflict(local.addr, port)) {
      throw new NetError('EADDRINUSE', `port ${port} is already listened on`);
    }
    const listener = new TcpListener(this, { addr: local.addr, port }, Math.max(1, n), this.config.synBacklog);
    let list = this.listeners.get(port);
    if (!list) this.listeners.set(port, (list = []));
    list.push(listener);
    return listener;
  }

  connect(localAddr: Ipv4Addr, remote: TcpEndpoint): TcpConn {
    this.nowMs = this.now();
    if (!isPort(remote.port, false) || remote.addr === 0) throw new NetError('EINVAL', 'the remote address or port is 0 or out of range');
    if (!this.lower.isLocalAddr(localAddr)) throw new NetError('EADDRNOTAVAIL', 'not a local address');
    const port = this.pickPort((p) => !this.find(localAddr, p, remote.addr, remote.port) && !this.findListener(localAddr, p));
    if (port === 0) throw new NetError('EADDRNOTAVAIL', 'every ephemeral port is in use towards that address');
    const conn = new TcpConn(this, localAddr, port, remote.addr, remote.port);
    this.addConn(conn);
    conn.activeOpen(this.isns.isn(localAddr, port, remote.addr, remote.port, this.nowMs));
    return conn;
  }

  poll(): void {
    const now = (this.nowMs = this.now());
    const due = this.due;
    this.timers.takeDue(now, due);
    if (due.length === 0) return;
    for (let i = 0; i < due.length; i++) due[i]!.onTimers();
    due.length = 0;
    this.flushEvents();
  }

  nextDeadline(): number | undefined {
    const at = this.timers.peek();
    return at === Infinity ? undefined : at;
  }

  // ───────────── ConnHost / ListenerHost ─────────────

  enter(): void {
    this.nowMs = this.now();
  }

  leave(): void {
    this.flushEvents();
  }

  schedule(conn: TcpConn, atMs: number): void {
    this.timers.schedule(conn, atMs);
  }

  queueEvents(target: EventSource): void {
    this.pending.push(target);
  }

  enteredTimeWait(conn: TcpConn): void {
    const tw = this.timeWait;
    tw.add(conn);
    const max = Math.max(1, this.config.timeWaitMax); // the newest always gets its TIME-WAIT (it is still ACKing the FIN)
    while (tw.size > max) {
      const oldest = tw.values().next().value as TcpConn;
      tw.delete(oldest);
      this.counters.timeWaitEvicted++;
      oldest.terminate(undefined);
    }
  }

  /** How many connections are in TIME-WAIT now. */
  get timeWaitCount(): number {
    return this.timeWait.size;
  }

  removeConn(conn: TcpConn): void {
    this.timeWait.delete(conn);
    const key = conn.local.port * 65536 + conn.remote.port;
    const list = this.conns.get(key);
    if (!list) return;
    const i = list.indexOf(conn);
    if (i < 0) return;
    if (list.length === 1) this.conns.delete(key);
    else list.splice(i, 1);
  }

  removeListener(listener: TcpListener): void {
    const list = this.listeners.get(listener.local.port);
    if (!list) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.listeners.delete(listener.local.port);
  }

  sendReset(localAddr: number, localPort: number, remoteAddr: number, remotePort: number, seq: number, ack: number, withAck: boolean): void {
    const r = this.resetBuf;
    r.srcPort = localPort;
    r.dstPort = remotePort;
    r.seq = seq;
    r.ack = withAck ? ack : 0;
    r.flags = TCP_RST | (withAck ? TCP_ACK_FLAG : 0);
    const segment = new Uint8Array(20);
    emitTcpHeader(r, 0, segment, localAddr, remoteAddr);
    this.counters.resetsOut++;
    this.counters.segmentsOut++;
    this.lower.sendSegment(localAddr, remoteAddr, segment);
  }

  // ───────────── internals ─────────────

  /** Runs the queued socket and listener events; callbacks may queue more, which run too. */
  private flushEvents(): void {
    if (this.flushing) return;
    this.flushing = true;
    let failure: unknown;
    let failed = false;
    const pending = this.pending;
    for (let i = 0; i < pending.length; i++) {
      try {
        pending[i]!.deliverEvents();
      } catch (e) {
        if (!failed) {
          failed = true;
          failure = e;
        }
      }
    }
    pending.length = 0;
    this.flushing = false;
    if (failed) throw failure;
  }

  /** §3.10.7.2: a segment for a listener (rxRepr holds it). */
  private listenInput(listener: TcpListener, src: number, dst: number, iss: number | undefined): void {
    const r = this.rxRepr;
    if (r.flags & TCP_RST) {
      this.counters.dropped++;
    } else if (r.flags & TCP_ACK_FLAG) {
      this.sendReset(dst, r.dstPort, src, r.srcPort, r.ack, 0, false);
    } else if (!(r.flags & TCP_SYN) || !listener.makeRoom()) {
      this.counters.dropped++;
    } else {
      const conn = new TcpConn(this, dst, r.dstPort, src, r.srcPort);
      this.addConn(conn);
      listener.track(conn);
      conn.passiveOpen(r, listener, iss ?? this.isns.isn(dst, r.dstPort, src, r.srcPort, this.nowMs));
    }
  }

  /** §3.10.7.1: no connection and no listener. */
  private closedInput(src: number, dst: number): void {
    const r = this.rxRepr;
    if (r.flags & TCP_RST) {
      this.counters.dropped++;
    } else if (r.flags & TCP_ACK_FLAG) {
      this.sendReset(dst, r.dstPort, src, r.srcPort, r.ack, 0, false);
    } else {
      const len = r.payload.length + (r.flags & TCP_SYN ? 1 : 0) + (r.flags & TCP_FIN ? 1 : 0);
      this.sendReset(dst, r.dstPort, src, r.srcPort, 0, seqAdd(r.seq, len), true);
    }
  }

  private find(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): TcpConn | undefined {
    const list = this.conns.get(localPort * 65536 + remotePort);
    if (!list) return undefined;
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      if (c.local.addr === localAddr && c.remote.addr === remoteAddr) return c;
    }
    return undefined;
  }

  private findListener(localAddr: number, port: number): TcpListener | undefined {
    const list = this.listeners.get(port);
    if (!list) return undefined;
    let any: TcpListener | undefined;
    for (const l of list) {
      if (l.local.addr === localAddr) return l;
      if (l.local.addr === 0) any = l;
    }
    return any;
  }

  private listenerConflict(addr: number, port: number): boolean {
    const list = this.listeners.get(port);
    return !!list && list.some((l) => l.local.addr === 0 || addr === 0 || l.local.addr === addr);
  }

  private addConn(conn: TcpConn): void {
    const key = conn.local.port * 65536 + conn.remote.port;
    const list = this.conns.get(key);
    if (list) list.push(conn);
    else this.conns.set(key, [conn]);
  }

  /** RFC 6056 algorithm 1: a random start in the ephemeral range, then the first port `free` accepts; 0 if none. */
  private pickPort(free: (port: number) => boolean): number {
    this.random(this.portBytes);
    const start = ((this.portBytes[0]! << 8) | this.portBytes[1]!) % EPHEMERAL_COUNT;
    for (let i = 0; i < EPHEMERAL_COUNT; i++) {
      const port = EPHEMERAL_FIRST + ((start + i) % EPHEMERAL_COUNT);
      if (free(port)) return port;
    }
    return 0;
  }
}

function isPort(p: number, zeroOk: boolean): boolean {
  return Number.isInteger(p) && p <= 0xffff && (zeroOk ? p >= 0 : p > 0);
}
