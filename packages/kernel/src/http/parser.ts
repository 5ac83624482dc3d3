// HTTP/1.1 request head parser (RFC 9112 §2–§3, §5–§7; RFC 9110 §5, §8.6, §10.1.1), strict:
// lines end in CRLF (a bare LF or CR is an error), no obs-fold, no whitespace before the colon,
// tokens and field values checked, Host required once in HTTP/1.1, Content-Length digits only
// (repeats must agree), Transfer-Encoding only "chunked" as the final coding and never with
// Content-Length or in HTTP/1.0, an absolute-form target only http:// without userinfo (RFC 9110
// §4.2.4; the server speaks plain HTTP). Any of these is a 400-class result, never an exception:
// the parser returns a RequestHead, a ParseError (status + reason) or null (need more bytes). A
// byte no head may hold (a control other than HTAB, a CR without its LF) is a 400 as soon as it
// arrives, not once the head ends (which it may never do before the header timeout).
// Speed under QuickJS: the head end is found with Uint8Array.indexOf, the head becomes one
// Latin-1 string with one native call, and lines are matched by sticky regular expressions.

import { latin1Decode } from '@kiln/common/text/latin1.ts';

export interface HeadLimits {
  /** Largest head (request line + fields + blank line) in bytes: 431 beyond (414 if the request line alone is longer). */
  maxHeadBytes: number;
  /** Most field lines: 431 beyond. */
  maxHeaders: number;
}

export interface RequestHead {
  method: string;
  /** The request-target as sent (origin-form "/p?q", absolute-form, or "*"). */
  target: string;
  /** Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1 and later 1.x. */
  minor: number;
  /** Field lines as [name, value, ...]: names lower-case, values without surrounding whitespace. */
  headers: string[];
  /** Body length from Content-Length, or -1 when there is none (chunked, or no body). */
  contentLength: number;
  chunked: boolean;
  /** Whether the connection may carry another request after this one. */
  keepAlive: boolean;
  expectContinue: boolean;
  /** The Host field value, or null when absent (HTTP/1.0). */
  host: string | null;
  /** Bytes the head took, from the start offset given to the parser (leading blank lines included). */
  length: number;
}

export class ParseError {
  constructor(
    /** 400, 414, 417, 431, 501 or 505. */
    readonly status: number,
    readonly reason: string,
  ) {}
}

const CR = 13;
const LF = 10;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) HTTP\/([0-9])\.([0-9])$/;
const ANY_VERSION = / HTTP\/([0-9])\.[0-9]$/;
// field-name ":" OWS field-value OWS CRLF; the value is runs of visible chars (or obs-text)
// separated by runs of SP/HTAB, so the optional whitespace around it is never ambiguous.
const FIELD_LINE = /([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*((?:[\x21-\x7e\x80-\xff]+(?:[ \t]+[\x21-\x7e\x80-\xff]+)*)?)[ \t]*\r\n/y;
const CONTENT_LENGTH = /^[0-9]{1,15}$/;
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const HTTP_SCHEME = /^http:/i;
/** An '@' before the authority ends: userinfo ("http://user:pass@host/"). */
const USERINFO = /^[^:]*:\/\/[^/?]*@/;
const TARGET = /^[\x21-\x7e]+$/;
const COMMON_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);

// Host values repeat from request to request: remember the ones already checked.
const HOST_CACHE_MAX = 64;
const validHosts = new Set<string>();

function validHost(host: string): boolean {
  if (validHosts.has(host)) return true;
  if (!HOST.test(host)) return false;
  if (validHosts.size >= HOST_CACHE_MAX) validHosts.clear();
  validHosts.add(host);
  return true;
}

function fieldLineError(line: string): ParseError {
  if (line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9) return new ParseError(400, 'obsolete line folding is not accepted');
  if (/^[^:]*[ \t]:/.test(line)) return new ParseError(400, 'whitespace between field name and colon');
  if (line.indexOf(':') <= 0) return new ParseError(400, 'field line without a name and colon');
  return new ParseError(400, 'invalid character in a field line');
}

/** Parses a Content-Length value: digits, or a list of identical digit strings (RFC 9110 §8.6). */
function contentLengthOf(value: string): number {
  if (CONTENT_LENGTH.test(value)) return Number(value);
  const parts = value.split(',');
  let n = -1;
  for (const p of parts) {
    const t = p.trim();
    if (!CONTENT_LENGTH.test(t)) return -1;
    const v = Number(t);
    if (n >= 0 && v !== n) return -1;
    n = v;
  }
  return n;
}

/**
 * The index of the first byte in buf[from, end) that no request head or chunk line may hold — a
 * control character other than HTAB, or a CR not followed by LF — or -1. A CR as the last byte
 * is not judged yet (its LF may come).
 */
export function badLineByte(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    const b = buf[i]!;
    if (b < 0x20 ? b !== 9 && b !== LF && (b !== CR || (i + 1 < end && buf[i + 1] !== LF)) : b === 0x7f) return i;
  }
  return -1;
}

/**
 * Parses the request head in buf[start, end). Returns null while the head is incomplete and
 * within limits. Bytes before `from` were checked by an earlier call on the same head (all but
 * a last CR), so that a head arriving in pieces is scanned once. Never throws.
 */
export function parseRequestHead(buf: Uint8Array, start: number, end: number, limits: HeadLimits, from = start): RequestHead | ParseError | null {
  // RFC 9112 §2.2: ignore blank lines before the request-line.
  let p = start;
  while (p + 1 < end && buf[p] === CR && buf[p + 1] === LF) p += 2;
  if (p - start > limits.maxHeadBytes) return new ParseError(400, 'too many blank lines before the request');
  if (p < end && buf[p] === LF) return new ParseError(400, 'bare LF');

  // Find the blank line that ends the head, checking every LF has its CR.
  let lineStart = p;
  let lines = 0;
  let headEnd = -1;
  for (;;) {
    const lf = buf.indexOf(LF, lineStart);
    if (lf < 0 || lf >= end) break;
    if (buf[lf - 1] !== CR) return new ParseError(400, 'bare LF');
    if (lf + 1 - start > limits.maxHeadBytes) break;
    if (lf - 1 === lineStart) {
      headEnd = lf + 1;
      break;
    }
    if (++lines > limits.maxHeaders + 1) return new ParseError(431, 'too many header fields');
    lineStart = lf + 1;
  }
  if (headEnd < 0) {
    // A complete head is checked by the line expressions below; an unfinished one here.
    if (badLineByte(buf, Math.max(p, from), end) >= 0) return new ParseError(400, 'invalid character in the request head');
    if (end - start <= limits.maxHeadBytes) return null;
    return lines === 0 ? new ParseError(414, 'request line too long') : new ParseError(431, 'request header fields too large');
  }

  // Request line and field lines, without the final blank line's CRLF.
  const s = latin1Decode(buf, p, headEnd - 2);
  const rlEnd = s.indexOf('\r\n');
  const rl = s.slice(0, rlEnd);
  let method: string;
  let target: string;
  let minor: number;
  // Fast path: a common method, one-space separators, HTTP/1.1 or 1.0 (the regex decides the rest).
  const sp1 = rl.indexOf(' ');
  const sp2 = rl.lastIndexOf(' ');
  const version = rl.slice(sp2 + 1);
  if (sp1 > 0 && sp2 > sp1 + 1 && COMMON_METHODS.has(rl.slice(0, sp1)) && (version === 'HTTP/1.1' || version === 'HTTP/1.0') && TARGET.test(rl.slice(sp1 + 1, sp2))) {
    method = rl.slice(0, sp1);
    target = rl.slice(sp1 + 1, sp2);
    minor = version === 'HTTP/1.0' ? 0 : 1;
  } else {
    const m = REQUEST_LINE.exec(rl);
    if (m === null) {
      const v = ANY_VERSION.exec(rl);
      if (v !== null && v[1] !== '1' && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [\x21-\x7e]+ HTTP/.test(rl)) return new ParseError(505, 'HTTP version not supported');
      return new ParseError(400, 'invalid request line');
    }
    if (m[3] !== '1') return new ParseError(505, 'HTTP version not supported');
    method = m[1]!;
    target = m[2]!;
    minor = m[4] === '0' ? 0 : 1;
  }

  const headers: string[] = [];
  let contentLength = -1;
  let te: string | null = null;
  let hosts = 0;
  let host: string | null = null;
  let close = false;
  let keepAliveToken = false;
  let expectContinue = false;
  let pos = rlEnd + 2;
  while (pos < s.length) {
    FIELD_LINE.lastIndex = pos;
    const f = FIELD_LINE.exec(s);
    if (f === null) return fieldLineError(s.slice(pos, s.indexOf('\r\n', pos)));
    pos = FIELD_LINE.lastIndex;
    const name = f[1]!.toLowerCase();
    const value = f[2]!;
    headers.push(name, value);
    switch (name) {
      case 'content-length': {
        const n = contentLengthOf(value);
        if (n < 0) return new ParseError(400, 'invalid Content-Length');
        if (contentLength >= 0 && n !== contentLength) return new ParseError(400, 'conflicting Content-Length values');
        contentLength = n;
        break;
      }
      case 'transfer-encoding':
        te = te === null ? value : `${te},${value}`;
        break;
      case 'host':
        hosts++;
        host = value;
        break;
      case 'connection':
        for (const t of value.toLowerCase().split(',')) {
          const token = t.trim();
          if (token === 'close') close = true;
          else if (token === 'keep-alive') keepAliveToken = true;
        }
        break;
      case 'expect':
        if (value.toLowerCase() !== '100-continue') return new ParseError(417, 'only "Expect: 100-continue" is supported');
        expectContinue = true;
        break;
    }
  }

  // RFC 9112 §3.2: Host exactly once in HTTP/1.1, at most once otherwise, and well-formed.
  if (hosts > 1) return new ParseError(400, 'more than one Host field');
  if (hosts === 0 && minor >= 1) return new ParseError(400, 'missing Host field');
  if (host !== null && !validHost(host)) return new ParseError(400, 'invalid Host field');

  // RFC 9112 §6.1, §6.3: framing.
  let chunked = false;
  if (te !== null) {
    if (minor === 0) return new ParseError(400, 'Transfer-Encoding in an HTTP/1.0 request');
    if (contentLength >= 0) return new ParseError(400, 'both Content-Length and Transfer-Encoding');
    const codings = te.toLowerCase().split(',').map((c) => c.trim()).filter((c) => c !== '');
    if (codings.length === 0 || codings[codings.length - 1] !== 'chunked') return new ParseError(400, 'Transfer-Encoding does not end with chunked');
    if (codings.length > 1) {
      if (codings.indexOf('chunked') < codings.length - 1) return new ParseError(400, 'chunked applied more than once');
      return new ParseError(501, `transfer coding "${codings[0]!}" is not implemented`);
    }
    chunked = true;
  }
  if (expectContinue && minor === 0) expectContinue = false; // RFC 9110 §10.1.1: ignore it from HTTP/1.0 clients

  // RFC 9112 §3.2: request-target forms.
  const t0 = target.charCodeAt(0);
  if (t0 !== 47 /* / */) {
    if (target === '*') {
      if (method !== 'OPTIONS') return new ParseError(400, 'asterisk-form is only for OPTIONS');
    } else if (method === 'CONNECT') {
      return new ParseError(501, 'CONNECT is not implemented');
    } else if (!ABSOLUTE_FORM.test(target)) {
      return new ParseError(400, 'invalid request-target');
    } else if (!HTTP_SCHEME.test(target)) {
      return new ParseError(400, 'an absolute-form request-target must be http:// (this server speaks plain HTTP)');
    } else if (USERINFO.test(target)) {
      return new ParseError(400, 'userinfo in the request-target');
    }
  }

  return {
    method, target, minor, headers, contentLength, chunked,
    keepAlive: !close && (minor >= 1 || keepAliveToken),
    expectContinue, host, length: headEnd - start,
  };
}
