// virtio-mmio transport, driver side (virtio 1.2 §4.2.3): device discovery from the command
// line (`virtio_mmio.device=<size>@<base>:<irq>[:<id>]`, the form of Linux, QEMU microvm and
// Firecracker), probe (magic, version 2 only), initialization (§3.1.1: reset, ACKNOWLEDGE,
// DRIVER, features with VIRTIO_F_VERSION_1 required and VIRTIO_F_RING_EVENT_IDX when offered,
// FEATURES_OK check, queues, DRIVER_OK) and interrupts (read InterruptStatus, write
// InterruptACK, then process the used rings). Feature words are two u32 halves: the guest
// engine has no BigInt. Every register access is a VM exit (~20 µs under PVM): none of this
// runs unless a driver is used.

import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_DRIVER, VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_F_RING_EVENT_IDX, VIRTIO_F_VERSION_1, VIRTIO_MMIO_CONFIG,
  VIRTIO_MMIO_CONFIG_GENERATION, VIRTIO_MMIO_DEVICE_FEATURES, VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DEVICE_ID,
  VIRTIO_MMIO_DRIVER_FEATURES, VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_INT_CONFIG, VIRTIO_MMIO_INT_VRING,
  VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_MAGIC, VIRTIO_MMIO_MAGIC_VALUE,
  VIRTIO_MMIO_QUEUE_DESC_HIGH, VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, VIRTIO_MMIO_QUEUE_DEVICE_LOW,
  VIRTIO_MMIO_QUEUE_DRIVER_HIGH, VIRTIO_MMIO_QUEUE_DRIVER_LOW, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_MMIO_QUEUE_NUM,
  VIRTIO_MMIO_QUEUE_NUM_MAX, VIRTIO_MMIO_QUEUE_READY, VIRTIO_MMIO_QUEUE_SEL, VIRTIO_MMIO_STATUS, VIRTIO_MMIO_VERSION,
  VIRTIO_MMIO_VERSION_2,
} from '@kiln/common/virtio/constants.ts';
import { MMIO_GAP_END, MMIO_GAP_START } from '@kiln/common/layout.ts';
import { tokenize } from '@kiln/common/cmdline.ts';
import type { Platform } from '../platform.ts';
import { Virtqueue } from './virtqueue.ts';

export interface MmioSlot {
  base: number;
  size: number;
  irq: number;
  /** Linux platform-device id (optional 4th field). */
  id: number | undefined;
}

/** memparse-style size: decimal or 0x hex, optional K/M/G suffix. */
function parseSize(s: string): number | undefined {
  const m = /^(0[xX][0-9a-fA-F]+|[0-9]+)([KkMmGg]?)$/.exec(s);
  if (!m) return undefined;
  const n = Number(m[1]);
  const shift = { '': 0, k: 10, m: 20, g: 30 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return n * 2 ** shift;
}

/** Parses one `<size>@<base>:<irq>[:<id>]` value; undefined when malformed or outside MMIO. */
export function parseMmioDevice(value: string): MmioSlot | undefined {
  const m = /^([^@]+)@(0[xX][0-9a-fA-F]{1,16}):([0-9]{1,3})(?::([0-9]{1,9}))?$/.exec(value);
  if (!m) return undefined;
  const size = parseSize(m[1]!);
  const base = Number(m[2]);
  const irq = Number(m[3]);
  if (size === undefined || size < 0x100 || !Number.isSafeInteger(base)) return undefined;
  if (base < MMIO_GAP_START || base + size > MMIO_GAP_END || base % 4 !== 0) return undefined;
  return { base, size, irq, id: m[4] === undefined ? undefined : Number(m[4]) };
}

/** The virtio-mmio slots named on a command line, in order; malformed tokens are reported in `bad`.
 * Tokens after `--` count too: QEMU microvm appends its own at the very end of the command line
 * (isVmmToken). Never throws. */
export function parseMmioSlots(cmdline: string): { slots: MmioSlot[]; bad: string[] } {
  const slots: MmioSlot[] = [];
  const bad: string[] = [];
  for (const { text, quoted } of tokenize(cmdline)) {
    const prefix = 'virtio_mmio.device=';
    if (quoted || !text.startsWith(prefix)) continue;
    const slot = parseMmioDevice(text.slice(prefix.length));
    if (slot) slots.push(slot);
    else bad.push(text);
  }
  return { slots, bad };
}

export class VirtioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VirtioError';
  }
}

/** Feature set as two u32 words (bits 0–31, 32–63). */
export interface Features {
  lo: number;
  hi: number;
}

export const hasBit = (f: Features, bit: number): boolean => ((bit < 32 ? f.lo >>> bit : f.hi >>> (bit - 32)) & 1) === 1;

/** One virtio-mmio device, from probe to DRIVER_OK and its interrupts. */
export class VirtioMmioDevice {
  readonly queues: Virtqueue[] = [];
  /** Features the device offered and the ones we accepted (after negotiate()). */
  offered: Features = { lo: 0, hi: 0 };
  accepted: Features = { lo: 0, hi: 0 };
  onConfigChange: (() => void) | undefined;
  /** Interrupts handled (for tests and benchmarks). */
  interrupts = 0;
  broken: string | undefined;

  private constructor(readonly p: Platform, readonly slot: MmioSlot, readonly deviceId: number) {}

  /**
   * Checks the slot: the magic value, version 2 (a legacy version 1 device is refused with a
   * console warning) and a device id (0 = empty slot). Returns undefined if unusable.
   */
  static probe(p: Platform, slot: MmioSlot): VirtioMmioDevice | undefined {
    const magic = p.mmioRead(slot.base + VIRTIO_MMIO_MAGIC_VALUE, 4);
    if (magic !== VIRTIO_MMIO_MAGIC) {
      p.warn(`virtio-mmio at 0x${slot.base.toString(16)}: no device (magic 0x${magic.toString(16)})`);
      return undefined;
    }
    const version = p.mmioRead(slot.base + VIRTIO_MMIO_VERSION, 4);
    if (version !== VIRTIO_MMIO_VERSION_2) {
      p.warn(`virtio-mmio at 0x${slot.base.toString(16)}: version ${version}${version === 1 ? ' (legacy)' : ''} is not supported; Kiln drives version 2 only (QEMU: -global virtio-mmio.force-legacy=false)`);
      return undefined;
    }
    const id = p.mmioRead(slot.base + VIRTIO_MMIO_DEVICE_ID, 4);
    if (id === 0) return undefined;
    return new VirtioMmioDevice(p, slot, id);
  }

  read(off: number, width: 1 | 2 | 4 = 4): number {
    return this.p.mmioRead(this.slot.base + off, width);
  }

  write(off: number, value: number, width: 1 | 2 | 4 = 4): void {
    this.p.mmioWrite(this.slot.base + off, width, value);
  }

  get status(): number {
    return this.read(VIRTIO_MMIO_STATUS);
  }

  private fail(message: string): never {
    this.write(VIRTIO_MMIO_STATUS, this.status | VIRTIO_CONFIG_S_FAILED);
    this.broken = message;
    throw new VirtioError(`virtio-mmio at 0x${this.slot.base.toString(16)} (device ${this.deviceId}): ${message}`);
  }

  /**
   * Reset, ACKNOWLEDGE | DRIVER, feature negotiation: VIRTIO_F_VERSION_1 is required,
   * VIRTIO_F_RING_EVENT_IDX taken when offered, plus the device-specific bits in `want`
   * (bits 0–23) that the device offers. Sets FEATURES_OK and checks the device kept it.
   */
  negotiate(want: number): Features {
    this.write(VIRTIO_MMIO_STATUS, 0);
    for (let i = 0; i < 100 && this.status !== 0; i++);
    if (this.status !== 0) this.fail('the device did not reset');
    this.write(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    this.write(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    this.write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    const lo = this.read(VIRTIO_MMIO_DEVICE_FEATURES);
    this.write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    const hi = this.read(VIRTIO_MMIO_DEVICE_FEATURES);
    this.offered = { lo, hi };
    if (!hasBit(this.offered, VIRTIO_F_VERSION_1)) this.fail('the device does not offer VIRTIO_F_VERSION_1');
    const acceptLo = (lo & ((want & 0xffffff) | (1 << VIRTIO_F_RING_EVENT_IDX))) >>> 0;
    const acceptHi = 1 << (VIRTIO_F_VERSION_1 - 32);
    this.write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    this.write(VIRTIO_MMIO_DRIVER_FEATURES, acceptLo);
    this.write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    this.write(VIRTIO_MMIO_DRIVER_FEATURES, acceptHi);
    const s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;
    this.write(VIRTIO_MMIO_STATUS, s);
    if ((this.status & VIRTIO_CONFIG_S_FEATURES_OK) === 0) this.fail('the device refused our features (FEATURES_OK cleared)');
    this.accepted = { lo: acceptLo, hi: acceptHi };
    return this.accepted;
  }

  get eventIdx(): boolean {
    return hasBit(this.accepted, VIRTIO_F_RING_EVENT_IDX);
  }

  /** Sets up queue `index` with at most `maxSize` entries (a power of two). */
  setupQueue(index: number, maxSize = 256): Virtqueue {
    this.write(VIRTIO_MMIO_QUEUE_SEL, index);
    if (this.read(VIRTIO_MMIO_QUEUE_READY) !== 0) this.fail(`queue ${index} is already in use`);
    const max = this.read(VIRTIO_MMIO_QUEUE_NUM_MAX);
    if (max === 0) this.fail(`queue ${index} is not available`);
    let size = 1;
    while (size * 2 <= Math.min(max, maxSize)) size *= 2;
    const q = new Virtqueue(this.p, size, this.eventIdx, () => this.write(VIRTIO_MMIO_QUEUE_NOTIFY, index));
    this.write(VIRTIO_MMIO_QUEUE_NUM, size);
    const hi = (a: number): number => Math.floor(a / 0x1_0000_0000);
    this.write(VIRTIO_MMIO_QUEUE_DESC_LOW, q.descAddr >>> 0);
    this.write(VIRTIO_MMIO_QUEUE_DESC_HIGH, hi(q.descAddr));
    this.write(VIRTIO_MMIO_QUEUE_DRIVER_LOW, q.availAddr >>> 0);
    this.write(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, hi(q.availAddr));
    this.write(VIRTIO_MMIO_QUEUE_DEVICE_LOW, q.usedAddr >>> 0);
    this.write(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, hi(q.usedAddr));
    this.write(VIRTIO_MMIO_QUEUE_READY, 1);
    this.queues[index] = q;
    return q;
  }

  /** DRIVER_OK: the device is live. Subscribes its interrupt first. */
  driverOk(): void {
    this.p.subscribeIrq(this.slot.irq, () => this.handleInterrupt());
    this.write(VIRTIO_MMIO_STATUS, this.status | VIRTIO_CONFIG_S_DRIVER_OK);
  }

  /** The interrupt: acknowledge what InterruptStatus says, then process the used rings. */
  handleInterrupt(): void {
    const isr = this.read(VIRTIO_MMIO_INTERRUPT_STATUS);
    if (isr === 0) return; // shared line or spurious
    this.interrupts++;
    this.write(VIRTIO_MMIO_INTERRUPT_ACK, isr);
    if (isr & VIRTIO_MMIO_INT_VRING) {
      for (const q of this.queues) if (q) q.processUsed();
    }
    if (isr & VIRTIO_MMIO_INT_CONFIG) this.onConfigChange?.();
  }

  /** Reads device config at `off` (from 0x100) consistently: retried while ConfigGeneration changes. */
  readConfig(read: (cfg: (off: number, width: 1 | 2 | 4) => number) => number): number {
    for (;;) {
      const gen = this.read(VIRTIO_MMIO_CONFIG_GENERATION);
      const v = read((off, width) => this.read(VIRTIO_MMIO_CONFIG + off, width));
      if (this.read(VIRTIO_MMIO_CONFIG_GENERATION) === gen) return v;
    }
  }
}

let found: VirtioMmioDevice[] | undefined;

/** Probes every slot on the command line once (lazily: nothing runs at boot) and returns the devices. */
export function virtioDevices(p: Platform, cmdline: string): VirtioMmioDevice[] {
  if (found) return found;
  const { slots, bad } = parseMmioSlots(cmdline);
  for (const t of bad) p.warn(`ignoring malformed ${t} (expected virtio_mmio.device=<size>@0x<base>:<irq>)`);
  found = [];
  for (const s of slots) {
    const d = VirtioMmioDevice.probe(p, s);
    if (d) found.push(d);
  }
  return found;
}

/** Tests only: forget the probed devices. */
export function resetVirtioDevicesForTesting(): void {
  found = undefined;
}
