// A listening endpoint (RFC 9293 LISTEN): it owns two bounded queues, the half-open
// connections still in SYN-RECEIVED (at most synBacklog; a further SYN evicts the oldest, so a
// SYN flood costs a bounded amount of memory and cannot shut real clients out, whose handshake
// takes one round trip while a spoofed entry waits for ever: RFC 4987 §3.4 "random drop" in its
// oldest-first form; above half of synBacklog SYN-ACKs are retransmitted fewer times) and the
// established ones waiting for accept() (at most `backlog`; while it is full, new SYNs are
// dropped and a completing handshake's ACK is ignored, so the peer's retransmission retries later).

import type { TcpEndpoint, TcpListenSocket } from '../types.ts';
import type { ConnParent, EventSource, TcpConn } from './socket.ts';

/** What a listener needs from its layer. */
export interface ListenerHost {
  readonly counters: { halfOpenEvicted: number };
  queueEvents(target: EventSource): void;
  removeListener(listener: TcpListener): void;
  enter(): void;
  leave(): void;
}

export class TcpListener implements TcpListenSocket, ConnParent, EventSource {
  onAcceptable?: () => void;
  eventsQueued = false;
  private readonly halfOpen = new Set<TcpConn>();
  private readonly ready: TcpConn[] = [];
  private closed = false;

  constructor(
    private readonly host: ListenerHost,
    readonly local: TcpEndpoint,
    private readonly backlog: number,
    private readonly synBacklog: number,
  ) {}

  /** Whether a new SYN may start a connection now; makes room among the half-open if needed (oldest first). */
  makeRoom(): boolean {
    if (this.closed || this.ready.length >= this.backlog) return false;
    while (this.halfOpen.size >= this.synBacklog) {
      const oldest = this.halfOpen.values().next().value as TcpConn;
      this.host.counters.halfOpenEvicted++;
      oldest.terminate(undefined); // quietly: a spoofed source must not get an RST from us; forget() unlinks it
      this.halfOpen.delete(oldest);
    }
    return true;
  }

  /** More than half of synBacklog is half-open: SYN-ACKs get fewer retransmissions. */
  get underPressure(): boolean {
    return this.halfOpen.size > this.synBacklog >> 1;
  }

  /** A connection entered SYN-RECEIVED on our behalf. */
  track(conn: TcpConn): void {
    this.halfOpen.add(conn);
  }

  admit(conn: TcpConn): boolean {
    if (this.ready.length >= this.backlog) return false;
    this.halfOpen.delete(conn);
    this.ready.push(conn);
    if (!this.eventsQueued) {
      this.eventsQueued = true;
      this.host.queueEvents(this);
    }
    return true;
  }

  forget(conn: TcpConn): void {
    this.halfOpen.delete(conn);
    const i = this.ready.indexOf(conn);
    if (i >= 0) this.ready.splice(i, 1);
  }

  accept(): TcpConn | undefined {
    const conn = this.ready.shift();
    if (conn) conn.parent = undefined;
    return conn;
  }

  close(): void {
    if (this.closed) return;
    this.host.enter();
    this.closed = true;
    this.host.removeListener(this);
    for (const conn of [...this.halfOpen, ...this.ready]) {
      conn.sendRst();
      conn.terminate(undefined);
    }
    this.host.leave();
  }

  deliverEvents(): void {
    this.eventsQueued = false;
    if (!this.closed && this.ready.length > 0) this.onAcceptable?.();
  }
}
