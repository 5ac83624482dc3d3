// Base64 (RFC 4648 §4) and base64url (§5) for bytes, and the HTML spec's atob/btoa over them
// (forgiving-base64 decode: ASCII whitespace ignored, padding optional; InvalidCharacterError
// for anything else, and for btoa of a character above U+00FF). One codec for the guest: JWK
// keys (web/crypto), atob/btoa (install_base64.ts).

import { DOMException } from './dom_exception.ts';

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function encodeWith(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + (pad ? '==' : '');
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + (pad ? '=' : '');
  }
  return out;
}

const decodeTables = new Map<string, Int8Array>();
function tableOf(alphabet: string): Int8Array {
  let t = decodeTables.get(alphabet);
  if (t === undefined) {
    t = new Int8Array(128).fill(-1);
    for (let i = 0; i < 64; i++) t[alphabet.charCodeAt(i)] = i;
    decodeTables.set(alphabet, t);
  }
  return t;
}

/** Decodes unpadded-or-padded base64 text in `alphabet`; null if it is not valid. */
function decodeWith(text: string, alphabet: string): Uint8Array | null {
  let s = text;
  if (s.length % 4 === 0 && s.endsWith('==')) s = s.slice(0, -2);
  else if (s.length % 4 === 0 && s.endsWith('=')) s = s.slice(0, -1);
  if (s.length % 4 === 1) return null;
  const table = tableOf(alphabet);
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let at = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? table[c]! : -1;
    if (v < 0) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

export const encodeBase64 = (bytes: Uint8Array): string => encodeWith(bytes, STD, true);
export const encodeBase64Url = (bytes: Uint8Array): string => encodeWith(bytes, URL_SAFE, false);
export const decodeBase64 = (text: string): Uint8Array | null => decodeWith(text, STD);
export const decodeBase64Url = (text: string): Uint8Array | null => decodeWith(text, URL_SAFE);

/** btoa: a binary string (each character ≤ U+00FF is one byte) as base64. */
export function btoa(data: unknown): string {
  if (arguments.length === 0) throw new TypeError("Failed to execute 'btoa': 1 argument required");
  const s = String(data);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new DOMException("Failed to execute 'btoa': The string to be encoded contains characters outside of the Latin1 range.", 'InvalidCharacterError');
    bytes[i] = c;
  }
  return encodeBase64(bytes);
}

/** atob: forgiving-base64 decode to a binary string. */
export function atob(data: unknown): string {
  if (arguments.length === 0) throw new TypeError("Failed to execute 'atob': 1 argument required");
  const bytes = decodeBase64(String(data).replace(/[\t\n\f\r ]/g, ''));
  if (bytes === null) throw new DOMException("Failed to execute 'atob': The string to be decoded is not correctly encoded.", 'InvalidCharacterError');
  let out = '';
  for (let i = 0; i < bytes.length; i += 4096) out += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return out;
}
