// TextEncoder and TextDecoder (WHATWG Encoding Standard): QuickJS has neither. TextEncoder is
// UTF-8 (the standard has no other); TextDecoder decodes UTF-8 and UTF-16LE/BE. The UTF-8 codec
// itself is @kiln/common's text/utf8.ts (lone surrogates encode as U+FFFD, invalid bytes decode
// to one U+FFFD per maximal subpart); UTF-16 is decoded here (an unpaired surrogate or an odd
// final byte is one U+FFFD). This file adds the web API around them: labels (the standard's, for
// these three encodings), fatal, BOM handling and streaming. Other encodings (the legacy
// single- and multi-byte ones) are a RangeError naming the label.

import { decodeUtf8, encodeUtf8, encodeUtf8Into } from '@kiln/common/text/utf8.ts';
import { bufferSourceBytes } from '../lib/buffer_source.ts';

/** Length of an incomplete UTF-8 sequence at the end of `bytes` that more input could complete (0–3). */
function incompleteTail(bytes: Uint8Array): number {
  const len = bytes.length;
  for (let k = 1; k <= 3 && k <= len; k++) {
    const b = bytes[len - k]!;
    if (b < 0x80) return 0;
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      if (k >= need) return 0;
      // Only a prefix the decoder would still accept may wait for more bytes.
      if (k >= 2) {
        const c = bytes[len - k + 1]!;
        if ((b === 0xe0 && c < 0xa0) || (b === 0xed && c > 0x9f) || (b === 0xf0 && c < 0x90) || (b === 0xf4 && c > 0x8f)) return 0;
      }
      return b >= 0xc2 && b <= 0xf4 ? k : 0;
    }
  }
  return 0;
}

function toBytes(input: unknown): Uint8Array {
  if (input === undefined) return new Uint8Array(0);
  const bytes = bufferSourceBytes(input);
  if (bytes === undefined) throw new TypeError('The "input" argument must be an ArrayBuffer or ArrayBufferView');
  return bytes;
}

export class TextEncoder {
  get encoding(): string {
    return 'utf-8';
  }

  encode(input = ''): Uint8Array {
    return encodeUtf8(String(input));
  }

  /** Encodes as much of `source` as fits whole characters into `destination`. */
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number } {
    const [read, written] = encodeUtf8Into(String(source), 0, destination, 0);
    return { read, written };
  }
}

type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be';

/** The Encoding Standard's labels of the encodings TextDecoder decodes. */
const LABELS: Record<string, Encoding> = {
  ...Object.fromEntries(['utf-8', 'utf8', 'unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'x-unicode20utf8'].map((l) => [l, 'utf-8' as const])),
  ...Object.fromEntries(['csunicode', 'iso-10646-ucs-2', 'ucs-2', 'unicode', 'unicodefeff', 'utf-16', 'utf-16le'].map((l) => [l, 'utf-16le' as const])),
  ...Object.fromEntries(['unicodefffe', 'utf-16be'].map((l) => [l, 'utf-16be' as const])),
};

/** The UTF-16 code unit at bytes[i], bytes[i + 1]. */
const unitAt = (bytes: Uint8Array, i: number, bigEndian: boolean): number => (bigEndian ? (bytes[i]! << 8) | bytes[i + 1]! : bytes[i]! | (bytes[i + 1]! << 8));

/** UTF-16 code units of bytes[0, end) (little- or big-endian), as a string; a lone surrogate is U+FFFD (undefined when fatal). */
function decodeUtf16(bytes: Uint8Array, end: number, bigEndian: boolean, fatal: boolean): string | undefined {
  const units: number[] = [];
  let out = '';
  for (let i = 0; i + 1 < end; i += 2) {
    const u = unitAt(bytes, i, bigEndian);
    if (u >= 0xd800 && u <= 0xdbff) {
      const next = i + 3 < end ? unitAt(bytes, i + 2, bigEndian) : -1;
      if (next >= 0xdc00 && next <= 0xdfff) {
        units.push(u, next);
        i += 2;
      } else if (fatal) return undefined;
      else units.push(0xfffd);
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      if (fatal) return undefined;
      units.push(0xfffd);
    } else units.push(u);
    if (units.length >= 4096) {
      out += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  return out + String.fromCharCode(...units);
}

/** How many bytes at the end of `bytes` a streaming UTF-16 decode keeps for the next call: an odd byte, and a lead surrogate without its trail. */
function utf16Tail(bytes: Uint8Array, bigEndian: boolean): number {
  let keep = bytes.length & 1;
  const end = bytes.length - keep;
  if (end >= 2) {
    const u = unitAt(bytes, end - 2, bigEndian);
    if (u >= 0xd800 && u <= 0xdbff) keep += 2;
  }
  return keep;
}

export class TextDecoder {
  private readonly isFatal: boolean;
  private readonly ignoresBOM: boolean;
  private readonly enc: Encoding;
  private pending: Uint8Array | undefined;
  private bomSeen = false;

  constructor(label = 'utf-8', options: { fatal?: boolean; ignoreBOM?: boolean } = {}) {
    // The standard strips ASCII whitespace only (not String.prototype.trim's wider set).
    const enc = LABELS[String(label).replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '').toLowerCase()];
    if (enc === undefined) throw new RangeError(`The "${label}" encoding is not supported (Kiln decodes utf-8, utf-16le and utf-16be)`);
    this.enc = enc;
    this.isFatal = Boolean(options.fatal);
    this.ignoresBOM = Boolean(options.ignoreBOM);
  }

  get encoding(): string {
    return this.enc;
  }
  get fatal(): boolean {
    return this.isFatal;
  }
  get ignoreBOM(): boolean {
    return this.ignoresBOM;
  }

  decode(input?: ArrayBuffer | ArrayBufferView, options: { stream?: boolean } = {}): string {
    let bytes = toBytes(input);
    if (this.pending) {
      const joined = new Uint8Array(this.pending.length + bytes.length);
      joined.set(this.pending);
      joined.set(bytes, this.pending.length);
      bytes = joined;
      this.pending = undefined;
    }
    const stream = Boolean(options.stream);
    if (this.enc !== 'utf-8') return this.decode16(bytes, stream);
    if (stream) {
      const tail = incompleteTail(bytes);
      if (tail > 0) {
        this.pending = bytes.slice(bytes.length - tail);
        bytes = bytes.subarray(0, bytes.length - tail);
      }
    }
    // A BOM prefix is an incomplete sequence, so it is pending above until 3 bytes are in.
    if (!this.ignoresBOM && !this.bomSeen && bytes.length > 0) {
      if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      this.bomSeen = true;
    }
    const out = decodeUtf8(bytes, this.isFatal);
    if (out === undefined) throw new TypeError('The encoded data was not valid for encoding utf-8');
    if (!stream) this.bomSeen = false;
    return out;
  }

  private decode16(input: Uint8Array, stream: boolean): string {
    const bigEndian = this.enc === 'utf-16be';
    let bytes = input;
    const tail = stream ? utf16Tail(bytes, bigEndian) : 0;
    if (tail > 0) {
      this.pending = bytes.slice(bytes.length - tail);
      bytes = bytes.subarray(0, bytes.length - tail);
    }
    if (!this.ignoresBOM && !this.bomSeen && bytes.length >= 2) {
      if (bigEndian ? bytes[0] === 0xfe && bytes[1] === 0xff : bytes[0] === 0xff && bytes[1] === 0xfe) bytes = bytes.subarray(2);
      this.bomSeen = true;
    }
    // An odd final byte is one error, together with a lead surrogate before it (the standard's
    // end-of-queue step clears both at once).
    let end = bytes.length;
    if (end & 1) {
      end--;
      const u = end >= 2 ? unitAt(bytes, end - 2, bigEndian) : 0;
      if (u >= 0xd800 && u <= 0xdbff) end -= 2;
    }
    let out = decodeUtf16(bytes, end, bigEndian, this.isFatal);
    if (out !== undefined && end < bytes.length) out = this.isFatal ? undefined : `${out}\ufffd`;
    if (out === undefined) throw new TypeError(`The encoded data was not valid for encoding ${this.enc}`);
    if (!stream) this.bomSeen = false;
    return out;
  }
}
