// Driver side of a split virtqueue (virtio 1.2 §2.7) in one DMA block: descriptor table,
// available ring, used ring. add() writes a descriptor chain and an avail entry; kick()
// publishes the avail index once for a batch and notifies the device only when needed
// (event index: vring_need_event against the device's avail_event; otherwise the used ring's
// NO_NOTIFY flag). processUsed() completes chains and, with event index, asks for the next
// interrupt by writing used_event, then re-checks (fence) so no completion is missed.
// All indices are free-running 16-bit counters (wrap at 65536); slots are idx & (size - 1).
// Layout and names: @kiln/common/virtio/ring.ts (shared with the VMM's device side).

import {
  VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, VIRTQ_USED_F_NO_NOTIFY, splitQueueLayout,
  vring_need_event,
} from '@kiln/common/virtio/ring.ts';
import type { Platform } from '../platform.ts';

export interface VirtqBuffer {
  addr: number;
  len: number;
  /** Device-writable (VIRTQ_DESC_F_WRITE); device-readable otherwise. Writable ones come last. */
  write: boolean;
}

/** Called with the number of bytes the device wrote into the chain's writable buffers. */
export type Completion = (writtenLen: number) => void;

export class Virtqueue {
  readonly size: number;
  readonly descAddr: number;
  readonly availAddr: number;
  readonly usedAddr: number;
  private readonly mem: number;
  private readonly desc32: Uint32Array;
  private readonly desc16: Uint16Array;
  private readonly avail: Uint16Array;
  private readonly usedIdx: Uint16Array;
  private readonly used32: Uint32Array;
  private readonly completions: (Completion | undefined)[];
  private freeHead = 0;
  private numFree: number;
  /** Our shadow of avail.idx (entries added, maybe not yet published). */
  private availIdx = 0;
  /** avail.idx at the last kick (the "old" index of vring_need_event). */
  private kickedIdx = 0;
  private lastUsed = 0;
  private irqOn = true;
  /** Notifications actually sent (VM exits), for tests and benchmarks. */
  notifications = 0;

  constructor(private readonly p: Platform, size: number, readonly eventIdx: boolean, private readonly notify: () => void) {
    if (!(size >= 1 && size <= 32768 && (size & (size - 1)) === 0)) throw new RangeError(`virtqueue: bad size ${size}`);
    this.size = size;
    const layout = splitQueueLayout(size);
    this.mem = p.dmaAlloc(layout.size, 4096);
    this.descAddr = this.mem + layout.desc;
    this.availAddr = this.mem + layout.avail;
    this.usedAddr = this.mem + layout.used;
    const d = p.bytes(this.descAddr, 16 * size);
    this.desc32 = new Uint32Array(d.buffer, d.byteOffset, 4 * size);
    this.desc16 = new Uint16Array(d.buffer, d.byteOffset, 8 * size);
    const a = p.bytes(this.availAddr, 6 + 2 * size);
    this.avail = new Uint16Array(a.buffer, a.byteOffset, 3 + size);
    const u = p.bytes(this.usedAddr, 8 + 8 * size); // 6 + 8n, padded to whole u32s
    this.usedIdx = new Uint16Array(u.buffer, u.byteOffset, 4 + 4 * size);
    this.used32 = new Uint32Array(u.buffer, u.byteOffset, 2 + 2 * size);
    for (let i = 0; i < size; i++) this.desc16[8 * i + 7] = i + 1; // free list through `next`
    this.numFree = size;
    this.completions = new Array<Completion | undefined>(size).fill(undefined);
  }

  get freeDescriptors(): number {
    return this.numFree;
  }

  /** Chains in flight. */
  get inFlight(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (this.completions[i] !== undefined) n++;
    return n;
  }

  /**
   * Adds one chain; false (nothing written) when too few descriptors are free. The device
   * sees it after kick().
   */
  add(bufs: VirtqBuffer[], done: Completion): boolean {
    const n = bufs.length;
    if (n === 0) throw new RangeError('virtqueue: empty chain');
    if (n > this.numFree) return false;
    const head = this.freeHead;
    let i = head;
    for (let k = 0; k < n; k++) {
      const b = bufs[k]!;
      const d32 = 4 * i;
      this.desc32[d32] = b.addr >>> 0;
      this.desc32[d32 + 1] = Math.floor(b.addr / 0x1_0000_0000);
      this.desc32[d32 + 2] = b.len >>> 0;
      this.desc16[8 * i + 6] = (b.write ? VIRTQ_DESC_F_WRITE : 0) | (k < n - 1 ? VIRTQ_DESC_F_NEXT : 0);
      i = this.desc16[8 * i + 7]!;
    }
    this.freeHead = i;
    this.numFree -= n;
    this.completions[head] = done;
    this.avail[2 + (this.availIdx & (this.size - 1))] = head;
    this.availIdx = (this.availIdx + 1) & 0xffff;
    return true;
  }

  /** Publishes the chains added since the last kick; notifies the device if it asked for it. Returns whether it notified. */
  kick(): boolean {
    const newIdx = this.availIdx;
    const oldIdx = this.kickedIdx;
    if (newIdx === oldIdx) return false;
    this.avail[1] = newIdx; // stores are ordered on x86: ring entries before the index
    this.kickedIdx = newIdx;
    this.p.fence(); // the index store before the avail_event / flags load
    let need: boolean;
    if (this.eventIdx) need = vring_need_event(this.usedIdx[2 + 4 * this.size]!, newIdx, oldIdx);
    else need = (this.usedIdx[0]! & VIRTQ_USED_F_NO_NOTIFY) === 0;
    if (need) {
      this.notifications++;
      this.notify();
    }
    return need;
  }

  /**
   * Completes every chain the device has put in the used ring (callbacks in ring order), then
   * re-arms the interrupt. Returns the number completed. A used id that is not in flight is a
   * device bug: it throws (the transport marks the device broken).
   */
  processUsed(): number {
    let count = 0;
    for (;;) {
      while (this.lastUsed !== this.usedIdx[1]!) {
        const slot = this.lastUsed & (this.size - 1);
        const id = this.used32[1 + 2 * slot]!;
        const len = this.used32[2 + 2 * slot]!;
        this.lastUsed = (this.lastUsed + 1) & 0xffff;
        const done = id < this.size ? this.completions[id] : undefined;
        if (done === undefined) throw new Error(`virtqueue: the device returned descriptor ${id}, which is not in flight`);
        this.completions[id] = undefined;
        this.freeChain(id);
        count++;
        done(len);
      }
      if (!this.eventIdx) return count;
      if (!this.irqOn) {
        // used_event half the index space away: vring_need_event stays false for any batch
        this.avail[2 + this.size] = (this.lastUsed + 0x8000) & 0xffff;
        return count;
      }
      this.avail[2 + this.size] = this.lastUsed; // used_event: interrupt me after the next entry
      this.p.fence(); // used_event store before the used.idx load
      if (this.lastUsed === this.usedIdx[1]!) return count;
    }
  }

  /**
   * Turns used-buffer interrupts for this queue on or off: VIRTQ_AVAIL_F_NO_INTERRUPT without
   * event index; with it, used_event is parked half the index space away (off) or set to the
   * next entry (on). A driver that polls the used ring (console output) keeps them off and
   * turns them on only to sleep until the device catches up; after turning them on, call
   * processUsed() to catch entries that arrived before used_event was written.
   */
  set interrupts(on: boolean) {
    this.irqOn = on;
    this.avail[0] = on ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT;
    if (this.eventIdx) this.avail[2 + this.size] = on ? this.lastUsed : (this.lastUsed + 0x8000) & 0xffff;
  }

  get interrupts(): boolean {
    return this.irqOn;
  }

  private freeChain(head: number): void {
    let i = head;
    let n = 1;
    while ((this.desc16[8 * i + 6]! & VIRTQ_DESC_F_NEXT) !== 0 && n < this.size) {
      i = this.desc16[8 * i + 7]!;
      n++;
    }
    this.desc16[8 * i + 7] = this.freeHead;
    this.freeHead = head;
    this.numFree += n;
  }

  /** Frees the rings (after a device reset). */
  destroy(): void {
    this.p.dmaFree(this.mem);
  }
}
