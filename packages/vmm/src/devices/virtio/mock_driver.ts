// A minimal virtio driver for tests (rust-vmm's "mock driver" idea): guest RAM is a Uint8Array
// with guard bytes on both sides, rings are laid out with @kiln/common's helpers, and the device
// is driven only through the virtio-mmio registers, as a guest would. Test support, not shipped.
// Spec: virtio 1.2 §3.1.1 (driver initialization), §2.7.13 (supplying buffers).

import * as V from '@kiln/common/virtio/index.ts';
import { GuestRam } from '../../boot/guest_ram.ts';
import type { VirtioMmio } from './mmio.ts';

export const GUARD = 4096;
export const GUARD_BYTE = 0xa5;

/** Guest RAM of `size` bytes at gpa 0, inside a host array with GUARD guard bytes each side. */
export function guardedRam(size: number): GuestRam {
  const host = new Uint8Array(GUARD + size + GUARD);
  host.fill(GUARD_BYTE, 0, GUARD);
  host.fill(GUARD_BYTE, GUARD + size);
  return new GuestRam(host, [{ guestPhysAddr: 0, hostOffset: GUARD, size }]);
}

export function guardsIntact(ram: GuestRam): boolean {
  const b = ram.bytes;
  for (let i = 0; i < GUARD; i++) if (b[i] !== GUARD_BYTE || b[b.length - 1 - i] !== GUARD_BYTE) return false;
  return true;
}

export interface Buf {
  /** Guest address (default: allocated by the driver). */
  addr?: number;
  /** Contents for a device-readable buffer. */
  data?: Uint8Array;
  /** Length of a device-writable buffer. */
  writeLen?: number;
}

export interface DriverQueue {
  size: number;
  desc: number;
  avail: number;
  used: number;
  nextDesc: number;
  availIdx: number;
  lastUsed: number;
}

export class MockDriver {
  readonly ram: GuestRam;
  readonly t: VirtioMmio;
  readonly queues: DriverQueue[] = [];
  #brk = 0x4000;

  constructor(ram: GuestRam, t: VirtioMmio) {
    this.ram = ram;
    this.t = t;
  }

  rd(off: number): number {
    const d = new Uint8Array(4);
    this.t.read(off, d);
    return new DataView(d.buffer).getUint32(0, true);
  }
  wr(off: number, v: number): void {
    const d = new Uint8Array(4);
    new DataView(d.buffer).setUint32(0, v >>> 0, true);
    this.t.write(off, d);
  }

  alloc(size: number, align = 16): number {
    this.#brk = Math.ceil(this.#brk / align) * align;
    const a = this.#brk;
    this.#brk += size;
    return a;
  }

  deviceFeatures(): bigint {
    this.wr(V.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    const lo = this.rd(V.VIRTIO_MMIO_DEVICE_FEATURES);
    this.wr(V.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    const hi = this.rd(V.VIRTIO_MMIO_DEVICE_FEATURES);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** §3.1.1 up to FEATURES_OK; returns whether the device accepted the features. */
  negotiate(features: bigint): boolean {
    this.wr(V.VIRTIO_MMIO_STATUS, 0);
    this.wr(V.VIRTIO_MMIO_STATUS, V.VIRTIO_CONFIG_S_ACKNOWLEDGE);
    this.wr(V.VIRTIO_MMIO_STATUS, V.VIRTIO_CONFIG_S_ACKNOWLEDGE | V.VIRTIO_CONFIG_S_DRIVER);
    this.wr(V.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    this.wr(V.VIRTIO_MMIO_DRIVER_FEATURES, Number(features & 0xffff_ffffn));
    this.wr(V.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    this.wr(V.VIRTIO_MMIO_DRIVER_FEATURES, Number(features >> 32n));
    this.wr(V.VIRTIO_MMIO_STATUS, V.VIRTIO_CONFIG_S_ACKNOWLEDGE | V.VIRTIO_CONFIG_S_DRIVER | V.VIRTIO_CONFIG_S_FEATURES_OK);
    return (this.rd(V.VIRTIO_MMIO_STATUS) & V.VIRTIO_CONFIG_S_FEATURES_OK) !== 0;
  }

  /** Full initialization with every queue at `size` (or given addresses), then DRIVER_OK. */
  init(features: bigint, size = 16, place?: (q: number) => { desc: number; avail: number; used: number }): void {
    if (!this.negotiate(features)) throw new Error('FEATURES_OK refused');
    for (let q = 0; q < this.t.queueCount; q++) {
      this.wr(V.VIRTIO_MMIO_QUEUE_SEL, q);
      const max = this.rd(V.VIRTIO_MMIO_QUEUE_NUM_MAX);
      const n = Math.min(size, max);
      const at = place?.(q) ?? { desc: this.alloc(V.descTableSize(n), 16), avail: this.alloc(V.availRingSize(n), 2), used: this.alloc(V.usedRingSize(n), 4) };
      this.wr(V.VIRTIO_MMIO_QUEUE_NUM, n);
      this.wr(V.VIRTIO_MMIO_QUEUE_DESC_LOW, at.desc);
      this.wr(V.VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
      this.wr(V.VIRTIO_MMIO_QUEUE_DRIVER_LOW, at.avail);
      this.wr(V.VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
      this.wr(V.VIRTIO_MMIO_QUEUE_DEVICE_LOW, at.used);
      this.wr(V.VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
      this.wr(V.VIRTIO_MMIO_QUEUE_READY, 1);
      this.queues[q] = { size: n, ...at, nextDesc: 0, availIdx: 0, lastUsed: 0 };
    }
    this.wr(V.VIRTIO_MMIO_STATUS, this.rd(V.VIRTIO_MMIO_STATUS) | V.VIRTIO_CONFIG_S_DRIVER_OK);
  }

  get status(): number {
    return this.rd(V.VIRTIO_MMIO_STATUS);
  }

  /** Writes one descriptor of queue q's table. */
  writeDesc(q: number, i: number, addr: number | bigint, len: number, flags: number, next: number): void {
    const v = this.ram.view(this.queues[q]!.desc + i * 16, 16);
    v.setBigUint64(0, BigInt(addr), true);
    v.setUint32(8, len >>> 0, true);
    v.setUint16(12, flags, true);
    v.setUint16(14, next, true);
  }

  /** Makes a chain available (no notify); returns the head and the writable buffers' addresses. */
  add(q: number, bufs: Buf[]): { head: number; writable: { addr: number; len: number }[] } {
    const dq = this.queues[q]!;
    const head = dq.nextDesc;
    const writable: { addr: number; len: number }[] = [];
    bufs.forEach((b, k) => {
      const i = (head + k) % dq.size;
      const len = b.data ? b.data.length : (b.writeLen ?? 0);
      const addr = b.addr ?? this.alloc(Math.max(len, 1), 8);
      if (b.data && b.addr === undefined) this.ram.write(addr, b.data);
      const last = k === bufs.length - 1;
      this.writeDesc(q, i, addr, len, (last ? 0 : V.VIRTQ_DESC_F_NEXT) | (b.data ? 0 : V.VIRTQ_DESC_F_WRITE), (i + 1) % dq.size);
      if (!b.data) writable.push({ addr, len });
    });
    dq.nextDesc = (head + bufs.length) % dq.size;
    this.publish(q, head);
    return { head, writable };
  }

  /** Puts `head` in the avail ring and bumps avail idx. */
  publish(q: number, head: number): void {
    const dq = this.queues[q]!;
    this.ram.view(dq.avail + V.VIRTQ_AVAIL_RING + 2 * (dq.availIdx % dq.size), 2).setUint16(0, head, true);
    dq.availIdx = (dq.availIdx + 1) & 0xffff;
    this.ram.view(dq.avail + V.VIRTQ_AVAIL_IDX, 2).setUint16(0, dq.availIdx, true);
  }

  notify(q: number): void {
    this.wr(V.VIRTIO_MMIO_QUEUE_NOTIFY, q);
  }

  /** New used entries since the last call. */
  used(q: number): { id: number; len: number }[] {
    const dq = this.queues[q]!;
    const idx = this.ram.view(dq.used + V.VIRTQ_USED_IDX, 2).getUint16(0, true);
    const out: { id: number; len: number }[] = [];
    while (dq.lastUsed !== idx) {
      const e = this.ram.view(dq.used + V.VIRTQ_USED_RING + 8 * (dq.lastUsed % dq.size), 8);
      out.push({ id: e.getUint32(0, true), len: e.getUint32(4, true) });
      dq.lastUsed = (dq.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  setUsedEvent(q: number, v: number): void {
    const dq = this.queues[q]!;
    this.ram.view(dq.avail + V.availUsedEventOffset(dq.size), 2).setUint16(0, v, true);
  }
  availEvent(q: number): number {
    const dq = this.queues[q]!;
    return this.ram.view(dq.used + V.usedAvailEventOffset(dq.size), 2).getUint16(0, true);
  }
  read(addr: number, len: number): Uint8Array {
    return this.ram.slice(addr, len).slice();
  }
}

export const FEATURES_BASE = V.featureBit(V.VIRTIO_F_VERSION_1) | V.featureBit(V.VIRTIO_F_RING_EVENT_IDX);
