// The seams of kiln:http: the stream transport it serves on (Deno's Conn/Listener shape, which
// kiln:vsock has and kiln:net's TCP listener shares), the handler, the limits and the clock.
// The server never names a transport: a Node test serves over node:net through the same seam.

import type { Request } from '../web/request.ts';
import type { Response } from '../web/response.ts';

/** A byte stream connection (kiln:vsock's and kiln:net's Conn). */
export interface HttpConn {
  readonly remoteAddr?: unknown;
  /** Reads into `buf`: the byte count, or null at end of stream. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Writes all of `bytes` (the caller does not reuse them until this resolves). */
  write(bytes: Uint8Array): Promise<number>;
  /** No more writes (FIN); reads continue. */
  closeWrite(): Promise<void>;
  /** Closes both directions; pending reads resolve null. */
  close(): void;
  /** TCP: turn Nagle's algorithm off (the server writes whole responses). */
  setNoDelay?(noDelay?: boolean): void;
}

/** A listening socket (kiln:vsock's and kiln:net's Listener). */
export interface HttpListener<C extends HttpConn = HttpConn> {
  readonly addr: unknown;
  /** The next connection; rejects once the listener is closed. */
  accept(): Promise<C>;
  close(): void;
}

export interface ServeInfo {
  /** The peer's address as the transport reports it ({ transport, hostname, port } for TCP, { cid, port } for vsock). */
  remoteAddr: unknown;
}

export type Handler = (request: Request, info: ServeInfo) => Response | Promise<Response>;

/** What the server answers when the handler throws (default: log it, 500). */
export type ErrorHandler = (error: unknown) => Response | Promise<Response>;

export interface HttpLimits {
  /** Request line + header fields + blank line, bytes (431 beyond; 414 for a request line alone). Default 16 KiB. */
  maxHeadBytes: number;
  /** Header field lines per request (431 beyond). Default 100. */
  maxHeaders: number;
  /** Request body bytes (413 beyond). Default 10 MiB. */
  maxBodyBytes: number;
  /** Open connections; further ones are closed at once. Default 1024. */
  maxConnections: number;
  /** Unread request body the server reads and discards to keep a connection (else it closes). Default 256 KiB. */
  maxDrainBytes: number;
  /** From the first byte of a request to the end of its head (408 and close). Default 10 s. */
  headerTimeoutMs: number;
  /** An idle keep-alive connection waiting for the next request (closed silently). Default 5 s. */
  idleTimeoutMs: number;
  /** Longest wait for the next bytes of a request body (408 and close). Default 30 s. */
  bodyTimeoutMs: number;
  /**
   * Slowest request body accepted: the server waits for a body at most bodyTimeoutMs plus one
   * second per this many bytes received (408 beyond), so a drip-fed body cannot hold its
   * connection by sending a byte just before each timeout. Default 1024 bytes/s.
   */
  minBodyBytesPerSec: number;
  /** Longest wait, in all, for one request body, however fast it comes (408 beyond). Default 120 s. */
  bodyDeadlineMs: number;
  /** Longest wait for the peer to take response bytes (close). Default 30 s. */
  writeTimeoutMs: number;
  /**
   * Request-body bytes handed to handlers and held, across all connections, until each exchange
   * ends: a body that would pass it fails with 503 (and the connection closes), so parallel
   * uploads a handler buffers (`await req.arrayBuffer()`) cannot run the guest out of memory.
   * In the guest the default is a quarter of the heap (limitsForHeap); 32 MiB elsewhere.
   */
  maxBufferedBodyBytes: number;
}

export const DEFAULT_LIMITS: HttpLimits = {
  maxHeadBytes: 16 * 1024,
  maxHeaders: 100,
  maxBodyBytes: 10 * 1024 * 1024,
  maxConnections: 1024,
  maxDrainBytes: 256 * 1024,
  headerTimeoutMs: 10_000,
  idleTimeoutMs: 5_000,
  bodyTimeoutMs: 30_000,
  minBodyBytesPerSec: 1024,
  bodyDeadlineMs: 120_000,
  writeTimeoutMs: 30_000,
  maxBufferedBodyBytes: 32 * 1024 * 1024,
};

/** A connection's worst-case memory (TCP receive and send buffers, the HTTP buffer), for limitsForHeap. */
export const CONNECTION_COST_BYTES = 160 * 1024;

/**
 * The defaults for a guest whose heap holds `heapBytes`: a quarter of it for request bodies in
 * flight (and no single body larger), and no more connections than half of it pays for at
 * CONNECTION_COST_BYTES each (at least 16, at most DEFAULT_LIMITS').
 */
export function limitsForHeap(heapBytes: number): HttpLimits {
  const bodies = Math.floor(heapBytes / 4);
  return {
    ...DEFAULT_LIMITS,
    maxBufferedBodyBytes: bodies,
    maxBodyBytes: Math.min(DEFAULT_LIMITS.maxBodyBytes, bodies),
    maxConnections: Math.min(DEFAULT_LIMITS.maxConnections, Math.max(16, Math.floor(heapBytes / 2 / CONNECTION_COST_BYTES))),
  };
}

/** Time for the server: monotonic ms for timeouts, wall-clock ms for the Date header, a timer. */
export interface ServerClock {
  now(): number;
  wallNow(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const SYSTEM_CLOCK: ServerClock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as number),
};
