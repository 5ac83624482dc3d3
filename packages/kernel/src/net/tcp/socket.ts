// One TCP connection: its transmission control block and the RFC 9293 state machine (§3.3.2,
// segment arrival §3.10.7), with RFC 5961 acceptance checks, RFC 6298 retransmission, RFC
// 5681/6582 congestion control, the persist timer, delayed ACKs, Nagle, keep-alive and
// TIME-WAIT. Sans-IO: time is host.nowMs (set by the layer from the injected clock at each
// entry point), and every segment leaves through host.lower.sendSegment. Events for the owner
// are collected as bits and delivered by the layer once the call that caused them is done.
//
// Send side: sndRing holds the bytes from sndBufSeq (the oldest unacknowledged data byte) on;
// a FIN queued by closeWrite sits at finSeq = the sequence number after the last byte.
// sndMax is the highest sequence number sent (+1); sndNxt falls back to sndUna on a
// retransmission timeout (go-back-N), and a zero-window probe byte is sent without moving it.
// Receive side: rcvRing holds in-order unread bytes; out-of-order bytes are written past its
// end at their final offsets and tracked by the Assembler until the gap before them fills.

import {
  TCP_ACK_FLAG, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, emitTcpHeader, tcpHeaderLen, type TcpRepr,
} from '@kiln/common/wire/tcp.ts';
import { NetError, type TcpEndpoint, type TcpLower, type TcpSocket, type TcpSocketEvents, type TcpState } from '../types.ts';
import { Assembler } from './assembler.ts';
import type { TcpConfig, TcpStats } from './config.ts';
import { NewReno } from './congestion.ts';
import { ByteRing } from './ring.ts';
import { RttEstimator } from './rtt.ts';
import { seqAdd, seqGe, seqGt, seqLe, seqLt, seqMax, seqSub } from './seq.ts';
import type { Scheduled } from './timers.ts';

/** What a connection needs from the layer that owns it. */
export interface ConnHost {
  readonly config: TcpConfig;
  readonly counters: TcpStats;
  readonly lower: TcpLower;
  /** The injected clock, read once per entry point. */
  readonly nowMs: number;
  /** A scratch repr for building outgoing segments. */
  readonly txRepr: TcpRepr;
  /** Window-scale shift that makes config.rcvBuf fit in 16 bits. */
  readonly rcvShiftWanted: number;
  queueEvents(target: EventSource): void;
  /** Wake `conn` (onTimers) at `atMs` or earlier. */
  schedule(conn: TcpConn, atMs: number): void;
  removeConn(conn: TcpConn): void;
  /** `conn` entered TIME-WAIT (the layer bounds how many wait). */
  enteredTimeWait(conn: TcpConn): void;
  sendReset(localAddr: number, localPort: number, remoteAddr: number, remotePort: number, seq: number, ack: number, withAck: boolean): void;
  /** A socket call from the owner begins (refreshes the clock)… */
  enter(): void;
  /** …and ends (delivers the events it caused). */
  leave(): void;
}

/** Something with events to deliver (a connection or a listener). */
export interface EventSource {
  eventsQueued: boolean;
  deliverEvents(): void;
}

/** What a passive connection reports to its listener. */
export interface ConnParent {
  /** The handshake completed: true if the accept queue took the connection. */
  admit(conn: TcpConn): boolean;
  /** The connection died before accept(). */
  forget(conn: TcpConn): void;
  /** Too many half-open connections: SYN-ACKs get config.synAckRetriesUnderPressure retransmissions. */
  readonly underPressure: boolean;
}

// Connection states (RFC 9293 §3.3.2), numbered so "synchronized" is a range check.
export const CLOSED = 0;
export const SYN_SENT = 1;
export const SYN_RECEIVED = 2;
export const ESTABLISHED = 3;
export const FIN_WAIT_1 = 4;
export const FIN_WAIT_2 = 5;
export const CLOSE_WAIT = 6;
export const CLOSING = 7;
export const LAST_ACK = 8;
export const TIME_WAIT = 9;
const STATE_NAMES: readonly TcpState[] = [
  'CLOSED', 'SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT',
];

const EV_CONNECTED = 1;
const EV_READABLE = 2;
const EV_WRITABLE = 4;
const EV_CLOSED = 8;

const NEVER = Infinity;
const EMPTY = new Uint8Array(0);
/** The buffer of a connection that is done with one: holds nothing, takes nothing. */
const NO_BUFFER = new ByteRing(0);
/** RFC 9293 §3.7.1: the MSS to assume when the peer sends no option. */
const DEFAULT_MSS = 536;
/** Smallest send MSS we accept from a peer's option (Linux's TCP_MIN_MSS): bounds segments per byte. */
const MIN_SND_MSS = 88;

export class TcpConn implements TcpSocket, EventSource, Scheduled {
  events: TcpSocketEvents = {};
  readonly local: TcpEndpoint;
  readonly remote: TcpEndpoint;
  st = CLOSED;
  /** Set while a passive connection waits in its listener's queues. */
  parent: ConnParent | undefined;

  // Send sequence space (RFC 9293 §3.3.1) and buffer.
  private iss = 0;
  private sndUna = 0;
  sndNxt = 0;
  private sndMax = 0;
  private sndWnd = 0;
  private maxSndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private sndShift = 0;
  private peerOfferedScale = false;
  private sndMss = DEFAULT_MSS;
  private sndBufSeq = 0;
  private sndRing: ByteRing;
  private finQueued = false;
  private finSeq = 0;

  // Receive sequence space and buffer.
  private irs = 0;
  rcvNxt = 0;
  /** RCV.NXT + the window last advertised: never moves left. */
  private rcvAdvEdge = 0;
  private rcvShift: number;
  private readonly rcvMss: number;
  private rcvRing: ByteRing;
  private readonly asm = new Assembler();
  private peerFin = false;
  private peerFinSeq = 0;
  private eof = false;
  /** close() was called: arriving data is acknowledged and discarded. */
  private rcvClosed = false;

  // Timers (absolute times, NEVER when off).
  private rtoAt = NEVER;
  private persistAt = NEVER;
  private ackAt = NEVER;
  private keepAt = NEVER;
  /** TIME-WAIT expiry, or the FIN-WAIT-2 limit of an orphaned connection. */
  private waitAt = NEVER;

  private retries = 0;
  private persistProbes = 0;
  private persistBackoff = 0;
  private keepIdleMs = 0;
  private keepProbes = 0;
  private lastRecvAt: number;
  private lastChallengeAt = -NEVER;
  private readonly rtt: RttEstimator;
  private readonly cc = new NewReno();
  private timing = false;
  private rttSeq = 0;
  private rttStart = 0;
  private synRetransmitted = false;
  /** A SYN-ACK retransmission found the listener under pressure (config.synAckRetriesUnderPressure). */
  private pressured = false;
  private ackNow = false;
  private segsUnacked = 0;
  private forceSend = false;
  private noDelay = false;
  private wantWritable = false;

  private pendingEvents = 0;
  private closedDelivered = false;
  private error: NetError | undefined;
  eventsQueued = false;
  scheduledAt = NEVER;

  constructor(private readonly host: ConnHost, localAddr: number, localPort: number, remoteAddr: number, remotePort: number) {
    const c = host.config;
    this.local = { addr: localAddr, port: localPort };
    this.remote = { addr: remoteAddr, port: remotePort };
    this.rcvShift = host.rcvShiftWanted;
    // Slack of one scale unit: a window rounded up to the scale never points past the ring.
    this.rcvRing = new ByteRing(c.rcvBuf + (1 << host.rcvShiftWanted));
    this.sndRing = new ByteRing(c.sndBuf);
    this.rcvMss = Math.max(MIN_SND_MSS, Math.min(0xffff, host.lower.mssFor(remoteAddr)));
    this.rtt = new RttEstimator(c.rtoInitialMs, c.rtoMinMs, c.rtoMaxMs);
    this.lastRecvAt = host.nowMs;
  }

  // ───────────── TcpSocket ─────────────

  get state(): TcpState {
    return STATE_NAMES[this.st]!;
  }

  get sendRoom(): number {
    return this.st === CLOSED || this.finQueued ? 0 : this.sndRing.room;
  }

  read(into: Uint8Array): number {
    this.host.enter();
    const n = this.rcvRing.read(into);
    if (this.rcvRing.length === 0 && this.asm.isEmpty) this.rcvRing.clear(); // next bytes land contiguous
    if (n > 0 && this.st >= ESTABLISHED && this.st <= FIN_WAIT_2) {
      // Window update when the window had closed to half or less and reading opened it by an MSS.
      const cur = seqSub(this.rcvAdvEdge, this.rcvNxt);
      const buf = this.host.config.rcvBuf;
      if (cur <= buf >> 1 && buf - this.rcvRing.length - cur >= Math.min(buf >> 1, this.rcvMss)) {
        this.ackNow = true;
        this.output();
      }
    }
    this.settle();
    this.host.leave();
    if (n === 0 && this.rcvRing.length === 0 && (this.eof || this.st === CLOSED)) return -1;
    return n;
  }

  write(bytes: Uint8Array): number {
    if (this.error) throw new NetError(this.error.code, 'the connection is gone');
    if (this.finQueued || this.st === CLOSED) throw new NetError('EPIPE', 'write after the connection was closed for writing');
    this.host.enter();
    const n = this.sndRing.append(bytes);
    if (n < bytes.length) this.wantWritable = true;
    if (n > 0) this.output();
    this.settle();
    this.host.leave();
    return n;
  }

  closeWrite(): void {
    if (this.finQueued || this.st === CLOSED) return;
    this.host.enter();
    this.queueFin();
    this.output();
    this.settle();
    this.host.leave();
  }

  close(): void {
    if (this.st === CLOSED) return;
    this.host.enter();
    this.rcvClosed = true;
    this.rcvRing.clear();
    this.asm.clear();
    if (this.st === SYN_SENT) {
      this.terminate(undefined);
    } else {
      if (!this.finQueued) this.queueFin();
      if (this.st === FIN_WAIT_2) this.waitAt = this.host.nowMs + this.host.config.finWait2TimeoutMs;
      this.output();
    }
    this.settle();
    this.host.leave();
  }

  abort(): void {
    if (this.st === CLOSED) return;
    this.host.enter();
    if (this.st !== SYN_SENT && this.st !== TIME_WAIT) this.sendRst();
    this.rcvRing.clear();
    this.terminate(undefined);
    this.settle();
    this.host.leave();
  }

  setKeepAlive(enabled: boolean, idleMs?: number): void {
    this.host.enter();
    this.keepIdleMs = enabled ? Math.max(1, idleMs ?? this.host.config.keepAliveIdleMs) : 0;
    this.keepProbes = 0;
    this.keepAt = enabled && this.st !== CLOSED ? this.lastRecvAt + this.keepIdleMs : NEVER;
    this.settle();
    this.host.leave();
  }

  setNoDelay(noDelay: boolean): void {
    this.host.enter();
    this.noDelay = noDelay;
    if (noDelay) this.output();
    this.settle();
    this.host.leave();
  }

  // ───────────── opening ─────────────

  /** Active open (RFC 9293 §3.10.1): send SYN, enter SYN-SENT. */
  activeOpen(iss: number): void {
    this.initSend(iss);
    this.st = SYN_SENT;
    this.host.counters.activeOpens++;
    this.sendSyn(false);
    this.settle();
  }

  /** A SYN arrived at a listener (§3.10.7.2): reply SYN-ACK, enter SYN-RECEIVED. */
  passiveOpen(r: TcpRepr, parent: ConnParent, iss: number): void {
    this.parent = parent;
    this.initSend(iss);
    this.learnSyn(r);
    this.st = SYN_RECEIVED;
    this.host.counters.passiveOpens++;
    this.sendSyn(true);
    this.settle();
  }

  private initSend(iss: number): void {
    this.iss = iss;
    this.sndUna = iss;
    this.sndNxt = seqAdd(iss, 1);
    this.sndMax = this.sndNxt;
    this.sndBufSeq = this.sndNxt;
    this.rtoAt = this.host.nowMs + this.rtt.rto;
    this.timing = true;
    this.rttSeq = this.sndNxt;
    this.rttStart = this.host.nowMs;
  }

  /** The peer's SYN: its ISN, MSS and window-scale options, its (never scaled) window. */
  private learnSyn(r: TcpRepr): void {
    this.irs = r.seq;
    this.rcvNxt = seqAdd(r.seq, 1);
    const peerMss = r.mss === 0 ? DEFAULT_MSS : r.mss;
    this.sndMss = Math.max(MIN_SND_MSS, Math.min(peerMss, this.host.lower.mssFor(this.remote.addr)));
    this.peerOfferedScale = r.windowScale >= 0;
    if (this.peerOfferedScale) {
      this.sndShift = r.windowScale;
    } else {
      this.sndShift = 0;
      this.rcvShift = 0;
    }
    this.rcvAdvEdge = seqAdd(this.rcvNxt, Math.min(this.host.config.rcvBuf, 0xffff));
    this.sndWnd = r.window;
    this.maxSndWnd = r.window;
    this.sndWl1 = r.seq;
  }

  /** The handshake completed: ESTABLISHED, or FIN-WAIT-1 if closeWrite() came first. */
  private establish(): void {
    this.st = this.finQueued ? FIN_WAIT_1 : ESTABLISHED;
    this.cc.start(this.sndMss, this.iss, this.synRetransmitted);
    if (this.synRetransmitted) this.rtt.restart(this.host.config.rtoAfterSynTimeoutMs); // RFC 6298 §5.7
    this.retries = 0;
    this.rtoAt = NEVER;
    this.lastRecvAt = this.host.nowMs;
    if (this.keepIdleMs > 0) this.keepAt = this.lastRecvAt + this.keepIdleMs;
  }

  // ───────────── segment arrival (RFC 9293 §3.10.7) ─────────────

  /** A segment for this connection's 4-tuple (already parsed and checksummed). */
  input(r: TcpRepr): void {
    const now = this.host.nowMs;
    this.lastRecvAt = now;
    if (this.keepProbes > 0) {
      this.keepProbes = 0;
      this.keepAt = now + this.keepIdleMs;
    }
    if (this.st === SYN_SENT) this.inputSynSent(r);
    else this.inputSynchronized(r);
    this.output();
    this.settle();
  }

  /** §3.10.7.3. */
  private inputSynSent(r: TcpRepr): void {
    const f = r.flags;
    if (f & TCP_ACK_FLAG) {
      if (seqLe(r.ack, this.iss) || seqGt(r.ack, this.sndNxt)) {
        if (!(f & TCP_RST)) this.host.sendReset(this.local.addr, this.local.port, this.remote.addr, this.remote.port, r.ack, 0, false);
        this.host.counters.dropped++;
        return;
      }
    }
    if (f & TCP_RST) {
      if (f & TCP_ACK_FLAG) {
        this.host.counters.resetsIn++;
        this.terminate(new NetError('ECONNREFUSED', `${fmtEndpoint(this.remote)} refused the connection`));
      } else {
        this.host.counters.dropped++;
      }
      return;
    }
    if (!(f & TCP_SYN)) {
      this.host.counters.dropped++;
      return;
    }
    this.learnSyn(r);
    if (f & TCP_ACK_FLAG) {
      this.sndUna = r.ack;
      this.sndWl2 = r.ack;
      if (this.timing) this.sampleRtt();
      this.establish();
      this.ackNow = true;
      this.queueEvent(EV_CONNECTED);
    } else {
      this.st = SYN_RECEIVED; // simultaneous open (§3.5 figure 8)
      this.timing = false;
      this.sendSyn(true);
    }
  }

  /** SYN-RECEIVED and every synchronized state (§3.10.7.4). */
  private inputSynchronized(r: TcpRepr): void {
    const f = r.flags;
    const counters = this.host.counters;
    let seq = r.seq;
    let payload = r.payload;
    let fin = (f & TCP_FIN) !== 0;
    let syn = (f & TCP_SYN) !== 0;

    if (syn && this.st === SYN_RECEIVED && seq === this.irs && !(f & TCP_RST)) {
      if (!(f & TCP_ACK_FLAG)) {
        this.sendSyn(true); // the peer did not get our SYN-ACK: it retransmitted its SYN
        return;
      }
      syn = false; // simultaneous open: the peer's SYN-ACK; its SYN is known already
      seq = seqAdd(seq, 1);
    }
    if (syn && !(f & TCP_RST)) {
      this.challengeAck(); // RFC 5961 §4.2: a SYN in a synchronized state, whatever its sequence number
      return;
    }

    // First: is the sequence number acceptable (§3.10.7.4 table)?
    const wnd = Math.max(0, seqSub(this.rcvAdvEdge, this.rcvNxt));
    const segLen = payload.length + (fin ? 1 : 0);
    const rcvNxt = this.rcvNxt;
    let acceptable: boolean;
    let ackOnly = false;
    if (segLen === 0) {
      acceptable = wnd === 0 ? seq === rcvNxt : seqGe(seq, rcvNxt) && seqLt(seq, seqAdd(rcvNxt, wnd));
    } else if (wnd === 0 && payload.length === 0) {
      acceptable = seq === rcvNxt; // a bare FIN takes no buffer: accepted at a zero window, as Linux does
    } else {
      const last = seqAdd(seq, segLen - 1);
      acceptable = wnd > 0 && (
        (seqGe(seq, rcvNxt) && seqLt(seq, seqAdd(rcvNxt, wnd))) || (seqGe(last, rcvNxt) && seqLt(last, seqAdd(rcvNxt, wnd))));
    }
    if (!acceptable) {
      if (f & TCP_RST) {
        counters.dropped++;
        return;
      }
      this.ackNow = true;
      if (this.st === TIME_WAIT && fin) this.waitAt = this.host.nowMs + 2 * this.host.config.mslMs;
      // Its ACK and window still count (§3.10.7.4: "special allowance should be made to accept
      // valid ACKs"), as far as the buffer reaches from RCV.NXT either way: under a zero window;
      // a pure ACK at the window's right edge (sent after data that fills it, and overtaking it —
      // Linux's tcp_sequence takes SEG.SEQ = RCV.NXT + RCV.WND); a retransmission below RCV.NXT; a
      // segment past the window (the peer sent segments we dropped). Its text is dropped and the
      // ACK we owe says where we are; SEG.ACK is checked as for any segment, and a blind one from
      // further out is dropped (as is any in SYN-RECEIVED: the handshake's ACK is at RCV.NXT).
      if (!((f & TCP_ACK_FLAG) && this.st !== SYN_RECEIVED && Math.abs(seqSub(seq, rcvNxt)) <= this.host.config.rcvBuf)) {
        counters.dropped++;
        return;
      }
      payload = EMPTY;
      fin = false;
      ackOnly = true;
    }

    // Second: RST (RFC 5961 §3.2: only an exact match resets, others in the window are challenged).
    // RFC 1337: TIME-WAIT ignores RSTs, so an old duplicate cannot end it early ("assassination").
    if (f & TCP_RST) {
      if (this.st === TIME_WAIT) {
        counters.dropped++;
        return;
      }
      if (seq !== rcvNxt) {
        this.challengeAck();
        return;
      }
      counters.resetsIn++;
      this.resetByPeer();
      return;
    }

    // Trim to the window: drop what was received already and what lies past the right edge
    // (an ACK-only segment keeps its SEG.SEQ, so an old one cannot pass for the newest window).
    if (!ackOnly && seqLt(seq, rcvNxt)) {
      const cut = seqSub(rcvNxt, seq);
      if (cut > payload.length) fin = false; // that FIN was received before
      payload = cut >= payload.length ? EMPTY : payload.subarray(cut);
      seq = rcvNxt;
    }
    const room = seqSub(this.rcvAdvEdge, seq);
    if (payload.length > room) {
      payload = payload.subarray(0, Math.max(0, room));
      fin = false;
    }

    // Fifth: the ACK field.
    if (!(f & TCP_ACK_FLAG)) {
      counters.dropped++;
      return;
    }
    if (this.st === SYN_RECEIVED) {
      if (!(seqGt(r.ack, this.sndUna) && seqLe(r.ack, this.sndMax))) {
        this.host.sendReset(this.local.addr, this.local.port, this.remote.addr, this.remote.port, r.ack, 0, false);
        return;
      }
      if (this.parent && !this.parent.admit(this)) {
        counters.dropped++; // accept queue full: stay half-open, our SYN-ACK retransmission asks again
        return;
      }
      this.sndUna = r.ack;
      if (this.timing && !this.synRetransmitted) this.sampleRtt();
      this.timing = false;
      this.sndWnd = r.window << this.sndShift;
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = seq;
      this.sndWl2 = r.ack;
      this.establish();
      if (!this.parent) this.queueEvent(EV_CONNECTED);
    } else {
      // RFC 5961 §5.2: SND.UNA - MAX.SND.WND ≤ SEG.ACK ≤ SND.NXT (our sndMax).
      if (seqGt(r.ack, this.sndMax)) {
        this.ackNow = true;
        counters.dropped++;
        return;
      }
      if (seqSub(this.sndUna, r.ack) > this.maxSndWnd) {
        this.challengeAck();
        return;
      }
      this.processAck(r, seq, r.payload.length === 0 && !(f & TCP_FIN)); // pure: as sent (a duplicate ACK counts only then)
      if (this.st === CLOSED) return;
    }

    // Seventh: segment text.
    if (payload.length > 0) {
      if (this.st === ESTABLISHED || this.st === FIN_WAIT_1 || this.st === FIN_WAIT_2) this.receiveData(seq, payload);
      else counters.dropped++; // the peer's FIN came before: nothing after it is data
    }

    // Eighth: FIN (also one that arrived ahead of missing data, once the gap fills).
    if (fin && this.st >= ESTABLISHED && this.st <= FIN_WAIT_2) {
      this.peerFin = true;
      this.peerFinSeq = seqAdd(seq, payload.length);
    }
    if (this.peerFin && !this.eof && this.rcvNxt === this.peerFinSeq) this.receiveFin();
  }

  /** An acceptable ACK in a synchronized state: advance SND.UNA, time, congestion, window. */
  private processAck(r: TcpRepr, seq: number, pure: boolean): void {
    const ack = r.ack;
    const mss = this.sndMss;
    const now = this.host.nowMs;
    this.persistProbes = 0;
    if (seqGt(ack, this.sndUna)) {
      const acked = seqSub(ack, this.sndUna);
      if (seqGt(ack, this.sndBufSeq)) {
        const n = Math.min(seqSub(ack, this.sndBufSeq), this.sndRing.length);
        if (n > 0) {
          this.sndRing.discard(n);
          this.sndBufSeq = seqAdd(this.sndBufSeq, n);
          if (this.wantWritable && !this.finQueued) {
            this.wantWritable = false;
            this.queueEvent(EV_WRITABLE);
          }
        }
      }
      if (this.timing && seqGe(ack, this.rttSeq)) this.sampleRtt();
      this.sndUna = ack;
      if (seqGt(ack, this.sndNxt)) this.sndNxt = ack;
      this.retries = 0;
      const partial = this.cc.onNewAck(mss, acked, ack, seqSub(this.sndMax, ack));
      this.rtoAt = ack === this.sndMax ? NEVER : now + this.rtt.rto; // RFC 6298 §5.2, §5.3
      if (partial) this.retransmitFirst();
    } else if (
      ack === this.sndUna && pure && this.sndNxt !== this.sndUna && (r.window << this.sndShift) === this.sndWnd
    ) {
      if (this.cc.onDupAck(mss, ack, seqSub(this.sndMax, this.sndUna), this.sndMax)) this.retransmitFirst();
    }
    // Window update, from the newest segment only (SND.WL1/WL2).
    if (seqLt(this.sndWl1, seq) || (this.sndWl1 === seq && seqLe(this.sndWl2, ack))) {
      this.sndWnd = r.window << this.sndShift;
      if (this.sndWnd > this.maxSndWnd) this.maxSndWnd = this.sndWnd;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
    }
    if (this.finQueued && seqGt(this.sndUna, this.finSeq)) {
      if (this.st === FIN_WAIT_1) {
        this.st = FIN_WAIT_2;
        if (this.rcvClosed) this.waitAt = now + this.host.config.finWait2TimeoutMs;
      } else if (this.st === CLOSING) {
        this.enterTimeWait();
      } else if (this.st === LAST_ACK) {
        this.terminate(undefined);
      }
    }
  }

  private sampleRtt(): void {
    this.rtt.sample(this.host.nowMs - this.rttStart);
    this.timing = false;
  }

  private receiveData(seq: number, payload: Uint8Array): void {
    if (this.rcvClosed) {
      // close() was called: act as a sink for in-order bytes so the peer can finish.
      if (seq === this.rcvNxt) {
        this.rcvNxt = seqAdd(this.rcvNxt, payload.length);
        this.scheduleAck();
      } else {
        this.ackNow = true;
      }
      return;
    }
    const offset = seqSub(seq, this.rcvNxt);
    if (offset > 0) {
      const end = seqAdd(seq, payload.length);
      if (!this.asm.contains(seq, end) && this.asm.add(seq, end)) this.rcvRing.writeAt(this.rcvRing.length + offset, payload);
      this.ackNow = true; // a duplicate ACK tells the sender about the gap (RFC 5681 §4.2)
      return;
    }
    this.rcvRing.writeAt(this.rcvRing.length, payload);
    let next = seqAdd(this.rcvNxt, payload.length);
    if (!this.asm.isEmpty) {
      next = this.asm.advance(next);
      this.ackNow = true; // filled (part of) a gap: ACK at once
    }
    this.rcvRing.commit(seqSub(next, this.rcvNxt));
    this.rcvNxt = next;
    this.queueEvent(EV_READABLE);
    this.scheduleAck();
  }

  /** Delayed ACK: at least every second segment, otherwise within delayedAckMs. */
  private scheduleAck(): void {
    if (++this.segsUnacked >= 2) this.ackNow = true;
    else if (this.ackAt === NEVER) this.ackAt = this.host.nowMs + this.host.config.delayedAckMs;
  }

  private receiveFin(): void {
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.eof = true;
    this.ackNow = true;
    this.queueEvent(EV_READABLE);
    switch (this.st) {
      case ESTABLISHED: this.st = CLOSE_WAIT; break;
      case FIN_WAIT_1: this.st = CLOSING; break; // simultaneous close: our FIN is not acked yet
      case FIN_WAIT_2: this.enterTimeWait(); break;
    }
  }

  private resetByPeer(): void {
    switch (this.st) {
      case SYN_RECEIVED:
        if (this.parent) this.terminate(undefined); // back to LISTEN: nobody was told about it
        else this.terminate(new NetError('ECONNREFUSED', `${fmtEndpoint(this.remote)} refused the connection`));
        break;
      case ESTABLISHED: case FIN_WAIT_1: case FIN_WAIT_2: case CLOSE_WAIT:
        this.terminate(new NetError('ECONNRESET', `${fmtEndpoint(this.remote)} reset the connection`));
        break;
      default: // CLOSING, LAST-ACK, TIME-WAIT: we were done anyway
        this.terminate(undefined);
    }
  }

  /** RFC 5961 §3.2/§4.2/§5.2 challenge ACK, at most one per challengeAckIntervalMs. */
  private challengeAck(): void {
    const now = this.host.nowMs;
    if (now - this.lastChallengeAt < this.host.config.challengeAckIntervalMs) {
      this.host.counters.dropped++;
      return;
    }
    this.lastChallengeAt = now;
    this.host.counters.challengeAcks++;
    this.transmit(TCP_ACK_FLAG, this.ackSeq(), 0);
  }

  // ───────────── closing ─────────────

  private queueFin(): void {
    this.finQueued = true;
    this.finSeq = seqAdd(this.sndBufSeq, this.sndRing.length);
    if (this.st === ESTABLISHED) this.st = FIN_WAIT_1;
    else if (this.st === CLOSE_WAIT) this.st = LAST_ACK;
    // SYN-SENT / SYN-RECEIVED: establish() enters FIN-WAIT-1.
  }

  private enterTimeWait(): void {
    this.st = TIME_WAIT;
    this.rtoAt = this.persistAt = this.keepAt = this.ackAt = NEVER;
    this.waitAt = this.host.nowMs + 2 * this.host.config.mslMs;
    this.releaseBuffers();
    this.notifyClosed(undefined);
    this.host.enteredTimeWait(this);
  }

  /** To CLOSED: forget the connection, tell the owner (once). */
  terminate(error: NetError | undefined): void {
    if (this.st === CLOSED) return;
    this.st = CLOSED;
    this.rtoAt = this.persistAt = this.keepAt = this.ackAt = this.waitAt = NEVER;
    this.ackNow = false;
    this.host.removeConn(this);
    if (this.parent) {
      this.parent.forget(this);
      this.parent = undefined;
    }
    this.releaseBuffers();
    this.notifyClosed(error);
  }

  /** Lets go of the send buffer, and of the receive buffer once nothing in it can be read. */
  private releaseBuffers(): void {
    this.sndRing = NO_BUFFER;
    if (this.rcvClosed || this.rcvRing.length === 0) this.rcvRing = NO_BUFFER;
    this.asm.clear();
  }

  private notifyClosed(error: NetError | undefined): void {
    if (error) this.error = error;
    this.queueEvent(EV_CLOSED);
  }

  /** RST for abort() and listener close(): <SEQ=ackSeq()><ACK=RCV.NXT><CTL=RST,ACK>. */
  sendRst(): void {
    this.host.sendReset(this.local.addr, this.local.port, this.remote.addr, this.remote.port, this.ackSeq(), this.rcvNxt, true);
  }

  // ───────────── timers ─────────────

  /** The earliest armed timer, NEVER if none. */
  deadline(): number {
    return Math.min(this.rtoAt, this.persistAt, this.ackAt, this.keepAt, this.waitAt);
  }

  /** Runs the timers that are due at host.nowMs. */
  onTimers(): void {
    const now = this.host.nowMs;
    if (this.st === CLOSED) return;
    if (this.waitAt <= now) {
      // TIME-WAIT is over (the owner was told at its start), or an orphaned FIN-WAIT-2 gave up on the peer's FIN.
      this.terminate(undefined);
      this.settle();
      return;
    }
    if (this.rtoAt <= now) this.onRetransmitTimeout();
    if (this.st !== CLOSED && this.persistAt <= now) this.onPersistTimeout();
    if (this.st !== CLOSED && this.keepAt <= now) this.onKeepAliveTimeout();
    if (this.ackAt <= now) {
      this.ackAt = NEVER;
      this.ackNow = true;
    }
    if (this.st !== CLOSED) this.output();
    this.settle();
  }

  /** RFC 6298 §5.4–5.7 and RFC 5681 §3.1: retransmit the earliest unacknowledged segment. */
  private onRetransmitTimeout(): void {
    const c = this.host.config;
    this.rtoAt = NEVER;
    this.timing = false; // Karn: nothing retransmitted is timed
    const handshake = this.st === SYN_SENT || this.st === SYN_RECEIVED;
    // A SYN-ACK that timed out while its listener was under pressure keeps the short limit.
    if (this.st === SYN_RECEIVED && this.parent?.underPressure) this.pressured = true;
    const limit = !handshake ? c.dataRetries : this.pressured ? c.synAckRetriesUnderPressure : c.synRetries;
    if (++this.retries > limit) {
      this.host.counters.timeouts++;
      if (this.st === SYN_RECEIVED && this.parent) this.terminate(undefined);
      else this.terminate(new NetError('ETIMEDOUT', `${fmtEndpoint(this.remote)} did not answer`));
      return;
    }
    this.rtt.backOff();
    if (handshake) {
      this.synRetransmitted = true;
      this.host.counters.retransmits++;
      this.sendSyn(this.st === SYN_RECEIVED);
      this.rtoAt = this.host.nowMs + this.rtt.rto;
      return;
    }
    this.cc.onTimeout(this.sndMss, seqSub(this.sndMax, this.sndUna), this.sndMax);
    this.sndNxt = this.sndUna; // go back N; output() resends from here within cwnd (one segment)
  }

  /** Zero-window probe (RFC 9293 §3.8.6.1), or a forced send of a window too small for SWS avoidance. */
  private onPersistTimeout(): void {
    const c = this.host.config;
    this.persistAt = NEVER;
    if (++this.persistProbes > c.dataRetries) {
      this.host.counters.timeouts++;
      this.terminate(new NetError('ETIMEDOUT', `${fmtEndpoint(this.remote)} stopped answering window probes`));
      return;
    }
    if (this.sndWnd === 0) {
      this.transmit(TCP_ACK_FLAG, this.sndUna, 1); // one byte past the window; sndNxt stays
      this.sndMax = seqMax(this.sndMax, seqAdd(this.sndUna, 1));
    } else {
      this.forceSend = true;
    }
    this.persistBackoff++;
    this.persistAt = this.host.nowMs + Math.min(c.rtoMaxMs, this.rtt.rto * 2 ** this.persistBackoff);
  }

  /** RFC 1122 §4.2.3.6 keep-alive: <SEQ=SND.UNA-1><ACK=RCV.NXT>, which the peer must answer. */
  private onKeepAliveTimeout(): void {
    const c = this.host.config;
    const now = this.host.nowMs;
    this.keepAt = NEVER;
    if (this.keepIdleMs === 0 || !(this.st === ESTABLISHED || this.st === CLOSE_WAIT || this.st === FIN_WAIT_2)) return;
    if (this.keepProbes === 0 && now - this.lastRecvAt < this.keepIdleMs) {
      this.keepAt = this.lastRecvAt + this.keepIdleMs;
      return;
    }
    if (this.keepProbes >= c.keepAliveProbes) {
      this.host.counters.timeouts++;
      this.terminate(new NetError('ETIMEDOUT', `${fmtEndpoint(this.remote)} stopped answering keep-alive probes`));
      return;
    }
    if (this.sndNxt !== this.sndUna || this.persistAt !== NEVER) {
      this.keepAt = now + this.keepIdleMs; // the retransmission or persist timer watches the peer
      return;
    }
    this.transmit(TCP_ACK_FLAG, seqAdd(this.sndUna, -1), 0);
    this.keepProbes++;
    this.keepAt = now + c.keepAliveIntervalMs;
  }

  // ───────────── output ─────────────

  /**
   * Sends what the windows, Nagle and SWS avoidance allow (RFC 9293 §3.8.6.2.1, RFC 1122
   * §4.2.3.4), the FIN once all data went out, a pending ACK if nothing carried it, and arms
   * the persist timer when data waits with nothing in flight.
   */
  private output(): void {
    const st = this.st;
    if (st === CLOSED || st === SYN_SENT) return;
    if (st === SYN_RECEIVED || st === TIME_WAIT) {
      if (this.ackNow) this.transmit(TCP_ACK_FLAG, this.ackSeq(), 0);
      return;
    }
    const now = this.host.nowMs;
    const mss = this.sndMss;
    const dataEnd = seqAdd(this.sndBufSeq, this.sndRing.length);
    let sent = false;
    for (;;) {
      const unsent = seqSub(dataEnd, this.sndNxt);
      const avail = unsent > 0 ? unsent : 0;
      const inFlight = seqSub(this.sndNxt, this.sndUna);
      const usable = Math.min(this.sndWnd, this.cc.cwnd) - inFlight;
      const len = Math.min(avail, mss, usable > 0 ? usable : 0);
      const fin = this.finQueued && len === avail && seqAdd(this.sndNxt, len) === this.finSeq;
      if (len === 0 && !fin) break;
      const resend = seqLt(this.sndNxt, this.sndMax);
      if (len < mss && !fin && !resend && !this.forceSend) {
        const all = len === avail;
        if (!((all && (inFlight === 0 || this.noDelay)) || len >= this.maxSndWnd >> 1)) break;
      }
      this.forceSend = false;
      const seq = this.sndNxt;
      this.transmit(TCP_ACK_FLAG | (fin ? TCP_FIN : 0) | (len > 0 && len === avail ? TCP_PSH : 0), seq, len);
      const next = seqAdd(seq, len + (fin ? 1 : 0));
      if (resend) {
        this.host.counters.retransmits++;
      } else if (!this.timing) {
        this.timing = true;
        this.rttSeq = next;
        this.rttStart = now;
      }
      this.sndNxt = next;
      if (seqGt(next, this.sndMax)) this.sndMax = next;
      if (this.rtoAt === NEVER) this.rtoAt = now + this.rtt.rto;
      sent = true;
    }
    this.forceSend = false;
    if (!sent && this.ackNow) this.transmit(TCP_ACK_FLAG, this.ackSeq(), 0);
    if (this.sndNxt === this.sndUna && seqGt(dataEnd, this.sndNxt)) {
      if (this.persistAt === NEVER) this.persistAt = now + this.rtt.rto;
    } else {
      this.persistAt = NEVER;
      this.persistBackoff = 0;
    }
  }

  /**
   * The sequence number of a segment without data: SND.NXT as RFC 9293 says, except that after
   * a go-back-N rollback the peer may already hold everything up to sndMax and would find an
   * older number unacceptable (dropping the ACK in it), and that past the peer's window it
   * would be unacceptable too; so the highest number sent, capped at the window's end (Linux's
   * tcp_acceptable_seq).
   */
  private ackSeq(): number {
    const windowEnd = seqAdd(this.sndUna, this.sndWnd);
    return seqLt(windowEnd, this.sndMax) ? windowEnd : this.sndMax;
  }

  /** Fast retransmit / partial ACK: resend the segment at SND.UNA now. */
  private retransmitFirst(): void {
    const dataEnd = seqAdd(this.sndBufSeq, this.sndRing.length);
    const len = Math.min(this.sndMss, Math.max(0, seqSub(dataEnd, this.sndUna)));
    const fin = this.finQueued && seqAdd(this.sndUna, len) === this.finSeq && seqGt(this.sndMax, this.finSeq);
    if (len === 0 && !fin) return;
    this.timing = false;
    this.host.counters.retransmits++;
    this.transmit(TCP_ACK_FLAG | (fin ? TCP_FIN : 0), this.sndUna, len);
    this.rtoAt = this.host.nowMs + this.rtt.rto;
  }

  /** SYN (active) or SYN-ACK (passive or simultaneous open) with our MSS and window-scale options. */
  private sendSyn(withAck: boolean): void {
    const r = this.host.txRepr;
    r.mss = this.rcvMss;
    // RFC 7323 §2.2: a SYN always offers scaling; a SYN-ACK only answers a SYN that offered it.
    r.windowScale = !withAck || this.peerOfferedScale ? this.rcvShift : -1;
    this.transmit(TCP_SYN | (withAck ? TCP_ACK_FLAG : 0), this.iss, 0);
  }

  /** Builds one segment (header + up to `len` bytes from the send ring at `seq`) and hands it to IP. */
  private transmit(flags: number, seq: number, len: number): void {
    const host = this.host;
    const r = host.txRepr;
    if (!(flags & TCP_SYN)) {
      r.mss = 0;
      r.windowScale = -1;
    }
    r.srcPort = this.local.port;
    r.dstPort = this.remote.port;
    r.seq = seq;
    r.flags = flags;
    r.urgent = 0;
    if (flags & TCP_ACK_FLAG) {
      r.ack = this.rcvNxt;
      r.window = flags & TCP_SYN ? Math.min(host.config.rcvBuf, 0xffff) : this.advertiseWindow();
      this.ackNow = false;
      this.segsUnacked = 0;
      this.ackAt = NEVER;
    } else {
      r.ack = 0;
      r.window = Math.min(host.config.rcvBuf, 0xffff); // a SYN's window is never scaled (RFC 7323 §2.2)
    }
    const headerLen = tcpHeaderLen(r);
    const segment = new Uint8Array(headerLen + len);
    if (len > 0) this.sndRing.copyOut(seqSub(seq, this.sndBufSeq), segment, headerLen, len);
    emitTcpHeader(r, len, segment, this.local.addr, this.remote.addr);
    host.counters.segmentsOut++;
    host.lower.sendSegment(this.local.addr, this.remote.addr, segment);
  }

  /**
   * The window field to send, moving the advertised right edge. Receiver SWS avoidance (RFC
   * 9293 §3.8.6.2.2): the edge only moves right by at least min(buffer/2, MSS); never left.
   */
  private advertiseWindow(): number {
    const buf = this.host.config.rcvBuf;
    const cur = Math.max(0, seqSub(this.rcvAdvEdge, this.rcvNxt));
    const free = buf - this.rcvRing.length;
    const wnd = free - cur >= Math.min(buf >> 1, this.rcvMss) ? free : cur;
    const shift = this.rcvShift;
    let field = (wnd + (1 << shift) - 1) >>> shift;
    if (field > 0xffff) field = 0xffff;
    this.rcvAdvEdge = seqMax(this.rcvAdvEdge, seqAdd(this.rcvNxt, field << shift));
    return field;
  }

  // ───────────── events ─────────────

  private queueEvent(bit: number): void {
    if (this.closedDelivered) return;
    this.pendingEvents |= bit;
  }

  /** After any change: schedule the next deadline and queue pending events with the layer. */
  private settle(): void {
    const at = this.deadline();
    if (at < this.scheduledAt) this.host.schedule(this, at);
    if (this.pendingEvents !== 0 && !this.eventsQueued) {
      this.eventsQueued = true;
      this.host.queueEvents(this);
    }
  }

  deliverEvents(): void {
    const ev = this.pendingEvents;
    this.pendingEvents = 0;
    this.eventsQueued = false;
    if (this.closedDelivered) return;
    const h = this.events;
    if (ev & EV_CONNECTED) h.onConnected?.();
    if (ev & EV_READABLE) h.onReadable?.();
    if (ev & EV_WRITABLE) h.onWritable?.();
    if (ev & EV_CLOSED) {
      this.closedDelivered = true;
      h.onClosed?.(this.error);
    }
  }
}

function fmtEndpoint(e: TcpEndpoint): string {
  return `${e.addr >>> 24}.${(e.addr >>> 16) & 0xff}.${(e.addr >>> 8) & 0xff}.${e.addr & 0xff}:${e.port}`;
}
