// TextEncoder and TextDecoder (WHATWG Encoding Standard), UTF-8 only: QuickJS has neither.
// The codec itself is @kiln/common's text/utf8.ts (lone surrogates encode as U+FFFD, invalid
// bytes decode to one U+FFFD per maximal subpart); this file adds the web API around it: labels,
// fatal, BOM handling and streaming. Other encodings (labels other than utf-8/utf8/
// unicode-1-1-utf-8 and their aliases) are a RangeError.

import { decodeUtf8, encodeUtf8, encodeUtf8Into } from '@kiln/common/text/utf8.ts';

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
    return encodeUtf8(String(input));
  }

  /** Encodes as much of `source` as fits whole characters into `destination`. */
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number } {
    const [read, written] = encodeUtf8Into(String(source), 0, destination, 0);
    return { read, written };
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
    const out = decodeUtf8(bytes, this.isFatal);
    if (out === undefined) throw new TypeError('The encoded data was not valid for encoding utf-8');
    if (!stream) this.bomSeen = false;
    return out;
  }
}
