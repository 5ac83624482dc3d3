// UTF-8 for code that runs in the guest too (QuickJS has no TextEncoder/TextDecoder): encode a
// string, measure it, and decode bytes either leniently (each bad sequence becomes U+FFFD, as
// the WHATWG decoder does) or strictly (undefined on any bad sequence: names in formats).
// Spec: RFC 3629; WHATWG Encoding §4.1 (replacement per maximal subpart).

/** Bytes `s` takes in UTF-8 (lone surrogates count as U+FFFD: 3 bytes). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** UTF-8 bytes of `s` (lone surrogates become U+FFFD, as TextEncoder does). */
export function encodeUtf8(s: string): Uint8Array {
  const out = new Uint8Array(utf8Length(s));
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[o++] = c;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
    } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x800) {
      out[o++] = 0xc0 | (c >> 6);
    } else if (c < 0x10000) {
      out[o++] = 0xe0 | (c >> 12);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
    } else {
      out[o++] = 0xf0 | (c >> 18);
      out[o++] = 0x80 | ((c >> 12) & 0x3f);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
    }
    out[o++] = 0x80 | (c & 0x3f);
  }
  return out;
}

/** Code units collected before each String.fromCharCode call (bounded argument count). */
const CHUNK = 4096;

/**
 * Decodes UTF-8. Lenient (default): every maximal invalid subpart becomes U+FFFD. Strict:
 * undefined as soon as a sequence is invalid (overlong, surrogate, > U+10FFFF, truncated).
 */
export function decodeUtf8(bytes: Uint8Array, strict: true): string | undefined;
export function decodeUtf8(bytes: Uint8Array, strict?: false): string;
export function decodeUtf8(bytes: Uint8Array, strict = false): string | undefined {
  const parts: string[] = [];
  const units: number[] = [];
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    let cp = 0xfffd;
    if (b < 0x80) {
      cp = b;
      i++;
    } else {
      // The sequence length and the allowed range of the second byte (RFC 3629 §4).
      let need = 0;
      let lo = 0x80;
      let hi = 0xbf;
      if (b >= 0xc2 && b <= 0xdf) need = 1;
      else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        if (b === 0xe0) lo = 0xa0;
        if (b === 0xed) hi = 0x9f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        if (b === 0xf0) lo = 0x90;
        if (b === 0xf4) hi = 0x8f;
      }
      i++;
      if (need === 0) {
        if (strict) return undefined;
      } else {
        let acc = b & (0x3f >> need);
        let got = 0;
        while (got < need && i < n) {
          const c = bytes[i]!;
          if (c < lo || c > hi) break;
          acc = (acc << 6) | (c & 0x3f);
          lo = 0x80;
          hi = 0xbf;
          i++;
          got++;
        }
        if (got === need) cp = acc;
        else if (strict) return undefined;
      }
    }
    if (cp >= 0x10000) {
      units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
    } else units.push(cp);
    if (units.length >= CHUNK) {
      parts.push(String.fromCharCode.apply(null, units));
      units.length = 0;
    }
  }
  if (units.length > 0) parts.push(String.fromCharCode.apply(null, units));
  return parts.join('');
}
