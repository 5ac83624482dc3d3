// kiln:net's TCP Conn and Listener (Deno's shape, as kiln:vsock's): TcpStream, the app's end of
// a connection, and TcpStreamListener, the app's listening port, over the sans-IO TcpSocket and
// TcpListenSocket of the TCP layer (net/tcp/), driven by a StackDriver.
// - read(buf) copies straight from the socket's receive buffer; write(bytes) resolves once all
//   bytes were taken into the send buffer (backpressure: the rest waits for onWritable, copied).
// - close() sends FIN after the buffered data and stops reading; the connection keeps the
//   driver held (timers, frames) until our FIN is acknowledged or the socket is gone, so
//   `await conn.write(x); conn.close()` delivers x even if the program ends right after.
// - Idle timeout (setIdleTimeout / idleTimeoutMs): no byte received or accepted for sending in
//   that time aborts the connection (RST) and fails pending and later calls with ETIMEDOUT.
// - Keep-alive: an open connection, a pending connect and an open listener hold the driver.

import { formatIpv4Addr } from '@kiln/common/wire/ipv4.ts';
import type { NetAddr } from './addr.ts';
import type { StackDriver } from './driver.ts';
import { NetError, type TcpListenSocket, type TcpSocket } from './types.ts';
import { acceptIterator } from '../lib/accept_iterator.ts';
import type { PendingRead, PendingWrite } from '../lib/pending_io.ts';

/** A write also resolves with its whole length, however it was cut. */
interface Writer extends PendingWrite {
  total: number;
}

/** States after which our data and FIN need nothing more from us. */
const SETTLED = new Set(['FIN-WAIT-2', 'TIME-WAIT', 'CLOSED']);

export class TcpStream {
  private readonly readers: PendingRead[] = [];
  private readonly writers: Writer[] = [];
  private error: NetError | undefined;
  /** The app called closeWrite/close: no more writes. */
  private writeShut = false;
  private finQueued = false;
  /** The app called close(). */
  private closed = false;
  /** The socket reported onClosed. */
  private gone = false;
  private holding = true;
  private idleMs = 0;
  private idleTimer: unknown;
  private lastActivity: number;

  constructor(private readonly drv: StackDriver, private readonly sock: TcpSocket, idleTimeoutMs = 0) {
    drv.hold();
    this.lastActivity = drv.env.now();
    // the same events object (the layer may be in the middle of delivering to it)
    const ev = sock.events;
    ev.onReadable = () => this.readable();
    ev.onWritable = () => this.writable();
    ev.onClosed = (e) => this.socketClosed(e);
    if (idleTimeoutMs > 0) this.setIdleTimeout(idleTimeoutMs);
  }

  get localAddr(): NetAddr {
    return { transport: 'tcp', hostname: formatIpv4Addr(this.sock.local.addr), port: this.sock.local.port };
  }

  get remoteAddr(): NetAddr {
    return { transport: 'tcp', hostname: formatIpv4Addr(this.sock.remote.addr), port: this.sock.remote.port };
  }

  /** Reads into `buf`: the byte count, or null at end of stream (or after close()). */
  read(buf: Uint8Array): Promise<number | null> {
    if (!(buf instanceof Uint8Array)) return Promise.reject(new NetError('EINVAL', 'read needs a Uint8Array'));
    if (this.readers.length === 0) {
      if (buf.length === 0) return Promise.resolve(0);
      const n = this.closed ? -1 : this.sock.read(buf);
      if (n > 0) {
        this.lastActivity = this.drv.env.now();
        this.drv.kick(); // the window opened: the layer may have sent an update
        return Promise.resolve(n);
      }
      if (n < 0) return Promise.resolve(null);
      if (this.error) return Promise.reject(this.error);
      if (this.gone) return Promise.resolve(null);
    }
    return new Promise((resolve, reject) => this.readers.push({ buf, resolve, reject }));
  }

  /** Writes all of `bytes`; resolves with its length once the send buffer took the last byte. */
  write(bytes: Uint8Array): Promise<number> {
    if (!(bytes instanceof Uint8Array)) return Promise.reject(new NetError('EINVAL', 'write needs a Uint8Array'));
    if (this.error) return Promise.reject(this.error);
    if (this.writeShut || this.gone) return Promise.reject(new NetError('EPIPE', 'the connection is closed for writing'));
    if (bytes.length === 0) return Promise.resolve(0);
    let at = 0;
    if (this.writers.length === 0) {
      try {
        at = this.sock.write(bytes);
      } catch (e) {
        return Promise.reject(e);
      }
      this.drv.kick();
      if (at > 0) this.lastActivity = this.drv.env.now();
      if (at === bytes.length) return Promise.resolve(at);
    }
    const rest = bytes.slice(at); // the caller may reuse its buffer once write() returned
    return new Promise((resolve, reject) => this.writers.push({ bytes: rest, at: 0, total: bytes.length, resolve, reject }));
  }

  /** No more writes: the peer reads end of stream after what was written. */
  closeWrite(): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    if (this.gone) return Promise.reject(new NetError('ENOTCONN', 'the connection is closed'));
    this.writeShut = true;
    this.queueFin();
    return Promise.resolve();
  }

  /** Closes both ways: FIN after the data already taken; queued writes fail with EBADF, pending reads get null. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.writeShut = true;
    this.stopIdleTimer();
    for (const w of this.writers.splice(0)) w.reject(new NetError('EBADF', 'the connection was closed'));
    for (const r of this.readers.splice(0)) r.resolve(null);
    if (!this.gone) {
      this.finQueued = true;
      this.sock.close();
      this.drv.kick();
      this.lingerUntilSettled();
    }
  }

  setNoDelay(noDelay = true): void {
    this.sock.setNoDelay(noDelay);
  }

  /** TCP keep-alive probes after `idleMs` (default: the TCP layer's) without traffic. */
  setKeepAlive(enabled = true, idleMs?: number): void {
    this.sock.setKeepAlive(enabled, idleMs);
    this.drv.kick();
  }

  /** Aborts the connection with ETIMEDOUT after `ms` without a byte received or sent; 0 turns it off. */
  setIdleTimeout(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new NetError('EINVAL', `idle timeout ${ms} is not a number of milliseconds >= 0`);
    this.stopIdleTimer();
    this.idleMs = ms;
    this.lastActivity = this.drv.env.now();
    if (ms > 0 && !this.gone && !this.closed) this.idleTimer = this.drv.env.setTimeout(this.idleCheck, ms);
  }

  private readonly idleCheck = (): void => {
    this.idleTimer = undefined;
    const idle = this.drv.env.now() - this.lastActivity;
    if (idle < this.idleMs) {
      this.idleTimer = this.drv.env.setTimeout(this.idleCheck, this.idleMs - idle);
      return;
    }
    this.fail(new NetError('ETIMEDOUT', `no data for ${this.idleMs} ms`)); // before abort() reports the socket closed
    this.sock.abort();
    this.drv.kick();
  };

  private stopIdleTimer(): void {
    if (this.idleTimer !== undefined) this.drv.env.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  // ── socket events ──

  private readable(): void {
    this.lastActivity = this.drv.env.now();
    let served = false;
    while (this.readers.length > 0) {
      const r = this.readers[0]!;
      const n = this.sock.read(r.buf);
      if (n === 0 && r.buf.length > 0) break; // nothing yet; a zero-length read is served with 0
      this.readers.shift();
      served = true;
      if (n >= 0) {
        r.resolve(n);
      } else {
        r.resolve(null);
        for (const o of this.readers.splice(0)) o.resolve(null);
      }
    }
    if (served) this.drv.kick();
  }

  private writable(): void {
    while (this.writers.length > 0) {
      const w = this.writers[0]!;
      let n: number;
      try {
        n = this.sock.write(w.bytes.subarray(w.at));
      } catch (e) {
        this.fail(e instanceof NetError ? e : new NetError('EPIPE', String(e)));
        return;
      }
      if (n > 0) this.lastActivity = this.drv.env.now();
      w.at += n;
      if (w.at < w.bytes.length) break;
      this.writers.shift();
      w.resolve(w.total);
    }
    if (this.writeShut) this.queueFin();
    this.drv.kick();
  }

  private queueFin(): void {
    if (this.finQueued || this.writers.length > 0 || this.gone) return;
    this.finQueued = true;
    this.sock.closeWrite();
    this.drv.kick();
  }

  private socketClosed(e: NetError | undefined): void {
    this.gone = true;
    this.stopIdleTimer();
    if (e) {
      this.fail(e);
      return;
    }
    // orderly: what is buffered can still be read, then end of stream
    this.readable();
    for (const r of this.readers.splice(0)) r.resolve(null);
    for (const w of this.writers.splice(0)) w.reject(new NetError('EPIPE', 'the connection is closed'));
    this.unhold();
  }

  private fail(e: NetError): void {
    this.error ??= e;
    this.gone = true;
    this.stopIdleTimer();
    for (const r of this.readers.splice(0)) r.reject(this.error);
    for (const w of this.writers.splice(0)) w.reject(this.error);
    this.unhold();
  }

  /** After close(): keep the driver held until the FIN was acknowledged (checked once per turn). */
  private lingerUntilSettled(): void {
    this.drv.afterTurn(() => {
      if (this.gone || SETTLED.has(this.sock.state)) {
        this.unhold();
        return true;
      }
      return false;
    });
  }

  private unhold(): void {
    if (!this.holding) return;
    this.holding = false;
    this.drv.release();
  }
}

/** A listening TCP port. accept() or `for await (const conn of listener)`. */
export class TcpStreamListener implements AsyncIterable<TcpStream> {
  private readonly waiting: { resolve(c: TcpStream): void; reject(e: Error): void }[] = [];
  private open = true;

  constructor(private readonly drv: StackDriver, private readonly tl: TcpListenSocket, private readonly idleTimeoutMs = 0) {
    drv.hold();
    tl.onAcceptable = () => this.acceptable();
  }

  get addr(): NetAddr {
    return { transport: 'tcp', hostname: formatIpv4Addr(this.tl.local.addr), port: this.tl.local.port };
  }

  /** The next connection; rejects with EBADF once closed. */
  accept(): Promise<TcpStream> {
    if (!this.open) return Promise.reject(new NetError('EBADF', `listener on port ${this.tl.local.port} is closed`));
    if (this.waiting.length === 0) {
      const s = this.tl.accept();
      if (s) return Promise.resolve(new TcpStream(this.drv, s, this.idleTimeoutMs));
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private acceptable(): void {
    while (this.waiting.length > 0) {
      const s = this.tl.accept();
      if (!s) return;
      this.waiting.shift()!.resolve(new TcpStream(this.drv, s, this.idleTimeoutMs));
    }
  }

  /** Stops listening: pending accepts reject with EBADF, connections not yet accepted are reset. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.tl.close();
    for (const w of this.waiting.splice(0)) w.reject(new NetError('EBADF', `listener on port ${this.tl.local.port} is closed`));
    this.drv.kick();
    this.drv.release();
  }

  [Symbol.asyncIterator](): AsyncIterator<TcpStream> {
    return acceptIterator(this, (e) => e instanceof NetError && e.code === 'EBADF');
  }
}

export interface ConnectTimeouts {
  /** ETIMEDOUT when the handshake (and DHCP, if it is still running) takes longer; default: the TCP layer's SYN retries. */
  timeoutMs?: number;
  idleTimeoutMs?: number;
}

/** Active open to `addr`:`port` once the interface has an address. */
export function connectTcp(drv: StackDriver, addr: number, port: number, o: ConnectTimeouts = {}): Promise<TcpStream> {
  const env = drv.env;
  drv.hold(); // until this settles (the Conn takes its own hold)
  return new Promise<TcpStream>((resolve, reject) => {
    let sock: TcpSocket | undefined;
    let done = false;
    let timer: unknown;
    const settle = (): boolean => {
      if (done) return false;
      done = true;
      if (timer !== undefined) env.clearTimeout(timer);
      drv.release();
      return true;
    };
    if (o.timeoutMs !== undefined) {
      timer = env.setTimeout(() => {
        timer = undefined;
        if (!settle()) return;
        if (sock) {
          sock.events = {};
          sock.abort();
          drv.kick();
        }
        reject(new NetError('ETIMEDOUT', `connecting to ${formatIpv4Addr(addr)}:${port} took more than ${o.timeoutMs} ms`));
      }, o.timeoutMs);
    }
    drv.whenConfigured().then(() => {
      if (done) return;
      const iface = drv.stack.iface;
      const unreachable = iface.routeError(addr);
      if (unreachable) {
        settle();
        reject(new NetError(unreachable, `no route to ${formatIpv4Addr(addr)} (no gateway on the interface)`));
        return;
      }
      try {
        sock = drv.stack.tcp.connect(iface.sourceFor(addr), { addr, port });
      } catch (e) {
        settle();
        reject(e);
        return;
      }
      const s = sock;
      s.events = {
        onConnected: () => {
          if (settle()) resolve(new TcpStream(drv, s, o.idleTimeoutMs));
        },
        onClosed: (e) => {
          if (settle()) reject(e ?? new NetError('ECONNREFUSED', `${formatIpv4Addr(addr)}:${port} refused the connection`));
        },
      };
      drv.kick();
    }, (e: unknown) => {
      if (settle()) reject(e);
    });
  });
}
