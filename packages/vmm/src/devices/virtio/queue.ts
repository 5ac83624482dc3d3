// Device side of a split virtqueue over guest memory, written for a hostile guest: every ring
// and descriptor read from guest memory is checked when it is used (address and length inside
// one RAM region, chain length ≤ queue size so no loops, device-readable before device-writable,
// avail idx at most queue size ahead of the used idx (so outstanding chains are bounded),
// indirect tables only when negotiated and never nested).
// Guest errors come back as results and mark the queue broken; nothing here throws on them.
// Spec: virtio 1.2 §2.7 (split virtqueues), §2.7.5.3 (indirect), §2.7.7/§2.7.10 (event index).

import {
  VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_AVAIL_IDX, VIRTQ_AVAIL_RING, VIRTQ_DESC_ADDR, VIRTQ_DESC_ALIGN, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE, VIRTQ_DESC_FLAGS, VIRTQ_DESC_LEN, VIRTQ_DESC_NEXT, VIRTQ_DESC_SIZE, VIRTQ_AVAIL_ALIGN, VIRTQ_USED_ALIGN, VIRTQ_USED_ELEM_SIZE,
  VIRTQ_USED_IDX, VIRTQ_USED_RING, availRingSize, availUsedEventOffset, descTableSize, isValidQueueSize, usedAvailEventOffset, usedRingSize,
  vring_need_event,
} from '@kiln/common/virtio/ring.ts';

/** What the queue needs of guest memory; GuestRam (boot/guest_ram.ts) satisfies it. */
export interface GuestMemoryAccess {
  /** The host view of guest RAM. */
  readonly bytes: Uint8Array;
  /** Host offset of [gpa, gpa+len) if the whole range lies inside one RAM region. */
  hostOffset(gpa: number, len: number): number | undefined;
}

/** A run of guest memory already checked to lie inside RAM: bytes [offset, offset+len) of `bytes`. */
export interface Segment {
  offset: number;
  len: number;
}

/** One descriptor chain taken from the available ring. */
export interface DescChain {
  /** Head descriptor index (what goes back in the used ring). */
  head: number;
  /** Device-readable buffers, in chain order. */
  readable: Segment[];
  /** Device-writable buffers, in chain order (all after the readable ones). */
  writable: Segment[];
  readableLen: number;
  writableLen: number;
}

export type PopResult = { kind: 'chain'; chain: DescChain } | { kind: 'empty' } | { kind: 'broken'; message: string };

export interface QueueConfig {
  size: number;
  descAddr: number;
  driverAddr: number;
  deviceAddr: number;
  eventIdx: boolean;
  indirect: boolean;
}

/** Splits a 64-bit guest address into a safe integer, or undefined past 2^53. */
export function gpaFrom(low: number, high: number): number | undefined {
  const hi = high >>> 0;
  if (hi >= 0x20_0000) return undefined;
  return hi * 0x1_0000_0000 + (low >>> 0);
}

export class Virtqueue {
  readonly size: number;
  readonly eventIdx: boolean;
  readonly indirect: boolean;
  /** Why the queue stopped, once the guest broke it (then pop() keeps returning 'broken'). */
  brokenReason: string | undefined;
  /** Next avail ring slot to take (free-running 16-bit). */
  lastAvail = 0;
  /** Next used ring slot to fill (free-running 16-bit). */
  nextUsed = 0;
  /** Used idx at the last interrupt decision (for used_event). */
  #signalledUsed = 0;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #mem: GuestMemoryAccess;
  readonly #desc: number;
  readonly #avail: number;
  readonly #used: number;

  private constructor(mem: GuestMemoryAccess, c: QueueConfig, desc: number, avail: number, used: number) {
    this.#mem = mem;
    this.#bytes = mem.bytes;
    this.#view = new DataView(mem.bytes.buffer, mem.bytes.byteOffset, mem.bytes.byteLength);
    this.size = c.size;
    this.eventIdx = c.eventIdx;
    this.indirect = c.indirect;
    this.#desc = desc;
    this.#avail = avail;
    this.#used = used;
  }

  /** Checks the ring placement (§2.7 alignment, every part in RAM) and builds the queue. */
  static create(mem: GuestMemoryAccess, c: QueueConfig): Virtqueue | { error: string } {
    if (!isValidQueueSize(c.size)) return { error: `queue size ${c.size} is not a power of 2 in [1, 32768]` };
    const parts: [string, number, number, number][] = [
      ['descriptor table', c.descAddr, descTableSize(c.size), VIRTQ_DESC_ALIGN],
      ['available ring', c.driverAddr, availRingSize(c.size), VIRTQ_AVAIL_ALIGN],
      ['used ring', c.deviceAddr, usedRingSize(c.size), VIRTQ_USED_ALIGN],
    ];
    const offs: number[] = [];
    for (const [name, gpa, len, align] of parts) {
      if (!Number.isSafeInteger(gpa) || gpa % align !== 0) return { error: `${name} at 0x${gpa.toString(16)} is not ${align}-byte aligned` };
      const off = mem.hostOffset(gpa, len);
      if (off === undefined) return { error: `${name} [0x${gpa.toString(16)}, +0x${len.toString(16)}) is not in guest RAM` };
      offs.push(off);
    }
    return new Virtqueue(mem, c, offs[0]!, offs[1]!, offs[2]!);
  }

  #break(message: string): PopResult {
    this.brokenReason ??= message;
    return { kind: 'broken', message: this.brokenReason };
  }

  /** The driver's avail idx. */
  availIdx(): number {
    return this.#view.getUint16(this.#avail + VIRTQ_AVAIL_IDX, true);
  }

  /**
   * Buffers the driver has made available and the device has not taken, or -1 if the index is
   * bad: every chain holds at least one descriptor, so chains available plus chains the device
   * holds (taken, not yet used) are at most the queue size. A driver claiming more re-published
   * heads the device still owns — the bound on each queue's outstanding work.
   */
  pending(): number {
    const avail = this.availIdx();
    if (((avail - this.nextUsed) & 0xffff) > this.size) return -1;
    return (avail - this.lastAvail) & 0xffff;
  }

  /** Chains taken and not yet returned through the used ring. */
  get inFlight(): number {
    return (this.lastAvail - this.nextUsed) & 0xffff;
  }

  /** Takes the next available chain, validating every descriptor. */
  pop(): PopResult {
    if (this.brokenReason !== undefined) return { kind: 'broken', message: this.brokenReason };
    const n = this.pending();
    if (n < 0) return this.#break(`avail idx ${this.availIdx()} is more than the queue size ${this.size} ahead of used idx ${this.nextUsed} (${this.inFlight} chains in flight): heads re-published`);
    if (n === 0) return { kind: 'empty' };
    const head = this.#view.getUint16(this.#avail + VIRTQ_AVAIL_RING + 2 * (this.lastAvail % this.size), true);
    if (head >= this.size) return this.#break(`avail ring entry ${head} is not a descriptor index (queue size ${this.size})`);
    const chain: DescChain = { head, readable: [], writable: [], readableLen: 0, writableLen: 0 };
    const err = this.#walk(chain);
    if (err !== undefined) return this.#break(`descriptor chain at head ${head}: ${err}`);
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    return { kind: 'chain', chain };
  }

  /** Undoes the last pop() (the device could not take the chain yet, e.g. no input to give). */
  unpop(): void {
    this.lastAvail = (this.lastAvail - 1) & 0xffff;
  }

  #walk(chain: DescChain): string | undefined {
    let table = this.#desc;
    let tableLen = this.size;
    let idx = chain.head;
    let inIndirect = false;
    let count = 0;
    for (;;) {
      if (++count > this.size) return `longer than the queue size ${this.size} (a loop?)`;
      const d = table + idx * VIRTQ_DESC_SIZE;
      const addr = gpaFrom(this.#view.getUint32(d + VIRTQ_DESC_ADDR, true), this.#view.getUint32(d + VIRTQ_DESC_ADDR + 4, true));
      const len = this.#view.getUint32(d + VIRTQ_DESC_LEN, true);
      const flags = this.#view.getUint16(d + VIRTQ_DESC_FLAGS, true);
      const next = this.#view.getUint16(d + VIRTQ_DESC_NEXT, true);
      if (addr === undefined) return `descriptor ${idx} address is beyond 2^53`;
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        if (!this.indirect) return `descriptor ${idx} is indirect but VIRTIO_F_INDIRECT_DESC was not negotiated`;
        if (inIndirect) return 'nested indirect table';
        if (flags & VIRTQ_DESC_F_NEXT) return `descriptor ${idx} has both INDIRECT and NEXT`;
        if (len === 0 || len % VIRTQ_DESC_SIZE !== 0) return `indirect table length ${len} is not a positive multiple of 16`;
        const off = this.#mem.hostOffset(addr, len);
        if (off === undefined) return `indirect table [0x${addr.toString(16)}, +0x${len.toString(16)}) is not in guest RAM`;
        table = off;
        tableLen = len / VIRTQ_DESC_SIZE;
        idx = 0;
        inIndirect = true;
        continue;
      }
      if (len > 0) {
        const off = this.#mem.hostOffset(addr, len);
        if (off === undefined) return `buffer [0x${addr.toString(16)}, +0x${len.toString(16)}) is not in guest RAM`;
        if (flags & VIRTQ_DESC_F_WRITE) {
          chain.writable.push({ offset: off, len });
          chain.writableLen += len;
        } else {
          if (chain.writable.length) return 'a device-readable buffer follows a device-writable one';
          chain.readable.push({ offset: off, len });
          chain.readableLen += len;
        }
      }
      if (!(flags & VIRTQ_DESC_F_NEXT)) return undefined;
      if (next >= tableLen) return `next index ${next} is outside the ${inIndirect ? 'indirect ' : ''}table of ${tableLen}`;
      idx = next;
    }
  }

  /** Returns a chain to the driver with `len` bytes written into its writable buffers. */
  push(head: number, len: number): void {
    if (this.brokenReason !== undefined) return;
    const e = this.#used + VIRTQ_USED_RING + VIRTQ_USED_ELEM_SIZE * (this.nextUsed % this.size);
    this.#view.setUint32(e, head >>> 0, true);
    this.#view.setUint32(e + 4, len >>> 0, true);
    this.nextUsed = (this.nextUsed + 1) & 0xffff;
    // The element is written before the index that publishes it (x86 keeps store order).
    this.#view.setUint16(this.#used + VIRTQ_USED_IDX, this.nextUsed, true);
  }

  /**
   * Whether the driver wants an interrupt for the used entries pushed since the last call
   * (§2.7.7.2: used_event with EVENT_IDX, else the NO_INTERRUPT flag).
   */
  needsInterrupt(): boolean {
    const old = this.#signalledUsed;
    const now = this.nextUsed;
    this.#signalledUsed = now;
    if (old === now) return false;
    if (this.eventIdx) {
      const usedEvent = this.#view.getUint16(this.#avail + availUsedEventOffset(this.size), true);
      return vring_need_event(usedEvent, now, old);
    }
    return (this.#view.getUint16(this.#avail, true) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  /**
   * Asks the driver for a notification at the next buffer (§2.7.10: avail_event = lastAvail
   * with EVENT_IDX). Returns true if buffers arrived meanwhile (process them without waiting).
   */
  enableNotification(): boolean {
    if (this.brokenReason !== undefined) return false;
    if (this.eventIdx) this.#view.setUint16(this.#used + usedAvailEventOffset(this.size), this.lastAvail, true);
    return this.pending() !== 0;
  }

  /** Copies up to out.length bytes of the chain's readable buffers, from byte `skip`. Returns bytes copied. */
  readFrom(chain: DescChain, out: Uint8Array, skip = 0): number {
    return copySegments(this.#bytes, chain.readable, skip, out, 'in');
  }

  /** Copies `src` into the chain's writable buffers from byte `skip`. Returns bytes copied. */
  writeTo(chain: DescChain, src: Uint8Array, skip = 0): number {
    return copySegments(this.#bytes, chain.writable, skip, src, 'out');
  }

  /** Live views of the writable buffers (already checked to be in RAM). */
  writableViews(chain: DescChain): Uint8Array[] {
    return chain.writable.map((s) => this.#bytes.subarray(s.offset, s.offset + s.len));
  }
}

function copySegments(bytes: Uint8Array, segs: Segment[], skip: number, buf: Uint8Array, dir: 'in' | 'out'): number {
  let done = 0;
  for (const s of segs) {
    if (done >= buf.length) break;
    if (skip >= s.len) {
      skip -= s.len;
      continue;
    }
    const n = Math.min(s.len - skip, buf.length - done);
    const at = s.offset + skip;
    if (dir === 'in') buf.set(bytes.subarray(at, at + n), done);
    else bytes.set(buf.subarray(done, done + n), at);
    done += n;
    skip = 0;
  }
  return done;
}
