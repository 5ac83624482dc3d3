// TextEncoder and TextDecoder (WHATWG Encoding Standard), UTF-8 only: QuickJS has neither.
// Lone surrogates encode as U+FFFD; invalid bytes decode to U+FFFD per the spec's UTF-8 decoder
// (one replacement per maximal subpart). Both lean on native string functions where they can,
// because a per-byte loop costs ~90 ns a byte under QuickJS: decoding goes bytes → Latin-1
// string (String.fromCharCode.apply) → done if ASCII, else decodeURIComponent(escape(...)) for
// valid UTF-8, and the spec's byte loop only for invalid input. Other encodings (labels other
// than utf-8/utf8/unicode-1-1-utf-8) are a RangeError.

const APPLY_CHUNK = 8192;
const NON_ASCII = /[\x80-\xff]/;
const NON_ASCII_OR_WIDE = /[^\x00-\x7f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const HAS_SURROGATE = /[\ud800-\udfff]/;
/** Strings up to this length are encoded without a regex test first. */
const SHORT = 32;

/** Bytes (any values) → a string with one char per byte (Latin-1), using native code. */
export function latin1Decode(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (end - start <= APPLY_CHUNK) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  let s = '';
  for (let i = start; i < end; i += APPLY_CHUNK) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + APPLY_CHUNK)) as unknown as number[]);
  }
  return s;
}

/** Writes the low byte of each char of `s` into `out` at `at` (callers pass Latin-1/ASCII strings). */
export function latin1EncodeInto(s: string, out: Uint8Array, at: number): void {
  for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
}

/** A string with one char per byte → those bytes. */
export function latin1Encode(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  latin1EncodeInto(s, out, 0);
  return out;
}

/** UTF-8 encoding of `s` (lone surrogates → U+FFFD). */
export function utf8Encode(s: string): Uint8Array {
  if (s.length <= SHORT) {
    // Short strings: copy while ASCII (cheaper than a regex test first).
    const out = new Uint8Array(s.length);
    let i = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      out[i] = c;
    }
    if (i === s.length) return out;
  } else if (!NON_ASCII_OR_WIDE.test(s)) return latin1Encode(s);
  if (HAS_SURROGATE.test(s)) s = s.replace(LONE_SURROGATE, '\ufffd');
  return latin1Encode(unescape(encodeURIComponent(s)));
}
/** UTF-8 byte length of `s` (lone surrogates count as U+FFFD). */
export function utf8Length(s: string): number {
  if (!NON_ASCII_OR_WIDE.test(s)) return s.length;
  if (HAS_SURROGATE.test(s)) s = s.replace(LONE_SURROGATE, '\ufffd');
  return unescape(encodeURIComponent(s)).length;
}

/**
 * UTF-8 bytes → string, invalid sequences → U+FFFD (WHATWG "UTF-8 decode without BOM").
 * `fatal` throws a TypeError instead. Valid input never runs a per-byte JS loop.
 */
export function utf8Decode(bytes: Uint8Array, fatal = false): string {
  const s = latin1Decode(bytes);
  if (!NON_ASCII.test(s)) return s;
  try {
    return decodeURIComponent(escape(s));
  } catch {
    return utf8DecodeSlow(bytes, 0, bytes.length, fatal);
  }
}

/** The Encoding Standard's UTF-8 decoder, byte by byte (§8.1.1). */
function utf8DecodeSlow(bytes: Uint8Array, start: number, end: number, fatal: boolean): string {
  const units = new Uint16Array(end - start);
  let n = 0;
  let cp = 0;
  let needed = 0;
  let seen = 0;
  let lower = 0x80;
  let upper = 0xbf;
  const fail = (): void => {
    if (fatal) throw new TypeError('The encoded data was not valid for encoding utf-8');
    units[n++] = 0xfffd;
  };
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (needed === 0) {
      if (b <= 0x7f) units[n++] = b;
      else if (b >= 0xc2 && b <= 0xdf) {
        needed = 1;
        cp = b & 0x1f;
      } else if (b >= 0xe0 && b <= 0xef) {
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
        needed = 2;
        cp = b & 0xf;
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
        needed = 3;
        cp = b & 0x7;
      } else fail();
      continue;
    }
    if (b < lower || b > upper) {
      cp = needed = seen = 0;
      lower = 0x80;
      upper = 0xbf;
      fail();
      i--; // the spec's "restore byte to stream"
      continue;
    }
    lower = 0x80;
    upper = 0xbf;
    cp = (cp << 6) | (b & 0x3f);
    if (++seen !== needed) continue;
    if (cp >= 0x10000) {
      units[n++] = 0xd800 + ((cp - 0x10000) >> 10);
      units[n++] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
    } else units[n++] = cp;
    cp = needed = seen = 0;
  }
  if (needed !== 0) fail();
  let s = '';
  for (let i = 0; i < n; i += APPLY_CHUNK) {
    s += String.fromCharCode.apply(null, units.subarray(i, Math.min(n, i + APPLY_CHUNK)) as unknown as number[]);
  }
  return s;
}

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
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new TypeError('The "input" argument must be an ArrayBuffer or ArrayBufferView');
}

export class TextEncoder {
  get encoding(): string {
    return 'utf-8';
  }

  encode(input = ''): Uint8Array {
    return utf8Encode(String(input));
  }

  /** Encodes as much of `source` as fits whole characters into `destination`. */
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number } {
    const s = String(source);
    let i = 0;
    let o = 0;
    const end = destination.length;
    while (i < s.length) {
      let c = s.charCodeAt(i);
      let units = 1;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          units = 2;
        }
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      const len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (o + len > end) break;
      if (len === 1) destination[o++] = c;
      else if (len === 2) {
        destination[o++] = 0xc0 | (c >> 6);
        destination[o++] = 0x80 | (c & 0x3f);
      } else if (len === 3) {
        destination[o++] = 0xe0 | (c >> 12);
        destination[o++] = 0x80 | ((c >> 6) & 0x3f);
        destination[o++] = 0x80 | (c & 0x3f);
      } else {
        destination[o++] = 0xf0 | (c >> 18);
        destination[o++] = 0x80 | ((c >> 12) & 0x3f);
        destination[o++] = 0x80 | ((c >> 6) & 0x3f);
        destination[o++] = 0x80 | (c & 0x3f);
      }
      i += units;
    }
    return { read: i, written: o };
  }
}

const UTF8_LABELS = ['utf-8', 'utf8', 'unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'x-unicode20utf8'];

export class TextDecoder {
  private readonly isFatal: boolean;
  private readonly ignoresBOM: boolean;
  private pending: Uint8Array | undefined;
  private bomSeen = false;

  constructor(label = 'utf-8', options: { fatal?: boolean; ignoreBOM?: boolean } = {}) {
    const l = String(label).trim().toLowerCase();
    if (!UTF8_LABELS.includes(l)) throw new RangeError(`The "${label}" encoding is not supported (only utf-8)`);
    this.isFatal = Boolean(options.fatal);
    this.ignoresBOM = Boolean(options.ignoreBOM);
  }

  get encoding(): string {
    return 'utf-8';
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
    const out = utf8Decode(bytes, this.isFatal);
    if (!stream) this.bomSeen = false;
    return out;
  }
}
