// The consumer's side of the profiler's sample ring (arch/profile.h struct kiln_profile_ring):
// the VMM drains the records a sampler appended — the tender's SIGPROF handler on the process
// platform, the addon's vCPU thread on KVM — and hands each one on decoded. The ring is shared
// memory the guest's side can reach (on the process platform it is mapped in the guest's own
// process), so every record is checked: sizes, counts and the head against the tail. A ring
// that fails a check is reported once and read no more; the samples read before it stand.

import { JS_FRAME_SIZE, KILN_RING_HEADER, KILN_RING_MAGIC, KILN_SAMPLE_MAX_JS, KILN_SAMPLE_MAX_NATIVE, KILN_SAMPLE_PAD, NATIVE_FRAME_SIZE, RING, SAMPLE_HEAD_SIZE, sampleSize } from './layout.ts';

export interface NativeFrameRecord {
  /** A code address: the interrupted RIP (frame 0) or a return address. */
  pc: number;
  /** The frame pointer of the function `pc` is in. */
  fp: number;
}

export interface JsFrameRecord {
  /** The JSStackFrame's guest address. */
  sf: number;
  /** JSFunctionBytecode, C function or function object (by `kind`). */
  ptr: number;
  kind: number;
}

export interface SampleRecord {
  flags: number;
  timeNs: bigint;
  /** Innermost first. */
  native: NativeFrameRecord[];
  /** Innermost first. */
  js: JsFrameRecord[];
}

/** Data bytes of the ring `kiln profile` sets up: ~2.5 s of deep stacks at 10 kHz between two drains. */
export const DEFAULT_RING_DATA = 4 << 20;

export class ProfileRing {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #words: BigInt64Array;
  readonly #size: number;
  #broken: string | undefined;

  /** Bytes of shared memory (whole pages) a ring of at least `dataSize` data bytes takes, header included. */
  static bytesFor(dataSize: number): number {
    return Math.ceil((KILN_RING_HEADER + dataSize) / 4096) * 4096;
  }

  /** Over `bytes` (header + data, 8-aligned); `init` writes a fresh header (the producer has not started). */
  constructor(bytes: Uint8Array, init: boolean) {
    if (bytes.byteOffset % 8 || bytes.length < KILN_RING_HEADER + 16) throw new RangeError('a profile ring needs 8-aligned memory for its header and data');
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#words = new BigInt64Array(bytes.buffer, bytes.byteOffset, KILN_RING_HEADER / 8);
    this.#size = Math.floor((bytes.length - KILN_RING_HEADER) / 16) * 16;
    if (init) {
      bytes.fill(0, 0, KILN_RING_HEADER);
      this.#view.setUint32(RING.magic, KILN_RING_MAGIC, true);
      this.#view.setUint32(RING.size, this.#size, true);
    }
  }

  /** Data bytes (a multiple of 16). */
  get size(): number {
    return this.#size;
  }

  /** Samples the producer wrote / lost to a full ring (its own counts: guest-reachable, so only reported). */
  get taken(): number {
    return Number(BigInt.asUintN(64, Atomics.load(this.#words, RING.taken / 8)));
  }

  get dropped(): number {
    return Number(BigInt.asUintN(64, Atomics.load(this.#words, RING.dropped / 8)));
  }

  /** Why the ring is read no more, once a check failed. */
  get broken(): string | undefined {
    return this.#broken;
  }

  /** Tells the producer to take no more samples. */
  pause(): void {
    Atomics.store(new Int32Array(this.#bytes.buffer, this.#bytes.byteOffset + RING.paused, 1), 0, 1);
  }

  /** Hands every unread record to `onRecord` (PAD records skipped) and frees their room; returns how many. */
  drain(onRecord: (r: SampleRecord) => void): number {
    if (this.#broken) return 0;
    const head = BigInt.asUintN(64, Atomics.load(this.#words, RING.head / 8));
    let tail = BigInt.asUintN(64, Atomics.load(this.#words, RING.tail / 8));
    const size = BigInt(this.#size);
    if (head < tail || head - tail > size) return this.#break(`head ${head} and tail ${tail} are not ${size} bytes apart at most`);
    let n = 0;
    while (tail < head) {
      const pos = Number(tail % size);
      const left = Number(head - tail);
      if (left < SAMPLE_HEAD_SIZE || this.#size - pos < SAMPLE_HEAD_SIZE) return this.#break(`a record head at ${pos} does not fit`);
      const at = KILN_RING_HEADER + pos;
      const recSize = this.#view.getUint16(at, true);
      const flags = this.#view.getUint32(at + 4, true);
      if (recSize < SAMPLE_HEAD_SIZE || recSize % 16 || recSize > left || pos + recSize > this.#size) return this.#break(`a record of ${recSize} bytes at ${pos}`);
      if (flags & KILN_SAMPLE_PAD) {
        if (pos + recSize !== this.#size) return this.#break(`a pad record at ${pos} does not end the ring`);
      } else {
        const nn = this.#view.getUint8(at + 2);
        const nj = this.#view.getUint8(at + 3);
        if (nn > KILN_SAMPLE_MAX_NATIVE || nj > KILN_SAMPLE_MAX_JS || sampleSize(nn, nj) !== recSize) {
          return this.#break(`a record of ${recSize} bytes claims ${nn} native and ${nj} JS frames`);
        }
        onRecord(this.#decode(at, flags, nn, nj));
        n++;
      }
      tail += BigInt(recSize);
    }
    Atomics.store(this.#words, RING.tail / 8, BigInt.asIntN(64, tail));
    return n;
  }

  #u64(at: number): number {
    return Number(this.#view.getBigUint64(at, true));
  }

  #decode(at: number, flags: number, nn: number, nj: number): SampleRecord {
    const native: NativeFrameRecord[] = [];
    let p = at + SAMPLE_HEAD_SIZE;
    for (let i = 0; i < nn; i++, p += NATIVE_FRAME_SIZE) native.push({ pc: this.#u64(p), fp: this.#u64(p + 8) });
    const js: JsFrameRecord[] = [];
    for (let i = 0; i < nj; i++, p += JS_FRAME_SIZE) js.push({ sf: this.#u64(p), ptr: this.#u64(p + 8), kind: this.#view.getUint32(p + 16, true) });
    return { flags, timeNs: this.#view.getBigUint64(at + 8, true), native, js };
  }

  #break(why: string): 0 {
    this.#broken = `the profile ring is corrupt (${why})`;
    return 0;
  }
}
