// One HTTP/1.1 connection (RFC 9112 §9): reads request heads into one growable buffer, hands
// each request to the handler with a body that reads on demand (Content-Length or chunked,
// with Expect: 100-continue sent on the first read), writes the response — head and a known
// body in one write, streamed bodies chunked (or close-delimited for HTTP/1.0) — and goes on
// with the bytes already buffered, so pipelined requests are answered in order. Unread request
// bodies are drained up to a limit, else the connection closes. Protocol errors, limits and
// timeouts get a 4xx with "connection: close". The server's sweep calls onTimeout() when
// `deadline` (monotonic ms) passes; nothing here arms timers.

import { bodyChunks, takeBodySource, type BodySource } from '../web/body.ts';
import { headerListOf } from '../web/headers.ts';
import { requestFromServer, type Request } from '../web/request.ts';
import { Response } from '../web/response.ts';
import { latin1Encode, utf8Encode } from '../web/text_codec.ts';
import { URL } from '../web/url.ts';
import { ChunkedDecoder, MAX_CHUNK_LINE, chunkSizeLine } from './chunked.ts';
import { ParseError, parseRequestHead, type RequestHead } from './parser.ts';
import {
  CHUNKED_LINE, CLOSE_LINE, CONTINUE_100, HeadBuilder, KEEP_ALIVE_LINE, STATUS_TEXT, contentLengthLine, dateLine, headerLine, statusLine,
} from './serialize.ts';
import type { ErrorHandler, Handler, HttpConn, HttpLimits, ServerClock } from './types.ts';

const INITIAL_BUFFER = 4096;
/** How long a closing connection may take to flush its last response. */
const CLOSE_GRACE_MS = 2000;

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
}

export type Phase = 'idle' | 'head' | 'handler' | 'body' | 'write' | 'closing';

/** A request target the URL serializer would print unchanged (no dot segments, nothing to encode). */
const PLAIN_TARGET = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*(?:\?[A-Za-z0-9\-._~!$&()*+,;=:@%/?]*)?$/;
const ORIGIN_CACHE_MAX = 64;
const origins = new Map<string, string | null>();

/** "http://host[:port]" as URL would serialize it, or null when the Host value is not a valid host. */
function originOf(host: string): string | null {
  let o = origins.get(host);
  if (o !== undefined) return o;
  try {
    const u = new URL(`http://${host}`);
    o = u.pathname === '/' && u.search === '' && u.username === '' ? u.origin : null;
  } catch {
    o = null;
  }
  if (origins.size >= ORIGIN_CACHE_MAX) origins.clear();
  origins.set(host, o);
  return o;
}

/** The request's URL (Fetch's request.url) from its target and Host, or null if it cannot be one. */
export function requestUrl(head: RequestHead, defaultOrigin: string): string | null {
  const t = head.target;
  if (t.charCodeAt(0) === 47 /* / */) {
    const origin = head.host === null || head.host === '' ? defaultOrigin : originOf(head.host);
    if (origin === null) return null;
    if (PLAIN_TARGET.test(t) && t.indexOf('/.') < 0 && t.indexOf('%2') < 0) return origin + t;
    try {
      return new URL(t, origin).href;
    } catch {
      return null;
    }
  }
  if (t === '*') {
    const origin = head.host === null || head.host === '' ? defaultOrigin : originOf(head.host);
    return origin === null ? null : `${origin}/*`;
  }
  try {
    const u = new URL(t);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** Thrown into a handler reading a body the connection gave up on. */
export class RequestBodyError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'RequestBodyError';
  }
}

function errorResponseBytes(status: number, reason: string, dateMs: number): Uint8Array {
  const body = utf8Encode(`${STATUS_TEXT[status] ?? 'Error'}: ${reason}\n`);
  const hb = new HeadBuilder();
  hb.add(statusLine(status, ''));
  hb.add(headerLine('content-type', 'text/plain;charset=UTF-8'));
  hb.add(contentLengthLine(body.length));
  hb.add(dateLine(dateMs));
  hb.add(CLOSE_LINE);
  return hb.finish(body);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function';
}

export class HttpConnection {
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

  constructor(
    private readonly conn: HttpConn,
    private readonly host: ConnectionHost,
  ) {}

  private markClosed!: () => void;
  private readonly closedPromise = new Promise<void>((resolve) => (this.markClosed = resolve));

  /** Serves requests until the connection is closed; never rejects. */
  async serve(): Promise<void> {
    try {
      while (await this.exchange());
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
      this.failed = new RequestBodyError(408, phase === 'head' ? 'request head not received in time' : 'request body not received in time');
      this.sendErrorAndClose(408, this.failed.message);
      return;
    }
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.phase = 'closing';
    this.deadline = Infinity;
    this.conn.close();
    this.markClosed();
  }

  private setPhase(phase: Phase, timeoutMs: number): void {
    this.phase = phase;
    this.deadline = timeoutMs === Infinity ? Infinity : this.host.clock.now() + timeoutMs;
  }

  /** Writes an error response (if no response began) and closes once it is out, or after a grace period. */
  private sendErrorAndClose(status: number, reason: string): void {
    if (this.closed) return;
    if (this.responseStarted) {
      this.close();
      return;
    }
    this.responseStarted = true;
    this.setPhase('closing', CLOSE_GRACE_MS);
    const bytes = errorResponseBytes(status, reason, this.host.clock.wallNow());
    this.conn.write(bytes).then(() => this.lingerAndClose(), () => this.close());
  }

  /** After the last response: FIN, then wait (bounded) for the peer's FIN so unread input does not turn into a reset. */
  private lingerAndClose(): void {
    if (this.closed) return;
    this.setPhase('closing', CLOSE_GRACE_MS);
    const discard = new Uint8Array(4096);
    const drain = (): Promise<void> => this.conn.read(discard).then((n) => (n === null || this.closed ? undefined : drain()));
    this.conn.closeWrite().then(drain).then(() => this.close(), () => this.close());
  }

  /** Reads more bytes into the buffer (compacting or growing it first); null at end of stream. */
  private fill(): Promise<number | null> {
    if (this.phase === 'closing') return Promise.resolve(null);
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
    return this.conn.read(this.buf.subarray(this.end)).then((n) => {
      if (n !== null) this.end += n;
      return this.phase === 'closing' ? null : n;
    });
  }

  /** Reads until a whole request head is buffered: a RequestHead, a ParseError, or null when the connection ends first. */
  private async readHead(): Promise<RequestHead | ParseError | null> {
    const limits = this.host.limits;
    if (this.start === this.end) this.setPhase('idle', limits.idleTimeoutMs);
    else this.setPhase('head', limits.headerTimeoutMs);
    for (;;) {
      if (this.start < this.end) {
        const r = parseRequestHead(this.buf, this.start, this.end, limits);
        if (r !== null) return r;
      }
      if (this.host.closing && this.start === this.end) return null;
      const n = await this.fill();
      if (n === null) return null;
      if (this.phase === 'idle' && this.start < this.end) this.setPhase('head', limits.headerTimeoutMs);
    }
  }

  /** One request/response exchange; whether the connection goes on. */
  private async exchange(): Promise<boolean> {
    this.responseStarted = false;
    this.failed = null;
    const head = await this.readHead();
    if (head === null || this.closed) return false;
    if (head instanceof ParseError) {
      this.sendErrorAndClose(head.status, head.reason);
      return false;
    }
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
    const body = head.chunked || head.contentLength > 0 ? new RequestBody(this, head) : null;
    const req = requestFromServer(head.method, url, head.headers, body === null ? null : body.source());
    this.setPhase('handler', Infinity);

    let res = await this.callHandler(req);
    const failed = this.failed as RequestBodyError | null; // callHandler may have set it
    if (this.closed || failed !== null) {
      // The connection gave up on this request (timeout, bad or oversized body): drop the app's
      // response and answer with the error, unless that is already under way.
      if (res !== null) cancelBody(res);
      if (failed !== null && !this.responseStarted) this.sendErrorAndClose(failed.status, failed.message);
      return false;
    }
    if (res === null) res = new Response('Internal Server Error', { status: 500 });

    let keepAlive = head.keepAlive && !this.host.closing;
    if (body !== null && !body.done) {
      if (head.expectContinue && !body.started) keepAlive = false; // the client may never send it
      else if (!head.chunked && head.contentLength - body.received > this.host.limits.maxDrainBytes) keepAlive = false;
    }
    keepAlive = await this.writeResponse(head, res, keepAlive);
    if (!keepAlive || this.closed) {
      if (body !== null) body.detach();
      this.lingerAndClose();
      return false;
    }
    if (body !== null) {
      const drained = await body.drain(this.host.limits.maxDrainBytes);
      body.detach();
      if (!drained) {
        this.lingerAndClose();
        return false;
      }
    }
    return !this.closed;
  }

  /** Runs the handler (and onError if it fails); null if even onError failed. */
  private async callHandler(req: Request): Promise<Response | null> {
    try {
      let r: unknown = this.host.handler(req, { remoteAddr: this.conn.remoteAddr });
      if (isThenable(r)) r = await r;
      if (!(r instanceof Response)) throw new TypeError(`the handler returned ${r === null ? 'null' : typeof r}, not a Response`);
      return r;
    } catch (e) {
      if (this.failed !== null && e === this.failed) return null;
      try {
        let r: unknown = this.host.onError(e);
        if (isThenable(r)) r = await r;
        if (!(r instanceof Response)) throw new TypeError('onError did not return a Response');
        return r;
      } catch (e2) {
        console.error('kiln:http: onError failed:', e2);
        return null;
      }
    }
  }

  /** Writes `res`; returns whether the connection may stay open. */
  private async writeResponse(head: RequestHead, res: Response, keepAlive: boolean): Promise<boolean> {
    this.responseStarted = true;
    let status = res.status;
    let source: BodySource | null;
    try {
      source = takeBodySource(res);
    } catch (e) {
      console.error('kiln:http: cannot send the response:', e);
      source = null;
      status = 500;
    }
    if (status === 0) status = 500; // Response.error()
    const noBody = head.method === 'HEAD' || status < 200 || status === 204 || status === 304;
    const hb = new HeadBuilder();
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
    if (source === null || source.kind === 'text' || source.kind === 'bytes') {
      const bytes = source === null ? null : source.kind === 'text' ? utf8Encode(source.text) : source.bytes;
      if (!(status < 200 || status === 204 || (status === 304 && bytes === null))) hb.add(contentLengthLine(bytes === null ? 0 : bytes.length));
      hb.add(keepAlive ? (head.minor === 0 ? KEEP_ALIVE_LINE : EMPTY) : CLOSE_LINE);
      await this.write(hb.finish(noBody ? null : bytes));
      return keepAlive;
    }

    // A streamed body: Content-Length if the app declared it, else chunked (HTTP/1.1) or until close (HTTP/1.0).
    const it = bodyChunks(source);
    if (noBody) {
      if (declaredLength >= 0 && head.method === 'HEAD') hb.add(contentLengthLine(declaredLength));
      hb.add(keepAlive ? (head.minor === 0 ? KEEP_ALIVE_LINE : EMPTY) : CLOSE_LINE);
      await this.write(hb.finish(null));
      void it.return?.();
      return keepAlive;
    }
    const chunked = declaredLength < 0 && head.minor >= 1;
    if (declaredLength < 0 && !chunked) keepAlive = false;
    if (declaredLength >= 0) hb.add(contentLengthLine(declaredLength));
    else if (chunked) hb.add(CHUNKED_LINE);
    hb.add(keepAlive ? (head.minor === 0 ? KEEP_ALIVE_LINE : EMPTY) : CLOSE_LINE);
    await this.write(hb.finish(null));
    let sent = 0;
    try {
      for (;;) {
        this.setPhase('handler', Infinity);
        const r = await it.next();
        if (r.done) break;
        const chunk = r.value;
        if (chunk.length === 0 || this.closed) continue;
        sent += chunk.length;
        if (declaredLength >= 0 && sent > declaredLength) throw new RangeError(`the body is longer than its content-length ${declaredLength}`);
        await this.write(chunked ? frameChunk(chunk) : chunk);
      }
    } catch (e) {
      // Nothing can be said to the client once the head is out: log it, end the connection.
      console.error('kiln:http: response body failed:', e);
      void it.return?.();
      return false;
    }
    if (declaredLength >= 0 && sent !== declaredLength) {
      console.error(`kiln:http: the response body had ${sent} bytes, its content-length said ${declaredLength}`);
      return false;
    }
    if (chunked) await this.write(LAST_CHUNK_BYTES);
    return keepAlive;
  }

  private async write(bytes: Uint8Array): Promise<void> {
    if (this.closed) return;
    const phase = this.phase;
    this.setPhase('write', this.host.limits.writeTimeoutMs);
    await this.conn.write(bytes);
    this.setPhase(phase, Infinity);
  }

  // --- request body access (RequestBody calls these) ------------------------------------

  /** @internal */
  bufferView(): { buf: Uint8Array; start: number; end: number } {
    return { buf: this.buf, start: this.start, end: this.end };
  }
  /** @internal */
  consume(n: number): void {
    this.start += n;
  }
  /** @internal Reads more body bytes; null when the peer ended the stream or the connection closed. */
  readBody(): Promise<number | null> {
    this.setPhase('body', this.host.limits.bodyTimeoutMs);
    return this.fill().then((n) => {
      if (this.phase === 'body') this.setPhase('handler', Infinity);
      return n;
    });
  }
  /** @internal */
  sendContinue(): Promise<void> {
    return this.conn.write(CONTINUE_100).then(() => undefined);
  }
  /** @internal The request body is bad or too large: answer with `status` (if no response began) and close. */
  fail(status: number, reason: string): RequestBodyError {
    if (this.failed === null) this.failed = new RequestBodyError(status, reason);
    if (this.responseStarted) this.close();
    return this.failed;
  }
  /** @internal */
  get timedOutOrFailed(): RequestBodyError | null {
    return this.failed ?? (this.timedOut || this.closed ? new RequestBodyError(408, 'the connection closed') : null);
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

function cancelBody(res: Response): void {
  try {
    const s = takeBodySource(res);
    if (s !== null) void bodyChunks(s).return?.();
  } catch {
    // already used: nothing to cancel
  }
}

/** The body of one request, read from the connection's buffer on demand. */
class RequestBody {
  received = 0;
  done = false;
  started = false;
  private detached = false;
  private continueSent = false;
  private readonly decoder: ChunkedDecoder | null;
  private remaining: number;

  constructor(
    private readonly c: HttpConnection,
    private readonly head: RequestHead,
  ) {
    this.decoder = head.chunked ? new ChunkedDecoder(c.trailerLimit) : null;
    this.remaining = head.chunked ? Infinity : head.contentLength;
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
  }

  async next(): Promise<Uint8Array | null> {
    if (this.detached) throw new TypeError('the request body is no longer available: the response was sent');
    if (this.done) return null;
    if (!this.started) {
      this.started = true;
      if (this.head.expectContinue && !this.continueSent) {
        this.continueSent = true;
        await this.c.sendContinue();
      }
    }
    for (;;) {
      const chunk = this.take();
      if (chunk !== undefined) return chunk;
      const n = await this.c.readBody();
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
        if (this.received > this.c.bodyLimit) throw this.c.fail(413, `request body larger than ${this.c.bodyLimit} bytes`);
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
    if (this.head.expectContinue && !this.started) return false;
    const limit = this.received + max;
    try {
      while ((await this.next()) !== null) if (this.received > limit) return false;
    } catch {
      return false;
    }
    return true;
  }
}
