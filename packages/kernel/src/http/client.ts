// The HTTP/1.1 client exchange behind fetch (RFC 9112): writes one request on a connection (a
// body of known length with Content-Length, a streamed one chunked, while the response is read,
// so a server that answers early is heard), reads the response head (1xx interim responses
// skipped; strict syntax: CRLF lines, a token before each colon, no obs-fold, agreeing
// Content-Lengths; 64 KiB and 256 fields at most) and hands back the body as a pull source that
// reads the connection only as the app reads (Content-Length, chunked — http/chunked.ts, the
// server's decoder — or until the server closes). One request per connection (`connection:
// close`): no pooling yet. Transport-agnostic over HttpConn (types.ts), so a Node test runs it
// against Node's HTTP server. Every failure is a TypeError (fetch's "network error") with the
// cause; an abort closes the connection and rejects with the signal's reason.

import { latin1Decode, latin1Encode } from '@kiln/common/text/latin1.ts';
import { HTTP_TOKEN } from '../web/http_syntax.ts';
import { ChunkedDecoder, chunkSizeLine, LAST_CHUNK } from './chunked.ts';
import type { AbortSignalLike } from '../lib/abort_signal_like.ts';
import type { HttpConn } from './types.ts';

export interface ClientRequest {
  method: string;
  /** The request-target in origin form: `/path?query`. */
  target: string;
  /** Field lines, names as given (Host first; the exchange adds framing and `connection: close`). */
  headers: [string, string][];
  /** Known-length bytes (Content-Length), a chunk iterator (chunked), or none. */
  body: Uint8Array | AsyncIterator<Uint8Array> | null;
  signal?: AbortSignalLike;
}

export interface ClientResponse {
  status: number;
  statusText: string;
  /** [name, value, ...], names lower-cased, as the server sent them. */
  headerList: string[];
  /** next() gives body chunks, then null; cancel() closes the connection. `length` is Content-Length, or -1. */
  body: { next(): Promise<Uint8Array | null>; cancel(): void; length: number } | null;
}

const MAX_RESPONSE_HEAD = 64 * 1024;
const MAX_RESPONSE_FIELDS = 256;
const READ_BYTES = 16 * 1024;
const CRLF = latin1Encode('\r\n');
const LAST = latin1Encode(LAST_CHUNK);
const STATUS_LINE = /^HTTP\/1\.(\d) (\d{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const FIELD = /^([^:\s]+):[\t ]*([\t\x20-\x7e\x80-\xff]*?)[\t ]*$/;

/** A network error as fetch reports it: a TypeError whose cause says what happened. */
export function networkError(message: string, cause?: unknown): TypeError {
  return new TypeError(`fetch failed: ${message}`, cause === undefined ? undefined : { cause });
}

/** Bytes read from the connection and not yet consumed. */
class Input {
  buf = new Uint8Array(READ_BYTES);
  start = 0;
  end = 0;
  eof = false;

  constructor(private readonly conn: HttpConn, private readonly failed: () => unknown) {}

  /** Reads more (growing the buffer up to `max` unconsumed bytes); false at end of stream. */
  async fill(max: number): Promise<boolean> {
    if (this.eof) return false;
    if (this.start === this.end) this.start = this.end = 0;
    if (this.end === this.buf.length) {
      const used = this.end - this.start;
      const next = used * 2 > this.buf.length ? new Uint8Array(Math.min(max + 1, this.buf.length * 2)) : this.buf;
      next.set(this.buf.subarray(this.start, this.end));
      this.buf = next;
      this.start = 0;
      this.end = used;
      if (this.end === this.buf.length) return true; // full at max: the caller sees the limit
    }
    let n: number | null;
    try {
      n = await this.conn.read(this.buf.subarray(this.end));
    } catch (e) {
      throw this.failed() ?? networkError('the connection failed while reading the response', e);
    }
    const reason = this.failed();
    if (reason !== undefined) throw reason;
    if (n === null) {
      this.eof = true;
      return false;
    }
    this.end += n;
    return true;
  }
}

/** Parses a response head (without its final CRLF CRLF) into status and fields. */
function parseResponseHead(text: string): { status: number; statusText: string; headerList: string[] } {
  const lines = text.split('\r\n');
  const m = STATUS_LINE.exec(lines[0]!);
  if (!m) throw networkError(`invalid status line ${JSON.stringify(lines[0]!.slice(0, 80))}`);
  if (lines.length - 1 > MAX_RESPONSE_FIELDS) throw networkError(`the response has more than ${MAX_RESPONSE_FIELDS} header fields`);
  const headerList: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.includes('\n') || line.includes('\r')) throw networkError('a bare CR or LF in the response head');
    const f = FIELD.exec(line);
    if (!f || !HTTP_TOKEN.test(f[1]!)) throw networkError(`invalid header line ${JSON.stringify(line.slice(0, 80))}`);
    headerList.push(f[1]!.toLowerCase(), f[2]!);
  }
  return { status: Number(m[2]), statusText: m[3] ?? '', headerList };
}

/** How the body is delimited (RFC 9112 §6.3). */
function framing(method: string, status: number, headerList: string[]): { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' } {
  if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) return { kind: 'none' };
  let te: string | undefined;
  let length = -1;
  for (let i = 0; i < headerList.length; i += 2) {
    const name = headerList[i]!;
    const value = headerList[i + 1]!;
    if (name === 'transfer-encoding') te = te === undefined ? value : `${te}, ${value}`;
    else if (name === 'content-length') {
      for (const part of value.split(',')) {
        const v = part.trim();
        if (!/^\d{1,15}$/.test(v)) throw networkError(`invalid Content-Length ${JSON.stringify(value)}`);
        if (length !== -1 && Number(v) !== length) throw networkError('conflicting Content-Length values');
        length = Number(v);
      }
    }
  }
  if (te !== undefined) {
    const codings = te.split(',').map((c) => c.trim().toLowerCase());
    return codings[codings.length - 1] === 'chunked' ? { kind: 'chunked' } : { kind: 'close' };
  }
  return length >= 0 ? { kind: 'length', length } : { kind: 'close' };
}

/** Sends `req` on `conn` and resolves with the response once its head has arrived. */
export async function exchange(conn: HttpConn, req: ClientRequest): Promise<ClientResponse> {
  let abortReason: unknown;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    req.signal?.removeEventListener('abort', onAbort);
    conn.close();
  };
  const onAbort = (): void => {
    abortReason = req.signal!.reason;
    close();
  };
  if (req.signal?.aborted) {
    conn.close();
    throw req.signal.reason;
  }
  req.signal?.addEventListener('abort', onAbort);
  const failed = (): unknown => abortReason;
  const input = new Input(conn, failed);

  const head: string[] = [`${req.method} ${req.target} HTTP/1.1\r\n`];
  for (const [n, v] of req.headers) head.push(`${n}: ${v}\r\n`);
  if (req.body instanceof Uint8Array) head.push(`content-length: ${req.body.length}\r\n`);
  else if (req.body !== null) head.push('transfer-encoding: chunked\r\n');
  head.push('connection: close\r\n\r\n');

  let writeError: unknown;
  void (async () => {
    await conn.write(latin1Encode(head.join('')));
    if (req.body instanceof Uint8Array) {
      if (req.body.length > 0) await conn.write(req.body);
    } else if (req.body !== null) {
      for (;;) {
        const r = await req.body.next();
        if (r.done) break;
        if (r.value.length === 0) continue;
        await conn.write(latin1Encode(chunkSizeLine(r.value.length)));
        await conn.write(r.value);
        await conn.write(CRLF);
      }
      await conn.write(LAST);
    }
  })().catch((e: unknown) => {
    writeError = e;
  });

  try {
    // The head, skipping interim (1xx) responses.
    let parsed: ReturnType<typeof parseResponseHead>;
    for (;;) {
      let from = input.start;
      let headEnd: number;
      for (;;) {
        headEnd = findHeadEnd(input.buf, from, input.end);
        if (headEnd >= 0) break;
        if (input.end - input.start > MAX_RESPONSE_HEAD) throw networkError(`the response head is larger than ${MAX_RESPONSE_HEAD} bytes`);
        const before = input.start; // fill may move the unconsumed bytes to the front
        from = Math.max(input.start, input.end - 3);
        if (!(await input.fill(MAX_RESPONSE_HEAD))) {
          if (writeError !== undefined && abortReason === undefined) throw networkError('the connection failed while sending the request', writeError);
          throw networkError(input.end > input.start ? 'the server closed the connection in the middle of the response head' : 'the server closed the connection without a response');
        }
        from += input.start - before;
      }
      parsed = parseResponseHead(latin1Decode(input.buf, input.start, headEnd));
      input.start = headEnd + 4;
      if (parsed.status >= 200) break;
      if (parsed.status === 101) throw networkError('the server switched protocols (101), which fetch does not support');
    }
    const frame = framing(req.method, parsed.status, parsed.headerList);
    if (frame.kind === 'none') {
      close();
      return { ...parsed, body: null };
    }
    return { ...parsed, body: bodyReader(input, frame, close, failed) };
  } catch (e) {
    close();
    throw abortReason ?? e;
  }
}

/** Index of the CRLF CRLF ending a head in buf[start, end), or -1. */
function findHeadEnd(buf: Uint8Array, start: number, end: number): number {
  for (let i = buf.indexOf(0x0d, start); i >= 0 && i + 3 < end; i = buf.indexOf(0x0d, i + 1)) {
    if (buf[i + 1] === 0x0a && buf[i + 2] === 0x0d && buf[i + 3] === 0x0a) return i;
  }
  return -1;
}

function bodyReader(
  input: Input,
  frame: { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' },
  close: () => void,
  failed: () => unknown,
): NonNullable<ClientResponse['body']> {
  let remaining = frame.kind === 'length' ? frame.length : Infinity;
  const chunked = frame.kind === 'chunked' ? new ChunkedDecoder(64 * 1024, Number.MAX_SAFE_INTEGER) : null;
  let done = remaining === 0;
  if (done) close();
  /** The body is complete: the connection closes (a request body the server never read is abandoned). */
  const finish = (): null => {
    done = true;
    close();
    return null;
  };
  const next = async (): Promise<Uint8Array | null> => {
    if (done) return null;
    try {
      for (;;) {
        const reason = failed();
        if (reason !== undefined) throw reason;
        if (input.start < input.end) {
          if (chunked) {
            const n = chunked.step(input.buf, input.start, input.end);
            if (typeof n !== 'number') throw networkError(`invalid chunked response body (${n.reason})`);
            input.start += n;
            if (chunked.dataEnd > chunked.dataStart) return input.buf.slice(chunked.dataStart, chunked.dataEnd);
            if (chunked.done) return finish();
            if (n > 0) continue;
          } else {
            const n = Math.min(remaining, input.end - input.start);
            const out = input.buf.slice(input.start, input.start + n);
            input.start += n;
            remaining -= n;
            if (remaining === 0) finish();
            return out;
          }
        }
        if (!(await input.fill(64 * 1024))) {
          if (frame.kind === 'close') return finish();
          throw networkError(frame.kind === 'length'
            ? `the server closed the connection ${remaining} bytes before the end of the body (Content-Length ${frame.length})`
            : 'the server closed the connection in the middle of the chunked body');
        }
      }
    } catch (e) {
      done = true;
      close();
      throw e;
    }
  };
  return {
    next,
    cancel: () => {
      done = true;
      close();
    },
    length: frame.kind === 'length' ? frame.length : -1,
  };
}
