// The chunked transfer coding (RFC 9112 §7.1): a decoder for request bodies, fed from the
// connection's buffer one step at a time (sans-IO: it never reads), and the framing helpers
// the response writer uses. Strict: chunk-size is 1–16 hex digits (64 bits), read exactly and
// refused (413) once the body would pass its limit — before any of that chunk's data; chunk
// extensions must be well-formed (and are ignored), every chunk's data ends in CRLF, the size
// line and trailer section are bounded, and trailer fields are checked like header fields and
// then dropped.

import { latin1Decode } from '@kiln/common/text/latin1.ts';
import { ParseError, badLineByte } from './parser.ts';

const CR = 13;
const LF = 10;
/** Longest chunk-size line we accept (size + extensions + CRLF). */
export const MAX_CHUNK_LINE = 4096;
const TCHARS = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
const CHUNK_SIZE_LINE = new RegExp(`^([0-9A-Fa-f]{1,16})(?:[ \\t]*;[ \\t]*${TCHARS}(?:[ \\t]*=[ \\t]*(?:${TCHARS}|${QUOTED}))?)*$`);
const TRAILER_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[ \t]*(?:[\x21-\x7e\x80-\xff]+(?:[ \t]+[\x21-\x7e\x80-\xff]+)*)?[ \t]*$/;

/**
 * The value of 1–16 hex digits, exact below 2^53 (parseInt rounds longer ones), else Infinity.
 * The top digits (all but the last 8) are exact on their own, and so is the sum while it is
 * below 2^53.
 */
export function chunkSizeValue(hex: string): number {
  if (hex.length <= 8) return parseInt(hex, 16);
  const high = parseInt(hex.slice(0, -8), 16);
  return high >= 2 ** 21 ? Infinity : high * 2 ** 32 + parseInt(hex.slice(-8), 16);
}

const enum State {
  Size,
  Data,
  DataCrlf,
  Trailer,
  Done,
}

export class ChunkedDecoder {
  private state = State.Size;
  private remaining = 0;
  private trailerBytes = 0;
  /** Bytes of the unfinished line at the last step's start already checked by badLineByte. */
  private lineChecked = 0;
  /** Body bytes announced by the chunk sizes so far. */
  private announced = 0;
  /** Body bytes the last step() produced: buf[dataStart, dataEnd). */
  dataStart = 0;
  dataEnd = 0;

  constructor(
    private readonly maxTrailerBytes: number,
    private readonly maxBodyBytes: number,
  ) {}

  /** The last chunk and the trailer section have been read. */
  get done(): boolean {
    return this.state === State.Done;
  }

  /**
   * Consumes bytes from buf[start, end). Returns how many (0: more input is needed) or a
   * ParseError. When the step yields body bytes they are buf[dataStart, dataEnd).
   */
  step(buf: Uint8Array, start: number, end: number): number | ParseError {
    this.dataStart = this.dataEnd = 0;
    switch (this.state) {
      case State.Size: {
        const lf = this.lineEnd(buf, start, end, MAX_CHUNK_LINE);
        if (typeof lf !== 'number' || lf < 0) return lf === -1 ? 0 : (lf as ParseError);
        const m = CHUNK_SIZE_LINE.exec(latin1Decode(buf, start, lf - 1));
        if (m === null) return new ParseError(400, 'invalid chunk size line');
        const size = chunkSizeValue(m[1]!);
        if (size === Infinity || size > this.maxBodyBytes - this.announced) return new ParseError(413, `request body larger than ${this.maxBodyBytes} bytes`);
        this.announced += size;
        this.remaining = size;
        this.state = this.remaining === 0 ? State.Trailer : State.Data;
        return lf + 1 - start;
      }
      case State.Data: {
        const n = Math.min(this.remaining, end - start);
        if (n === 0) return 0;
        this.dataStart = start;
        this.dataEnd = start + n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = State.DataCrlf;
        return n;
      }
      case State.DataCrlf:
        if (end - start < 2) return end > start && buf[start] !== CR ? new ParseError(400, 'chunk data not followed by CRLF') : 0;
        if (buf[start] !== CR || buf[start + 1] !== LF) return new ParseError(400, 'chunk data not followed by CRLF');
        this.state = State.Size;
        return 2;
      case State.Trailer: {
        const lf = this.lineEnd(buf, start, end, this.maxTrailerBytes - this.trailerBytes);
        if (typeof lf !== 'number' || lf < 0) return lf === -1 ? 0 : (lf as ParseError);
        const len = lf + 1 - start;
        this.trailerBytes += len;
        if (len === 2) {
          this.state = State.Done;
          return 2;
        }
        if (!TRAILER_LINE.test(latin1Decode(buf, start, lf - 1))) return new ParseError(400, 'invalid trailer field');
        return len;
      }
      case State.Done:
        return 0;
    }
  }

  /**
   * Index of the LF ending the line at `start` (its CR checked), -1 if not there yet, or an error
   * past `max` bytes or at a byte no line may hold (at once, not when the line ends).
   */
  private lineEnd(buf: Uint8Array, start: number, end: number, max: number): number | ParseError {
    const lf = buf.indexOf(LF, start);
    if (lf < 0 || lf >= end) {
      if (end - start > max) return new ParseError(this.state === State.Size ? 400 : 431, 'chunk line too long');
      if (badLineByte(buf, start + this.lineChecked, end) >= 0) return new ParseError(400, 'invalid character in chunked framing');
      this.lineChecked = Math.max(0, end - start - 1);
      return -1;
    }
    this.lineChecked = 0;
    if (lf + 1 - start > max) return new ParseError(this.state === State.Size ? 400 : 431, 'chunk line too long');
    if (lf === start || buf[lf - 1] !== CR) return new ParseError(400, 'bare LF in chunked body');
    return lf;
  }
}

const HEX_CACHE: string[] = [];

/** "<hex size>\r\n" for a chunk of `n` bytes. */
export function chunkSizeLine(n: number): string {
  if (n < 256) return (HEX_CACHE[n] ??= `${n.toString(16)}\r\n`);
  return `${n.toString(16)}\r\n`;
}

/** The last chunk and an empty trailer section. */
export const LAST_CHUNK = '0\r\n\r\n';
