// Unsigned LEB128 varints (little-endian base-128 groups, low first, in their shortest form, at
// most 5 bytes: values up to 2^35 − 1) and length-prefixed UTF-8 strings: the packing of the
// image's debug sections (line_map.ts, function_names.ts). The reader takes untrusted bytes:
// every varint is checked for truncation, length and shortest form, every string for its bounds
// and its UTF-8, and a failure is the ImageError (EBADPAYLOAD) its section's `bad` makes. Pure TS
// without BigInt or TextEncoder: the guest imports it.

import type { ImageError } from '../elf/errors.ts';
import { decodeUtf8, encodeUtf8 } from '../text/utf8.ts';

/** Appends varints and strings to a byte list. */
export class VarintWriter {
  readonly out: number[];

  constructor(prefix: readonly number[] = []) {
    this.out = [...prefix];
  }

  varint(n: number): void {
    while (n >= 0x80) {
      this.out.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.out.push(n);
  }

  /** A varint byte length, then the UTF-8 bytes; a RangeError past `max` bytes. */
  string(s: string, max: number, what: string): void {
    const bytes = encodeUtf8(s);
    if (bytes.length > max) throw new RangeError(`${what} too long`);
    this.varint(bytes.length);
    for (const b of bytes) this.out.push(b);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

/** Reads varints and strings from untrusted bytes, from `at`. */
export class VarintReader {
  at: number;

  constructor(readonly buf: Uint8Array, at: number, private readonly bad: (msg: string) => ImageError) {
    this.at = at;
  }

  get left(): number {
    return this.buf.length - this.at;
  }

  varint(what: string): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      if (this.at >= this.buf.length) throw this.bad(`${what} is cut off at byte ${this.at}`);
      const b = this.buf[this.at++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (b === 0 && i > 0) throw this.bad(`${what} at byte ${this.at - i - 1} is not in its shortest form`);
        return n;
      }
      scale *= 0x80;
    }
    throw this.bad(`${what} at byte ${this.at - 5} is longer than 5 bytes`);
  }

  string(what: string): string {
    const len = this.varint(`${what} length`);
    if (len > this.left) throw this.bad(`${what} (${len} bytes) is past the end`);
    const s = decodeUtf8(this.buf.subarray(this.at, this.at + len), true);
    if (s === undefined) throw this.bad(`${what} is not UTF-8`);
    this.at += len;
    return s;
  }
}
