// A byte ring for a socket's send or receive buffer. It starts small and doubles up to its
// limit only when data needs the room, so an idle or short-lived connection does not hold the
// full 64 KiB per direction. Copies are Uint8Array.set/subarray (at most two per call), never
// per-byte loops. Offsets are relative to the first buffered byte (`head`).
// Besides append/consume, the receive side writes out-of-order bytes past the end (`writeAt`)
// and later makes them part of the buffer (`commit`), which is how reassembly stores segments
// in place without a second buffer.

const INITIAL_BYTES = 4096;

export class ByteRing {
  private buf: Uint8Array;
  private head = 0;
  /** Buffered bytes (readable, or for the send side: unacknowledged and unsent). */
  length = 0;

  /** `limit` is the most bytes the ring will ever hold. */
  constructor(readonly limit: number) {
    this.buf = new Uint8Array(Math.min(INITIAL_BYTES, limit));
  }

  /** Bytes append() would take now. */
  get room(): number {
    return this.limit - this.length;
  }

  /** Appends as much of `src` as fits; returns the count. */
  append(src: Uint8Array): number {
    const n = Math.min(src.length, this.limit - this.length);
    if (n === 0) return 0;
    this.writeAt(this.length, n === src.length ? src : src.subarray(0, n));
    this.length += n;
    return n;
  }

  /** Copies `src` to offset `at` (which may lie past `length`, up to the limit). */
  writeAt(at: number, src: Uint8Array): void {
    const end = at + src.length;
    if (end > this.buf.length) this.grow(end);
    const cap = this.buf.length;
    let pos = this.head + at;
    if (pos >= cap) pos -= cap;
    const first = Math.min(src.length, cap - pos);
    this.buf.set(first === src.length ? src : src.subarray(0, first), pos);
    if (first < src.length) this.buf.set(src.subarray(first), 0);
  }

  /** Makes `n` bytes already written past the end (writeAt) part of the buffer. */
  commit(n: number): void {
    this.length += n;
  }

  /** Copies `len` bytes starting at offset `from` into into[at…] without consuming them. */
  copyOut(from: number, into: Uint8Array, at: number, len: number): void {
    const cap = this.buf.length;
    let pos = this.head + from;
    if (pos >= cap) pos -= cap;
    const first = Math.min(len, cap - pos);
    into.set(this.buf.subarray(pos, pos + first), at);
    if (first < len) into.set(this.buf.subarray(0, len - first), at + first);
  }

  /** Consumes up to into.length bytes into `into`; returns the count. Bytes written past the end stay where they are. */
  read(into: Uint8Array): number {
    const n = Math.min(into.length, this.length);
    if (n === 0) return 0;
    this.copyOut(0, into, 0, n);
    this.length -= n;
    this.head += n;
    if (this.head >= this.buf.length) this.head -= this.buf.length;
    return n;
  }

  /** Drops `n` bytes from the front; nothing may be stored past the end (the send side). */
  discard(n: number): void {
    this.length -= n;
    if (this.length === 0) {
      this.head = 0; // keeps the next writes contiguous
      return;
    }
    this.head += n;
    if (this.head >= this.buf.length) this.head -= this.buf.length;
  }

  /** Drops everything, including bytes written past the end. */
  clear(): void {
    this.length = 0;
    this.head = 0;
  }

  /** Reallocates to a power-of-two size ≥ need (≤ limit), keeping every byte in [head, head+capacity). */
  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    size = Math.min(size, this.limit);
    if (size < need) throw new RangeError(`ring write past its ${this.limit}-byte limit`);
    const next = new Uint8Array(size);
    const cap = this.buf.length;
    next.set(this.buf.subarray(this.head), 0);
    next.set(this.buf.subarray(0, this.head), cap - this.head);
    this.buf = next;
    this.head = 0;
  }
}
