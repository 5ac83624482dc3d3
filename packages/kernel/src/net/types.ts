// The seams inside the guest's TCP/IP stack (smoltcp's layering: wire formats in
// @kiln/common/wire, the interface in net/interface*, sans-IO sockets in net/tcp/). Nothing
// here does I/O or reads a clock: time comes in as `now` (milliseconds, monotonic) and
// randomness through `Random`, so the same code runs in the guest, in unit tests with a fake
// clock, and in two stacks wired together in one Node process.

/** An IPv4 address as an unsigned 32-bit number: 10.0.2.15 = 0x0a00020f. */
export type Ipv4Addr = number;

/** Fills `bytes` with cryptographically strong random bytes (ISNs, ephemeral ports, DHCP xids). */
export type Random = (bytes: Uint8Array) => void;

/** What the TCP layer needs from the IP layer below it. */
export interface TcpLower {
  /**
   * Sends one TCP segment (header with options + payload, checksum already filled in, using the
   * pseudo-header of src/dst) to `dst` from `src`. Never throws; a segment the IP layer cannot
   * send yet (ARP pending, device busy) is queued or dropped, as IP may.
   */
  sendSegment(src: Ipv4Addr, dst: Ipv4Addr, segment: Uint8Array): void;
  /** Largest TCP payload per segment towards `dst` (interface MTU - 40). */
  mssFor(dst: Ipv4Addr): number;
  /** True if `addr` is one of this host's addresses (a listener on 0 accepts any of them). */
  isLocalAddr(addr: Ipv4Addr): boolean;
}

/** Errors surfaced by sockets and `kiln:net` (errno names, as Node and Deno report them). */
export type NetErrorCode =
  | 'ECONNREFUSED' | 'ECONNRESET' | 'ECONNABORTED' | 'ETIMEDOUT' | 'EADDRINUSE' | 'EADDRNOTAVAIL'
  | 'EHOSTUNREACH' | 'ENETUNREACH' | 'EINVAL' | 'EPIPE' | 'EBADF' | 'ENOTCONN' | 'EMSGSIZE' | 'ENODEV'
  | 'ENOTFOUND' | 'EAI_AGAIN';

export class NetError extends Error {
  constructor(readonly code: NetErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'NetError';
  }
}

/** An address and port (addr 0 = any local address, for listeners). */
export interface TcpEndpoint {
  addr: Ipv4Addr;
  port: number;
}

/** RFC 9293 §3.3.2 connection states. */
export type TcpState =
  | 'CLOSED' | 'LISTEN' | 'SYN-SENT' | 'SYN-RECEIVED' | 'ESTABLISHED' | 'FIN-WAIT-1' | 'FIN-WAIT-2'
  | 'CLOSE-WAIT' | 'CLOSING' | 'LAST-ACK' | 'TIME-WAIT';

/**
 * Callbacks a socket's owner (kiln:net's Conn) sets. They are called synchronously at the end of
 * TcpLayer.input/poll or of the socket call that caused them, with the socket in a consistent
 * state; an owner may call read/write/close from inside them.
 */
export interface TcpSocketEvents {
  /** Data or the peer's FIN arrived (read() will return non-zero). */
  onReadable?(): void;
  /** Send-buffer room became available. */
  onWritable?(): void;
  /** The handshake completed (connect). */
  onConnected?(): void;
  /** The connection is gone: `error` set on reset, refusal or timeout; unset after an orderly close. */
  onClosed?(error?: NetError): void;
}

/** One connection of the TCP layer (the state machine TcpConn, net/tcp/socket.ts); kiln:net's TcpStream (net/tcp_stream.ts) is the app's end of it. */
export interface TcpSocket {
  readonly state: TcpState;
  readonly local: TcpEndpoint;
  readonly remote: TcpEndpoint;
  events: TcpSocketEvents;
  /** Copies received bytes into `into`: the count, 0 when none are buffered yet, -1 at end of stream (FIN read). */
  read(into: Uint8Array): number;
  /** Accepts up to sendRoom bytes into the send buffer and returns how many it took; throws NetError EPIPE after closeWrite/close, ENOTCONN before the handshake started. */
  write(bytes: Uint8Array): number;
  /** Bytes write() would accept now. */
  readonly sendRoom: number;
  /** Sends FIN after the buffered data. */
  closeWrite(): void;
  /** closeWrite and stop receiving (the socket lingers in FIN-WAIT/TIME-WAIT inside the layer). */
  close(): void;
  /** Sends RST and drops everything. */
  abort(): void;
  /** TCP keep-alive probes after `idleMs` of silence (default off). */
  setKeepAlive(enabled: boolean, idleMs?: number): void;
  /** Disables Nagle's algorithm. */
  setNoDelay(noDelay: boolean): void;
}

/** A listening port of the TCP layer (TcpListener, net/tcp/listener.ts); kiln:net's TcpStreamListener is the app's end of it. */
export interface TcpListenSocket {
  readonly local: TcpEndpoint;
  /** Called when accept() will return a socket. */
  onAcceptable?: () => void;
  /** The next fully established connection, or undefined. */
  accept(): TcpSocket | undefined;
  /** Stops listening; queued connections not yet accepted are reset. */
  close(): void;
}

export interface TcpLayerOptions {
  lower: TcpLower;
  random: Random;
  /** The injected clock: monotonic milliseconds. */
  now: () => number;
}

/** The TCP layer (net/tcp/): implemented by `TcpLayer` in net/tcp/layer.ts. */
export interface TcpLayerApi {
  /** A segment from IP addressed to this host (checksum not yet verified). */
  input(src: Ipv4Addr, dst: Ipv4Addr, segment: Uint8Array): void;
  /** EADDRINUSE if taken; backlog = completed connections waiting for accept (SYNs beyond it are dropped). */
  listen(local: TcpEndpoint, backlog?: number): TcpListenSocket;
  /** Active open from `localAddr` (an ephemeral port is chosen) to `remote`; events.onConnected or onClosed(ECONNREFUSED/ETIMEDOUT) follows. */
  connect(localAddr: Ipv4Addr, remote: TcpEndpoint): TcpSocket;
  /** Runs timers that are due (retransmission, delayed ACK, persist, keep-alive, TIME-WAIT). */
  poll(): void;
  /** When poll() next has work, in the clock's milliseconds; undefined if no timer is armed. */
  nextDeadline(): number | undefined;
}
