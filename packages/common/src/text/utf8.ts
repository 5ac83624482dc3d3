// The UTF-8 codec, for the guest (QuickJS has no TextEncoder/TextDecoder: web/text_codec.ts
// builds them on this) and the host alike: encode a string, whole or into a buffer, measure it,
// and decode bytes leniently (each bad sequence becomes U+FFFD, as the WHATWG decoder does) or
// strictly (undefined on any bad sequence). It leans on native string functions where it can,
// because a per-byte loop costs ~90 ns a byte under QuickJS: decoding goes bytes → Latin-1
// string (String.fromCharCode.apply) → done if ASCII, else decodeURIComponent(escape(...)) for
// valid UTF-8, and the spec's byte loop only for invalid input; encoding the other way round.
// Spec: RFC 3629; WHATWG Encoding §4.1 (replacement per maximal subpart), §8.1.1 (the decoder).

import { latin1Decode, latin1Encode } from './latin1.ts';

const NON_ASCII = /[\x80-\xff]/;
const NON_ASCII_OR_WIDE = /[^\x00-\x7f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const HAS_SURROGATE = /[\ud800-\udfff]/;
/** Strings up to this length are encoded without a regex test first. */
const SHORT = 32;
/** Code units passed to one String.fromCharCode.apply call (bounded argument count). */
const APPLY_CHUNK = 8192;

/** UTF-8 bytes of `s` (lone surrogates become U+FFFD, as TextEncoder does). */
export function encodeUtf8(s: string): Uint8Array {
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

/** Bytes `s` takes in UTF-8 (lone surrogates count as U+FFFD: 3 bytes). */
export function utf8Length(s: string): number {
  if (!NON_ASCII_OR_WIDE.test(s)) return s.length;
  if (HAS_SURROGATE.test(s)) s = s.replace(LONE_SURROGATE, '\ufffd');
  return unescape(encodeURIComponent(s)).length;
}

/**
 * UTF-8-encodes s[from..] into out[at..] as far as it fits whole characters (lone surrogates
 * become U+FFFD, as TextEncoder does). Returns [next char index, next byte index].
 */
export function encodeUtf8Into(s: string, from: number, out: Uint8Array, at: number): [number, number] {
  let i = from;
  let o = at;
  const end = out.length;
  while (i < s.length) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      if (o >= end) break;
      out[o++] = c;
      i++;
      continue;
    }
    let n = 1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        n = 2;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    const len = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (o + len > end) break;
    if (len === 2) {
      out[o++] = 0xc0 | (c >> 6);
    } else if (len === 3) {
      out[o++] = 0xe0 | (c >> 12);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
    } else {
      out[o++] = 0xf0 | (c >> 18);
      out[o++] = 0x80 | ((c >> 12) & 0x3f);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
    }
    out[o++] = 0x80 | (c & 0x3f);
    i += n;
  }
  return [i, o];
}

/**
 * Decodes UTF-8 (WHATWG "UTF-8 decode without BOM"). Lenient (default): every maximal invalid
 * subpart becomes U+FFFD. Strict: undefined if any sequence is invalid (overlong, surrogate,
 * > U+10FFFF, truncated). Valid input never runs a per-byte JS loop.
 */
export function decodeUtf8(bytes: Uint8Array, strict: true): string | undefined;
export function decodeUtf8(bytes: Uint8Array, strict?: false): string;
export function decodeUtf8(bytes: Uint8Array, strict: boolean): string | undefined;
export function decodeUtf8(bytes: Uint8Array, strict = false): string | undefined {
  const s = latin1Decode(bytes);
  if (!NON_ASCII.test(s)) return s;
  try {
    return decodeURIComponent(escape(s));
  } catch {
    return decodeSlow(bytes, strict);
  }
}

/** The Encoding Standard's UTF-8 decoder, byte by byte (§8.1.1); undefined on an error if `strict`. */
function decodeSlow(bytes: Uint8Array, strict: boolean): string | undefined {
  const end = bytes.length;
  const units = new Uint16Array(end);
  let n = 0;
  let cp = 0;
  let needed = 0;
  let seen = 0;
  let lower = 0x80;
  let upper = 0xbf;
  for (let i = 0; i < end; i++) {
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
      } else {
        if (strict) return undefined;
        units[n++] = 0xfffd;
      }
      continue;
    }
    if (b < lower || b > upper) {
      if (strict) return undefined;
      cp = needed = seen = 0;
      lower = 0x80;
      upper = 0xbf;
      units[n++] = 0xfffd;
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
  if (needed !== 0) {
    if (strict) return undefined;
    units[n++] = 0xfffd;
  }
  let s = '';
  for (let i = 0; i < n; i += APPLY_CHUNK) {
    s += String.fromCharCode.apply(null, units.subarray(i, Math.min(n, i + APPLY_CHUNK)) as unknown as number[]);
  }
  return s;
}
