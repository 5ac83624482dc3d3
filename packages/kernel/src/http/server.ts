// The HTTP/1.1 server over any stream Listener (types.ts): accepts connections up to
// maxConnections (more are closed at once), serves each with an HttpConnection, and runs one
// sweep timer while connections exist that fires their timeouts — one timer per server, not
// one per request, because the guest's timer heap drops cancelled timers lazily and a busy
// server would fill it. shutdown() stops accepting, closes idle connections and lets busy ones
// finish their response with "connection: close"; `finished` resolves when all are gone.

import { Response } from '../web/response.ts';
import { HttpConnection, type ConnectionHost } from './connection.ts';
import { describeError } from './log.ts';
import { DEFAULT_LIMITS, SYSTEM_CLOCK, type ErrorHandler, type Handler, type HttpLimits, type HttpListener, type ServerClock } from './types.ts';
import type { AbortSignalLike } from '../lib/abort_signal_like.ts';


export interface ServerOptions {
  limits?: Partial<HttpLimits>;
  onError?: ErrorHandler;
  signal?: AbortSignalLike;
  clock?: ServerClock;
  /** "http://host:port" for HTTP/1.0 requests without Host (default "http://localhost"). */
  defaultOrigin?: string;
}

export interface ServerStats {
  accepted: number;
  /** Connections closed at once because maxConnections were open. */
  refused: number;
  active: number;
}

function defaultOnError(error: unknown): Response {
  console.error(`kiln:http: the handler failed: ${describeError(error)}`);
  return new Response('Internal Server Error', { status: 500 });
}

export class HttpServer implements ConnectionHost {
  readonly limits: HttpLimits;
  /** Request-body bytes held by exchanges in flight (maxBufferedBodyBytes bounds it). */
  bufferedBodyBytes = 0;
  /** Request bodies refused with 503 because the budget was spent. */
  bodiesRefused = 0;
  readonly clock: ServerClock;
  readonly onError: ErrorHandler;
  readonly defaultOrigin: string;
  closing = false;
  /** Resolves once the server stopped accepting and every connection is closed. */
  readonly finished: Promise<void>;
  private readonly connections = new Set<HttpConnection>();
  private accepting = true;
  private sweepTimer: unknown = null;
  private readonly sweepEveryMs: number;
  private resolveFinished!: () => void;
  private accepted = 0;
  private refused = 0;

  constructor(
    private readonly listener: HttpListener,
    readonly handler: Handler,
    options: ServerOptions = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.onError = options.onError ?? defaultOnError;
    this.defaultOrigin = options.defaultOrigin ?? 'http://localhost';
    const l = this.limits;
    // Timeouts fire up to a quarter of the shortest one late (at most 1 s, at least 10 ms).
    this.sweepEveryMs = Math.max(10, Math.min(1000, Math.min(l.headerTimeoutMs, l.idleTimeoutMs, l.bodyTimeoutMs, l.writeTimeoutMs) / 4));
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    if (options.signal) {
      if (options.signal.aborted) void this.shutdown();
      else options.signal.addEventListener('abort', () => void this.shutdown());
    }
    void this.acceptLoop();
  }

  get addr(): unknown {
    return this.listener.addr;
  }

  stats(): ServerStats {
    return { accepted: this.accepted, refused: this.refused, active: this.connections.size };
  }

  /** Stops accepting; idle connections close now, busy ones after their current response. */
  shutdown(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.listener.close();
      for (const c of this.connections) c.shutdownIdle();
      this.checkFinished();
    }
    return this.finished;
  }

  private async acceptLoop(): Promise<void> {
    while (!this.closing) {
      let conn;
      try {
        conn = await this.listener.accept();
      } catch (e) {
        if (!this.closing) console.error(`kiln:http: accept failed, the server stops accepting: ${describeError(e)}`);
        break;
      }
      this.accepted++;
      if (this.closing || this.connections.size >= this.limits.maxConnections) {
        this.refused++;
        conn.close();
        continue;
      }
      conn.setNoDelay?.(true);
      const hc = new HttpConnection(conn, this);
      this.connections.add(hc);
      this.armSweep();
      void hc.serve().then(() => {
        this.connections.delete(hc);
        this.checkFinished();
      });
    }
    this.accepting = false;
    this.checkFinished();
  }

  reserveBodyBytes(n: number): boolean {
    if (this.bufferedBodyBytes + n > this.limits.maxBufferedBodyBytes) {
      this.bodiesRefused++;
      return false;
    }
    this.bufferedBodyBytes += n;
    return true;
  }

  releaseBodyBytes(n: number): void {
    this.bufferedBodyBytes -= n;
  }

  private checkFinished(): void {
    if (this.connections.size > 0) return;
    if (this.sweepTimer !== null) {
      this.clock.clearTimer(this.sweepTimer);
      this.sweepTimer = null;
    }
    // While accept() is still pending on the closed listener, acceptLoop ends soon and calls this again.
    if (this.closing && !this.accepting) this.resolveFinished();
  }

  private armSweep(): void {
    if (this.sweepTimer !== null) return;
    this.sweepTimer = this.clock.setTimer(() => this.sweep(), this.sweepEveryMs);
  }

  private sweep(): void {
    this.sweepTimer = null;
    const now = this.clock.now();
    for (const c of this.connections) if (c.deadline <= now) c.onTimeout();
    if (this.connections.size > 0) this.armSweep();
  }
}

/** Serves `handler` on `listener` until shutdown() or the signal. */
export function serveListener(listener: HttpListener, handler: Handler, options: ServerOptions = {}): HttpServer {
  return new HttpServer(listener, handler, options);
}
