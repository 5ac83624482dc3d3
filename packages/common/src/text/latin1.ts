// Latin-1 (one char per byte) for code that runs in the guest too: bytes ↔ strings through
// native String.fromCharCode, the step the UTF-8 codec (utf8.ts) and HTTP's head parsing and
// serialising share.

/** Bytes passed to one String.fromCharCode.apply call (bounded argument count). */
const APPLY_CHUNK = 8192;

/** Bytes (any values) → a string with one char per byte (Latin-1), using native code. */
export function latin1Decode(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (end - start <= APPLY_CHUNK) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  let s = '';
  for (let i = start; i < end; i += APPLY_CHUNK) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + APPLY_CHUNK)) as unknown as number[]);
  }
  return s;
}

/** A string with one char per byte → those bytes (callers pass Latin-1/ASCII strings). */
export function latin1Encode(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
