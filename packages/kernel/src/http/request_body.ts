// The body of one request (RFC 9112 §6, §7.1): read on demand from its connection's buffer —
// Content-Length or chunked, Expect: 100-continue answered on the first read, body bytes counted
// against the server's budget (maxBufferedBodyBytes) — and drained up to a limit after the
// response; a failure is a RequestBodyError the connection answers with its status.

import type { BodySource } from '../web/body.ts';
import { ChunkedDecoder } from './chunked.ts';
import { ParseError, type RequestHead } from './parser.ts';

/** Thrown into a handler reading a body the connection gave up on. */
export class RequestBodyError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'RequestBodyError';
  }
}

/** What a RequestBody needs from its connection (HttpConnection's request body access). */
export interface BodyConnection {
  readonly trailerLimit: number;
  readonly bodyLimit: number;
  /** Bytes of the final response (or of an error response) have been written. */
  readonly responseBegun: boolean;
  readonly timedOutOrFailed: RequestBodyError | null;
  bufferView(): { buf: Uint8Array; start: number; end: number };
  consume(n: number): void;
  readBody(body: { readonly received: number; waitedMs: number }): Promise<number | null>;
  sendContinue(): void;
  fail(status: number, reason: string): RequestBodyError;
  transportFailed(e: unknown): RequestBodyError;
  reserveBodyBytes(n: number): boolean;
  releaseBodyBytes(n: number): void;
}

/** The body of one request, read from the connection's buffer on demand. */
export class RequestBody {
  received = 0;
  /** Time spent waiting for this body's bytes (readBody), ms. */
  waitedMs = 0;
  done = false;
  private detached = false;
  /** Bytes of this body counted against the server's budget (returned at detach): all of a known
   * length from the start, a chunked body's chunks as they are handed out. */
  private reserved = 0;
  /** drain() discards what it reads: nothing to reserve. */
  private draining = false;
  /** The 100-continue question is settled: sent, or never to be sent. */
  private continueSettled = false;
  private readonly decoder: ChunkedDecoder | null;
  private remaining: number;

  constructor(
    private readonly c: BodyConnection,
    private readonly head: RequestHead,
  ) {
    this.decoder = head.chunked ? new ChunkedDecoder(c.trailerLimit, c.bodyLimit) : null;
    this.remaining = head.chunked ? Infinity : head.contentLength;
    this.reserved = head.chunked ? 0 : head.contentLength; // taken by exchange()
  }

  source(): BodySource {
    return {
      kind: 'pull',
      next: () => this.next(),
      cancel: () => {
        // The app stopped reading; whatever is left is drained or the connection closes.
      },
      length: this.head.chunked ? -1 : this.head.contentLength,
    };
  }

  /** The exchange is over: later reads fail instead of eating the next request. */
  detach(): void {
    this.detached = true;
    this.c.releaseBodyBytes(this.reserved);
    this.reserved = 0;
  }

  /** The client waits for a 100 (Expect: 100-continue) that has not been sent. */
  get awaitsContinue(): boolean {
    return this.head.expectContinue && !this.continueSettled;
  }

  /** Sends the 100 now, before the final response's head. */
  continueNow(): void {
    this.continueSettled = true;
    this.c.sendContinue();
  }

  async next(): Promise<Uint8Array | null> {
    if (this.detached) throw new TypeError('the request body is no longer available: the response was sent');
    if (this.done) return null;
    if (this.awaitsContinue) {
      // Never after a byte of the final response: the client would read it as that response's.
      if (this.c.responseBegun) this.continueSettled = true;
      else this.continueNow();
    }
    for (;;) {
      const chunk = this.take();
      if (chunk !== null && chunk !== undefined && this.decoder !== null && !this.draining) {
        if (!this.c.reserveBodyBytes(chunk.length)) throw this.c.fail(503, 'request bodies in flight would pass the server\'s memory budget (maxBufferedBodyBytes)');
        this.reserved += chunk.length;
      }
      if (chunk !== undefined) return chunk;
      let n: number | null;
      try {
        n = await this.c.readBody(this);
      } catch (e) {
        throw this.c.transportFailed(e);
      }
      if (n === null) {
        const f = this.c.timedOutOrFailed;
        throw f ?? this.c.fail(400, 'the connection ended inside the request body');
      }
    }
  }

  /** Body bytes from the buffer: a chunk, null at the end, undefined when more input is needed. */
  private take(): Uint8Array | null | undefined {
    const v = this.c.bufferView();
    if (this.decoder === null) {
      if (this.remaining === 0) {
        this.done = true;
        return null;
      }
      if (v.end === v.start) return undefined;
      const n = Math.min(this.remaining, v.end - v.start);
      this.remaining -= n;
      this.received += n;
      this.c.consume(n);
      if (this.remaining === 0) this.done = true;
      return v.buf.slice(v.start, v.start + n);
    }
    let at = v.start;
    for (;;) {
      const r = this.decoder.step(v.buf, at, v.end);
      if (r instanceof ParseError) throw this.c.fail(r.status, r.reason);
      at += r;
      if (this.decoder.dataEnd > this.decoder.dataStart) {
        const chunk = v.buf.slice(this.decoder.dataStart, this.decoder.dataEnd);
        this.c.consume(at - v.start);
        this.received += chunk.length;
        return chunk;
      }
      if (this.decoder.done) {
        this.c.consume(at - v.start);
        this.done = true;
        return null;
      }
      if (r === 0) {
        this.c.consume(at - v.start);
        return undefined;
      }
    }
  }

  /** Reads and discards the rest of the body, up to `max` bytes; whether it all came. */
  async drain(max: number): Promise<boolean> {
    if (this.detached || this.done) return this.done;
    if (this.awaitsContinue) return false; // the client may never send it
    const limit = this.received + max;
    this.draining = true;
    try {
      while ((await this.next()) !== null) if (this.received > limit) return false;
    } catch {
      return false;
    }
    return true;
  }
}
