// One HTTP/1.1 connection (RFC 9112 §9): reads request heads into one growable buffer, hands
// each request to the handler with a body that reads on demand (Content-Length or chunked,
// with Expect: 100-continue sent on the first read), writes the response — head and a known
// body in one write, streamed bodies chunked (or close-delimited for HTTP/1.0) — and goes on
// with the bytes already buffered, so pipelined requests are answered in order. Unread request
// bodies are drained up to a limit, else the connection closes. Protocol errors, limits and
// timeouts get a 4xx with "connection: close". The server's sweep calls onTimeout() when
// `deadline` (monotonic ms) passes; nothing here arms timers. The request body is
// request_body.ts, the request's URL from its target request_target.ts.

import { latin1Encode } from '@kiln/common/text/latin1.ts';
import { encodeUtf8 } from '@kiln/common/text/utf8.ts';
import { bodyChunks, takeBodySource, type BodySource } from '../web/body.ts';
import { headerListOf } from '../web/headers.ts';
import { requestFromServer, type Request } from '../web/request.ts';
import { Response } from '../web/response.ts';
import { MAX_CHUNK_LINE, chunkSizeLine } from './chunked.ts';
import { RateLimitedLog, describeError } from './log.ts';
import { ParseError, parseRequestHead, type RequestHead } from './parser.ts';
import { RequestBody, RequestBodyError, type BodyConnection } from './request_body.ts';
import { requestUrl } from './request_target.ts';
import {
  CHUNKED_LINE, CLOSE_LINE, CONTINUE_100, HeadBuilder, KEEP_ALIVE_LINE, STATUS_TEXT, contentLengthLine, dateLine, headerLine, statusLine,
} from './serialize.ts';
import type { ErrorHandler, Handler, HttpConn, HttpLimits, ServeInfo, ServerClock } from './types.ts';

const INITIAL_BUFFER = 4096;
/** How long a closing connection may take to flush its last response. */
const CLOSE_GRACE_MS = 2000;
/** Response bytes the transport may hold before the connection waits for it (send()). */
const MAX_UNFLUSHED = 64 * 1024;

/** Clients cause these at will (a reset mid-body): one line each, rate-limited. */
const transportLog = new RateLimitedLog();

const messageOf = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly limits: HttpLimits;
  readonly clock: ServerClock;
  readonly handler: Handler;
  readonly onError: ErrorHandler;
  /** The server is shutting down: finish the current exchange, then close. */
  readonly closing: boolean;
  /** "http://host:port" for HTTP/1.0 requests without Host. */
  readonly defaultOrigin: string;
  /** Takes `n` bytes of the maxBufferedBodyBytes budget; false (nothing taken) past it. */
  reserveBodyBytes(n: number): boolean;
  releaseBodyBytes(n: number): void;
}

export type Phase = 'idle' | 'head' | 'handler' | 'body' | 'write' | 'closing';

function errorResponseBytes(status: number, reason: string, dateMs: number): Uint8Array {
  const body = encodeUtf8(`${STATUS_TEXT[status] ?? 'Error'}: ${reason}\n`);
  const hb = new HeadBuilder();
  hb.add(statusLine(status, ''));
  hb.add(headerLine('content-type', 'text/plain;charset=UTF-8'));
  hb.add(contentLengthLine(body.length));
  hb.add(dateLine(dateMs));
  hb.add(CLOSE_LINE);
  return hb.finish(body);
}

/** A body that is all there already: it goes out with the head in one write. */
function isKnown(s: BodySource | null): s is Extract<BodySource, { kind: 'text' | 'bytes' }> | null {
  return s === null || s.kind === 'text' || s.kind === 'bytes';
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function';
}

export class HttpConnection implements BodyConnection {
  phase: Phase = 'idle';
  /** Monotonic ms when the current phase times out (Infinity: never). */
  deadline = Infinity;
  private buf = new Uint8Array(INITIAL_BUFFER);
  private start = 0;
  private end = 0;
  private closed = false;
  /** The current exchange's response has begun (or an error response was sent instead). */
  private responseStarted = false;
  private timedOut = false;
  /** Set when the connection gave up on the current request (timeout, bad or oversized body). */
  private failed: RequestBodyError | null = null;
  /** The handler's second argument (the same for every request of the connection). */
  private info: ServeInfo | undefined;
  /** The current exchange's request body (released to the budget when the connection closes). */
  private body: RequestBody | null = null;
  /** Reused for every response head. */
  private readonly hb = new HeadBuilder();
  /** Bytes given to the transport whose write has not resolved yet. */
  private unflushed = 0;
  /** Settles when the last write has (resolved or failed). */
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(
    private readonly conn: HttpConn,
    private readonly host: ConnectionHost,
  ) {}

  private markClosed!: () => void;
  private readonly closedPromise = new Promise<void>((resolve) => (this.markClosed = resolve));

  /**
   * Serves requests until the connection is closed; never rejects. The hot path awaits only the
   * transport's read: a synchronous handler's response with a known body is written without
   * waiting for the write (see send()).
   */
  async serve(): Promise<void> {
    const limits = this.host.limits;
    try {
      for (;;) {
        this.responseStarted = false;
        this.failed = null;
        let head = this.start < this.end ? parseRequestHead(this.buf, this.start, this.end, limits) : null;
        if (head === null) {
          if (this.start === this.end) this.setPhase('idle', limits.idleTimeoutMs);
          else this.setPhase('head', limits.headerTimeoutMs);
          while (head === null) {
            if (this.host.closing && this.start === this.end) break;
            const n = await this.conn.read(this.readView());
            if (n === null || this.phase === 'closing') break;
            const checked = Math.max(this.start, this.end - 1); // the parser saw the bytes before, all but a last CR
            this.end += n;
            head = parseRequestHead(this.buf, this.start, this.end, limits, checked);
            if (head === null && this.phase === 'idle') this.setPhase('head', limits.headerTimeoutMs);
          }
          if (head === null) break;
        }
        if (head instanceof ParseError) {
          this.sendErrorAndClose(head.status, head.reason);
          break;
        }
        const more = this.exchange(head);
        if (more === false || (more !== true && !(await more))) break;
      }
    } catch {
      // Transport errors (reset, broken pipe) end the connection; there is nobody to tell.
      this.close();
    }
    // An error response or a last response may still be flushing (phase "closing").
    if (this.phase !== 'closing') this.close();
    await this.closedPromise;
  }

  /** The server is shutting down: an idle connection closes now, a busy one after its response. */
  shutdownIdle(): void {
    if (this.phase === 'idle') this.close();
  }

  /** Called by the server's sweep once `deadline` has passed. */
  onTimeout(): void {
    if (this.closed) return;
    const phase = this.phase;
    this.timedOut = true;
    if ((phase === 'head' || phase === 'body') && !this.responseStarted) {
      this.failed = new RequestBodyError(408, phase === 'head' ? 'request head not received in time' : 'request body not received in time (or slower than the minimum rate)');
      this.sendErrorAndClose(408, this.failed.message);
      return;
    }
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.body?.detach(); // its bytes go back to the server's budget
    this.phase = 'closing';
    this.deadline = Infinity;
    this.conn.close();
    this.markClosed();
  }

  private setPhase(phase: Phase, timeoutMs: number): void {
    this.phase = phase;
    this.deadline = timeoutMs === Infinity ? Infinity : this.host.clock.now() + timeoutMs;
  }

  /**
   * Writes without waiting for the transport: pipelined writes keep their order, so a response
   * with a known body need not hold up the next read. Once more than MAX_UNFLUSHED bytes are
   * waiting (a peer that sends but does not read), returns a promise to wait on, under the
   * write timeout.
   */
  private send(bytes: Uint8Array): Promise<void> | undefined {
    this.unflushed += bytes.length;
    this.lastWrite = this.conn.write(bytes).then(this.onWritten, this.onWriteFailed);
    if (this.unflushed <= MAX_UNFLUSHED) return undefined;
    const phase = this.phase;
    this.setPhase('write', this.host.limits.writeTimeoutMs);
    return this.lastWrite.then(() => {
      if (this.phase === 'write') this.setPhase(phase, Infinity);
    });
  }

  private readonly onWritten = (n: number): void => {
    this.unflushed -= n;
  };

  private readonly onWriteFailed = (): void => {
    this.close();
  };

  /** Writes an error response (if no response began) and closes once it is out, or after a grace period. */
  private sendErrorAndClose(status: number, reason: string): void {
    if (this.closed) return;
    if (this.responseStarted) {
      this.close();
      return;
    }
    this.responseStarted = true;
    this.setPhase('closing', CLOSE_GRACE_MS);
    this.send(errorResponseBytes(status, reason, this.host.clock.wallNow()));
    this.lingerAndClose();
  }

  /**
   * After the last response: once every write is out, FIN, then wait (bounded by the grace
   * period) for the peer's FIN, so that unread input does not turn into a reset that could
   * destroy the response at the peer.
   */
  private lingerAndClose(): void {
    if (this.closed) return;
    this.setPhase('closing', CLOSE_GRACE_MS);
    const discard = new Uint8Array(4096);
    const drain = (): Promise<void> => this.conn.read(discard).then((n) => (n === null || this.closed ? undefined : drain()));
    this.lastWrite.then(() => (this.closed ? undefined : this.conn.closeWrite().then(drain))).then(() => this.close(), () => this.close());
  }

  /** The free part of the buffer to read into (compacting or growing it first). */
  private readView(): Uint8Array {
    if (this.start === this.end) this.start = this.end = 0;
    if (this.end === this.buf.length) {
      if (this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      } else {
        // Never full at the cap: the parser reports 431 past maxHeadBytes, and a chunked body
        // leaves at most one size or trailer line (shorter than the cap) unconsumed.
        const size = Math.min(this.buf.length * 2, Math.max(this.host.limits.maxHeadBytes, MAX_CHUNK_LINE) + INITIAL_BUFFER);
        if (size <= this.buf.length) throw new Error('kiln:http: connection buffer full');
        const bigger = new Uint8Array(size);
        bigger.set(this.buf.subarray(0, this.end));
        this.buf = bigger;
      }
    }
    return this.buf.subarray(this.end);
  }

  /** Reads more bytes into the buffer; null at end of stream or once the connection is closing. */
  private fill(): Promise<number | null> {
    if (this.phase === 'closing') return Promise.resolve(null);
    return this.conn.read(this.readView()).then((n) => {
      if (n !== null) this.end += n;
      return this.phase === 'closing' ? null : n;
    });
  }

  /** One request/response exchange after its head; whether the connection goes on (a promise unless all was synchronous). */
  private exchange(head: RequestHead): boolean | Promise<boolean> {
    this.start += head.length;
    if (head.contentLength > this.host.limits.maxBodyBytes) {
      this.sendErrorAndClose(413, `request body larger than ${this.host.limits.maxBodyBytes} bytes`);
      return false;
    }
    const url = requestUrl(head, this.host.defaultOrigin);
    if (url === null) {
      this.sendErrorAndClose(400, 'invalid request-target or Host');
      return false;
    }
    // A body of known length takes its whole share of the budget before any of it is read (and
    // before a 100 Continue): parallel uploads are served first come, first served, instead of
    // each taking part of the budget and all failing. A chunked body takes it chunk by chunk.
    if (!head.chunked && head.contentLength > 0 && !this.host.reserveBodyBytes(head.contentLength)) {
      this.sendErrorAndClose(503, `request bodies in flight would pass the server's memory budget (maxBufferedBodyBytes ${this.host.limits.maxBufferedBodyBytes})`);
      return false;
    }
    const body = head.chunked || head.contentLength > 0 ? new RequestBody(this, head) : null;
    this.body = body;
    const req = requestFromServer(head.method, url, head.headers, body === null ? null : body.source());
    this.setPhase('handler', Infinity);
    let r: unknown;
    try {
      r = this.host.handler(req, this.info ??= { remoteAddr: this.conn.remoteAddr });
    } catch (e) {
      return this.handlerFailed(head, body, e);
    }
    if (isThenable(r)) return Promise.resolve(r).then((res) => this.respond(head, body, res), (e: unknown) => this.handlerFailed(head, body, e));
    return this.respond(head, body, r);
  }

  /** The handler threw or gave no Response: ask onError; null (→ 500) if that fails too. */
  private async handlerFailed(head: RequestHead, body: RequestBody | null, e: unknown): Promise<boolean> {
    if (this.failed !== null && e === this.failed) return this.respond(head, body, null);
    let res: unknown = null;
    try {
      res = this.host.onError(e);
      if (isThenable(res)) res = await res;
      if (!(res instanceof Response)) throw new TypeError('onError did not return a Response');
    } catch (e2) {
      console.error(`kiln:http: onError failed: ${describeError(e2)}`);
      res = null;
    }
    return this.respond(head, body, res as Response | null);
  }

  /** Sends the handler's response (null: a plain 500); whether the connection goes on. */
  private respond(head: RequestHead, body: RequestBody | null, res: unknown): boolean | Promise<boolean> {
    if (res !== null && !(res instanceof Response)) {
      return this.handlerFailed(head, body, new TypeError(`the handler returned ${typeof res}, not a Response`));
    }
    if (this.closed || this.failed !== null) {
      // The connection gave up on this request (timeout, bad or oversized body): drop the app's
      // response and answer with the error, unless that is already under way.
      if (res !== null) cancelBody(res);
      if (this.failed !== null && !this.responseStarted) this.sendErrorAndClose(this.failed.status, this.failed.message);
      return false;
    }
    let keepAlive = head.keepAlive && !this.host.closing;
    if (body !== null && !body.done && !head.chunked && head.contentLength - body.received > this.host.limits.maxDrainBytes) keepAlive = false;
    const w = this.writeResponse(head, body, res ?? new Response('Internal Server Error', { status: 500 }), keepAlive);
    return typeof w === 'boolean' ? this.afterResponse(body, w) : w.then((k) => this.afterResponse(body, k));
  }

  /** After a response: close, or drain the rest of the request body and go on. */
  private afterResponse(body: RequestBody | null, keepAlive: boolean): boolean | Promise<boolean> {
    if (!keepAlive || this.closed) {
      if (body !== null) body.detach();
      this.lingerAndClose();
      return false;
    }
    if (body === null) return true;
    if (body.done) {
      body.detach();
      return true;
    }
    return body.drain(this.host.limits.maxDrainBytes).then((drained) => {
      body.detach();
      if (!drained) this.lingerAndClose();
      return drained && !this.closed;
    });
  }

  /** Writes `res`; whether the connection may stay open (at once for a known body, a promise for a stream). */
  private writeResponse(head: RequestHead, body: RequestBody | null, res: Response, keepAlive: boolean): boolean | Promise<boolean> {
    let status = res.status;
    let source: BodySource | null;
    try {
      source = takeBodySource(res);
    } catch (e) {
      console.error(`kiln:http: cannot send the response: ${describeError(e)}`);
      source = null;
      status = 500;
    }
    if (status === 0) status = 500; // Response.error()
    const noBody = head.method === 'HEAD' || status < 200 || status === 204 || status === 304;
    const known = isKnown(source);
    if (body !== null && body.awaitsContinue) {
      // A streamed body may be the request's own (new Response(req.body)): the interim 100 goes
      // out whole before the head, as it never can after it. Otherwise the handler is done with
      // the request: no 100, and the client may never send the body.
      if (known || noBody) keepAlive = false;
      else body.continueNow();
    }
    this.responseStarted = true;
    const hb = this.hb;
    hb.reset();
    hb.add(statusLine(status, status === res.status ? res.statusText : ''));
    const list = headerListOf(res.headers);
    let hasDate = false;
    let declaredLength = -1;
    for (let i = 0; i < list.length; i += 2) {
      const name = list[i]!;
      const value = list[i + 1]!;
      switch (name) {
        case 'content-length':
          if (/^[0-9]{1,15}$/.test(value)) declaredLength = Number(value);
          continue;
        case 'transfer-encoding':
        case 'keep-alive':
          continue;
        case 'connection':
          if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) keepAlive = false;
          continue;
        case 'date':
          hasDate = true;
          break;
      }
      hb.add(headerLine(name, value));
    }
    if (!hasDate) hb.add(dateLine(this.host.clock.wallNow()));

    // A known body goes out with the head in one write.
    if (isKnown(source)) {
      const bytes = source === null ? null : source.kind === 'text' ? encodeUtf8(source.text) : source.bytes;
      if (!(status < 200 || status === 204 || (status === 304 && bytes === null))) hb.add(contentLengthLine(bytes === null ? 0 : bytes.length));
      hb.add(keepAlive ? (head.minor === 0 ? KEEP_ALIVE_LINE : EMPTY) : CLOSE_LINE);
      const wait = this.send(hb.finish(noBody ? null : bytes));
      return wait === undefined ? keepAlive : wait.then(() => keepAlive);
    }
    return this.writeStream(head, source, hb, noBody, declaredLength, keepAlive);
  }

  /** Sends a streamed body after its head, awaiting each write (so a slow peer slows the stream). */
  // Content-Length if the app declared one, else chunked (HTTP/1.1) or until close (HTTP/1.0).
  private async writeStream(head: RequestHead, source: BodySource, hb: HeadBuilder, noBody: boolean, declaredLength: number, keepAlive: boolean): Promise<boolean> {
    const it = bodyChunks(source);
    if (noBody) {
      if (declaredLength >= 0 && head.method === 'HEAD') hb.add(contentLengthLine(declaredLength));
      hb.add(keepAlive ? (head.minor === 0 ? KEEP_ALIVE_LINE : EMPTY) : CLOSE_LINE);
      await this.write(hb.finish(null));
      stopIterator(it);
      return keepAlive;
    }
    const chunked = declaredLength < 0 && head.minor >= 1;
    if (declaredLength < 0 && !chunked) keepAlive = false;
    if (declaredLength >= 0) hb.add(contentLengthLine(declaredLength));
    else if (chunked) hb.add(CHUNKED_LINE);
    hb.add(keepAlive ? (head.minor === 0 ? KEEP_ALIVE_LINE : EMPTY) : CLOSE_LINE);
    await this.write(hb.finish(null));
    let sent = 0;
    let writing = false;
    try {
      for (;;) {
        this.setPhase('handler', Infinity);
        const r = await it.next();
        if (r.done) break;
        const chunk = r.value;
        if (chunk.length === 0 || this.closed) continue;
        sent += chunk.length;
        if (declaredLength >= 0 && sent > declaredLength) throw new RangeError(`the body is longer than its content-length ${declaredLength}`);
        writing = true;
        await this.write(chunked ? frameChunk(chunk) : chunk);
        writing = false;
      }
    } catch (e) {
      // Nothing can be said to the client once the head is out: log it, end the connection. The
      // client's doing (a reset, a bad request body streamed back) is one rate-limited line.
      if (writing || e === this.failed) transportLog.log(`kiln:http: a streamed response ended early: ${messageOf(e)}`);
      else console.error(`kiln:http: response body failed: ${describeError(e)}`);
      stopIterator(it);
      return false;
    }
    if (declaredLength >= 0 && sent !== declaredLength) {
      console.error(`kiln:http: the response body had ${sent} bytes, its content-length said ${declaredLength}`);
      return false;
    }
    if (chunked) await this.write(LAST_CHUNK_BYTES);
    return keepAlive;
  }

  /** Writes and waits until the transport took the bytes, under the write timeout. */
  private async write(bytes: Uint8Array): Promise<void> {
    if (this.closed) return;
    const phase = this.phase;
    this.setPhase('write', this.host.limits.writeTimeoutMs);
    this.unflushed += bytes.length;
    this.lastWrite = this.conn.write(bytes).then(this.onWritten);
    await this.lastWrite;
    if (this.phase === 'write') this.setPhase(phase, Infinity);
  }

  // --- request body access (RequestBody calls these: request_body.ts BodyConnection) ------

  /** @internal */
  bufferView(): { buf: Uint8Array; start: number; end: number } {
    return { buf: this.buf, start: this.start, end: this.end };
  }
  /** @internal */
  consume(n: number): void {
    this.start += n;
  }
  /**
   * @internal Reads more body bytes; null when the peer ended the stream or the connection
   * closed. The wait is bounded by the body timeout, the minimum rate (bodyTimeoutMs plus
   * `received` / minBodyBytesPerSec seconds of waiting in all) and the body deadline; the time
   * waited is added to `body.waitedMs`.
   */
  readBody(body: { readonly received: number; waitedMs: number }): Promise<number | null> {
    const l = this.host.limits;
    const byRate = l.minBodyBytesPerSec > 0 ? l.bodyTimeoutMs + (body.received / l.minBodyBytesPerSec) * 1000 : Infinity;
    const t0 = this.host.clock.now();
    this.setPhase('body', Math.max(0, Math.min(l.bodyTimeoutMs, byRate - body.waitedMs, l.bodyDeadlineMs - body.waitedMs)));
    return this.fill().then((n) => {
      body.waitedMs += this.host.clock.now() - t0;
      if (this.phase === 'body') this.setPhase('handler', Infinity);
      return n;
    });
  }
  /** @internal Sends the interim 100 (Expect: 100-continue), in order with every other write. */
  sendContinue(): void {
    this.send(CONTINUE_100);
  }
  /** @internal Bytes of the final response (or of an error response) have been written. */
  get responseBegun(): boolean {
    return this.responseStarted;
  }
  /** @internal The request body is bad or too large: answer with `status` (if no response began) and close. */
  fail(status: number, reason: string): RequestBodyError {
    if (this.failed === null) this.failed = new RequestBodyError(status, reason);
    if (this.responseStarted) this.close();
    return this.failed;
  }
  /** @internal The transport failed while reading a request body (a reset): one rate-limited line, and the request fails. */
  transportFailed(e: unknown): RequestBodyError {
    transportLog.log(`kiln:http: the connection failed inside a request body: ${messageOf(e)}`);
    return this.fail(400, 'the connection failed inside the request body');
  }
  /** @internal */
  get timedOutOrFailed(): RequestBodyError | null {
    return this.failed ?? (this.timedOut || this.closed ? new RequestBodyError(408, 'the connection closed') : null);
  }
  /** @internal Budget for request-body bytes across the server (maxBufferedBodyBytes). */
  reserveBodyBytes(n: number): boolean {
    return this.host.reserveBodyBytes(n);
  }
  /** @internal */
  releaseBodyBytes(n: number): void {
    this.host.releaseBodyBytes(n);
  }
  /** @internal */
  get bodyLimit(): number {
    return this.host.limits.maxBodyBytes;
  }
  /** @internal */
  get trailerLimit(): number {
    return this.host.limits.maxHeadBytes;
  }
}

const EMPTY = new Uint8Array(0);
const LAST_CHUNK_BYTES = latin1Encode('0\r\n\r\n');

function frameChunk(chunk: Uint8Array): Uint8Array {
  const size = chunkSizeLine(chunk.length);
  const out = new Uint8Array(size.length + chunk.length + 2);
  for (let i = 0; i < size.length; i++) out[i] = size.charCodeAt(i);
  out.set(chunk, size.length);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

/** Tells a body's producer to stop (its return()); its failures are nobody's business now. */
function stopIterator(it: AsyncIterator<Uint8Array>): void {
  try {
    it.return?.().then(undefined, () => undefined);
  } catch {
    // a return() that throws has stopped too
  }
}

function cancelBody(res: Response): void {
  try {
    const s = takeBodySource(res);
    if (s !== null) stopIterator(bodyChunks(s));
  } catch {
    // already used: nothing to cancel
  }
}
