// HTTP/1.1 response heads (RFC 9112 §4, §6; RFC 9110 §6.6.1 Date, §15 reason phrases), built
// from pre-encoded pieces so a response costs a few Uint8Array.set calls instead of a per-char
// encode (~90 ns a character under QuickJS): status lines are cached per status, every
// "name: value\r\n" line an app sends is cached by its text (bounded), the Date line is
// rebuilt once a second, and Content-Length lines for small sizes come from a table.

import { latin1Encode } from '@kiln/common/text/latin1.ts';

export const STATUS_TEXT: Record<number, string> = {
  100: 'Continue', 101: 'Switching Protocols', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content', 205: 'Reset Content', 206: 'Partial Content',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
  407: 'Proxy Authentication Required', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed',
  413: 'Content Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 417: 'Expectation Failed',
  418: "I'm a teapot", 421: 'Misdirected Request', 422: 'Unprocessable Content', 425: 'Too Early', 426: 'Upgrade Required', 428: 'Precondition Required',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported', 507: 'Insufficient Storage', 511: 'Network Authentication Required',
};

export const CONTINUE_100 = latin1Encode('HTTP/1.1 100 Continue\r\n\r\n');

const statusLines = new Map<number, Uint8Array>();

/** "HTTP/1.1 <status> <reason>\r\n"; the standard reason when `statusText` is empty. */
export function statusLine(status: number, statusText: string): Uint8Array {
  if (statusText === '' || statusText === STATUS_TEXT[status]) {
    let line = statusLines.get(status);
    if (line === undefined) {
      line = latin1Encode(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ''}\r\n`);
      statusLines.set(status, line);
    }
    return line;
  }
  return latin1Encode(`HTTP/1.1 ${status} ${statusText}\r\n`);
}

const HEADER_CACHE_MAX = 512;
const HEADER_CACHE_LINE_MAX = 256;
const headerLines = new Map<string, Uint8Array>();

/** The bytes of "name: value\r\n" (values are ByteStrings: one byte per char). */
export function headerLine(name: string, value: string): Uint8Array {
  const text = `${name}: ${value}\r\n`;
  let line = headerLines.get(text);
  if (line !== undefined) return line;
  line = latin1Encode(text);
  if (text.length <= HEADER_CACHE_LINE_MAX) {
    if (headerLines.size >= HEADER_CACHE_MAX) headerLines.clear();
    headerLines.set(text, line);
  }
  return line;
}

const CONTENT_LENGTH_TABLE = 1024;
const contentLengthLines: Uint8Array[] = [];

export function contentLengthLine(n: number): Uint8Array {
  if (n < CONTENT_LENGTH_TABLE) return (contentLengthLines[n] ??= latin1Encode(`content-length: ${n}\r\n`));
  return latin1Encode(`content-length: ${n}\r\n`);
}

export const CHUNKED_LINE = latin1Encode('transfer-encoding: chunked\r\n');
export const CLOSE_LINE = latin1Encode('connection: close\r\n');
export const KEEP_ALIVE_LINE = latin1Encode('connection: keep-alive\r\n');

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** IMF-fixdate (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT". */
export function imfFixdate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]!}, ${pad2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]!} ${d.getUTCFullYear()} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} GMT`;
}

let dateSecond = -1;
let dateLineBytes: Uint8Array = new Uint8Array(0);

/** "date: <IMF-fixdate>\r\n" for wall-clock time `ms`, rebuilt when the second changes. */
export function dateLine(ms: number): Uint8Array {
  const sec = Math.floor(ms / 1000);
  if (sec !== dateSecond) {
    dateSecond = sec;
    dateLineBytes = latin1Encode(`date: ${imfFixdate(sec * 1000)}\r\n`);
  }
  return dateLineBytes;
}

/** Collects head pieces and writes them, plus an optional body, into one buffer (reusable: reset()). */
export class HeadBuilder {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  reset(): void {
    this.parts.length = 0;
    this.size = 0;
  }

  add(piece: Uint8Array): void {
    this.parts.push(piece);
    this.size += piece.length;
  }

  /** The head (ending with the blank line) followed by `body`, in one new buffer. */
  finish(body: Uint8Array | null): Uint8Array {
    const out = new Uint8Array(this.size + 2 + (body === null ? 0 : body.length));
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    out[at++] = 13;
    out[at++] = 10;
    if (body !== null) out.set(body, at);
    return out;
  }
}
