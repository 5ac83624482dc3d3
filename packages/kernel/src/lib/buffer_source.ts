// Web IDL's BufferSource as bytes: a view over the same memory (no copy) of an ArrayBuffer or any
// ArrayBufferView (typed array, DataView, Buffer), or undefined for anything else, so each caller
// words its own TypeError. The one conversion of the web classes and Node modules that take bytes.

export function bufferSourceBytes(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return undefined;
}
