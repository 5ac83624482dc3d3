// The virtio-mmio version 2 transport as an MMIO bus device: identification registers, feature
// negotiation (FEATURES_OK refused unless VIRTIO_F_VERSION_1 and a subset of the offer), queue
// setup, QueueNotify, InterruptStatus/ACK, ConfigGeneration, config space delegated to the
// device, reset on Status 0, activation on DRIVER_OK, and DEVICE_NEEDS_RESET plus a config
// interrupt when the guest breaks a queue. Guest mistakes never throw out of here.
// Spec: virtio 1.2 §4.2.2 (registers), §4.2.3 (device operation), §2.1.1/§2.4 (status, reset).

import * as V from '@kiln/common/virtio/constants.ts';
import type { BusDevice } from '../bus.ts';
import type { DeviceContext, VirtioDevice } from './device.ts';
import { gpaFrom, Virtqueue, type GuestMemoryAccess } from './queue.ts';

interface QueueRegs {
  max: number;
  num: number;
  ready: boolean;
  desc: [number, number];
  driver: [number, number];
  device: [number, number];
}

export interface VirtioMmioOptions {
  mem: GuestMemoryAccess;
  /** Raise the slot's interrupt (edge): an irqfd write on KVM, a counter in tests. */
  interrupt(): void;
  /** Transport features offered on top of the device's (default VERSION_1 | RING_EVENT_IDX | INDIRECT_DESC). */
  transportFeatures?: bigint;
  /** Called with a message when the device enters DEVICE_NEEDS_RESET. */
  onFailure?(message: string): void;
  /** Debug log of refused register accesses. */
  log?(line: string): void;
  /**
   * Where InterruptStatus lives (one 32-bit word, accessed atomically): the process platform's
   * control page, which the guest reads and acknowledges directly. Default: a new SharedArrayBuffer.
   */
  interruptStatusWord?: Int32Array;
}

export const DEFAULT_TRANSPORT_FEATURES =
  V.featureBit(V.VIRTIO_F_VERSION_1) | V.featureBit(V.VIRTIO_F_RING_EVENT_IDX) | V.featureBit(V.VIRTIO_F_INDIRECT_DESC);

const S_SETUP = V.VIRTIO_CONFIG_S_ACKNOWLEDGE | V.VIRTIO_CONFIG_S_DRIVER | V.VIRTIO_CONFIG_S_FEATURES_OK;

export class VirtioMmio implements BusDevice {
  readonly device: VirtioDevice;
  readonly offered: bigint;
  status = 0;
  /**
   * InterruptStatus lives in shared memory so the vCPU threads can answer the driver's
   * InterruptStatus reads and InterruptACK writes without a round trip to JS
   * (Vcpu.addStatusRegister), or the process platform's guest reads and clears it in the control
   * page itself; every access here is atomic.
   */
  readonly interruptStatusWord: Int32Array;
  configGeneration = 0;
  driverFeatures = 0n;
  /** Why the device needs a reset, if it does. */
  failure: string | undefined;
  /** Notifications and interrupts (for exit accounting). */
  readonly stats = { notifies: 0, interrupts: 0, suppressedInterrupts: 0 };
  #deviceFeaturesSel = 0;
  #driverFeaturesSel = 0;
  #queueSel = 0;
  #queues: QueueRegs[];
  #ctx: (DeviceContext & { live: boolean }) | undefined;
  readonly #o: VirtioMmioOptions;

  constructor(device: VirtioDevice, o: VirtioMmioOptions) {
    this.device = device;
    this.#o = o;
    this.interruptStatusWord = o.interruptStatusWord ?? new Int32Array(new SharedArrayBuffer(4));
    this.offered = device.deviceFeatures | (o.transportFeatures ?? DEFAULT_TRANSPORT_FEATURES);
    this.#queues = device.queueSizes.map((max) => ({ max, num: max, ready: false, desc: [0, 0], driver: [0, 0], device: [0, 0] }));
  }

  get activated(): boolean {
    return this.#ctx?.live === true;
  }

  get queueCount(): number {
    return this.#queues.length;
  }

  /** The live queue `q` once activated (for tests and the VMM). */
  queue(q: number): Virtqueue | undefined {
    return this.#ctx?.queues[q];
  }

  read(offset: number, data: Uint8Array): void {
    try {
      if (offset >= V.VIRTIO_MMIO_CONFIG) {
        this.device.readConfig(offset - V.VIRTIO_MMIO_CONFIG, data);
        return;
      }
      data.fill(0);
      if (data.length !== 4 || offset % 4 !== 0) {
        this.#o.log?.(`${this.device.name}: ${data.length}-byte read at register 0x${offset.toString(16)} ignored`);
        return;
      }
      new DataView(data.buffer, data.byteOffset, 4).setUint32(0, this.#readReg(offset) >>> 0, true);
    } catch (e) {
      this.#fail(`device model error on read: ${(e as Error).message}`);
    }
  }

  write(offset: number, data: Uint8Array): void {
    try {
      if (offset >= V.VIRTIO_MMIO_CONFIG) {
        this.device.writeConfig(offset - V.VIRTIO_MMIO_CONFIG, data);
        return;
      }
      if (data.length !== 4 || offset % 4 !== 0) {
        this.#o.log?.(`${this.device.name}: ${data.length}-byte write at register 0x${offset.toString(16)} ignored`);
        return;
      }
      this.#writeReg(offset, new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true));
    } catch (e) {
      this.#fail(`device model error on write: ${(e as Error).message}`);
    }
  }

  #readReg(offset: number): number {
    const q = this.#queues[this.#queueSel];
    switch (offset) {
      case V.VIRTIO_MMIO_MAGIC_VALUE:
        return V.VIRTIO_MMIO_MAGIC;
      case V.VIRTIO_MMIO_VERSION:
        return V.VIRTIO_MMIO_VERSION_2;
      case V.VIRTIO_MMIO_DEVICE_ID:
        return this.device.deviceId;
      case V.VIRTIO_MMIO_VENDOR_ID:
        return V.KILN_VIRTIO_VENDOR_ID;
      case V.VIRTIO_MMIO_DEVICE_FEATURES:
        return this.#deviceFeaturesSel > 1 ? 0 : Number((this.offered >> BigInt(32 * this.#deviceFeaturesSel)) & 0xffff_ffffn);
      case V.VIRTIO_MMIO_QUEUE_NUM_MAX:
        return q?.max ?? 0;
      case V.VIRTIO_MMIO_QUEUE_READY:
        return q?.ready ? 1 : 0;
      case V.VIRTIO_MMIO_INTERRUPT_STATUS:
        return this.interruptStatus;
      case V.VIRTIO_MMIO_STATUS:
        return this.status;
      case V.VIRTIO_MMIO_CONFIG_GENERATION:
        return this.configGeneration;
      case V.VIRTIO_MMIO_QUEUE_DESC_LOW:
        return q?.desc[0] ?? 0;
      case V.VIRTIO_MMIO_QUEUE_DESC_HIGH:
        return q?.desc[1] ?? 0;
      case V.VIRTIO_MMIO_QUEUE_DRIVER_LOW:
        return q?.driver[0] ?? 0;
      case V.VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        return q?.driver[1] ?? 0;
      case V.VIRTIO_MMIO_QUEUE_DEVICE_LOW:
        return q?.device[0] ?? 0;
      case V.VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        return q?.device[1] ?? 0;
      case V.VIRTIO_MMIO_SHM_LEN_LOW:
      case V.VIRTIO_MMIO_SHM_LEN_HIGH:
        return 0xffff_ffff; // §4.2.2: no shared memory region
      default:
        return 0;
    }
  }

  #writeReg(offset: number, v: number): void {
    const q = this.#queues[this.#queueSel];
    const queueSetup = (this.status & ~V.VIRTIO_CONFIG_S_FAILED) === S_SETUP;
    switch (offset) {
      case V.VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        this.#deviceFeaturesSel = v;
        return;
      case V.VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        this.#driverFeaturesSel = v;
        return;
      case V.VIRTIO_MMIO_DRIVER_FEATURES: {
        if (this.status !== (V.VIRTIO_CONFIG_S_ACKNOWLEDGE | V.VIRTIO_CONFIG_S_DRIVER) || this.#driverFeaturesSel > 1) {
          this.#o.log?.(`${this.device.name}: DriverFeatures write in status 0x${this.status.toString(16)} ignored`);
          return;
        }
        const shift = BigInt(32 * this.#driverFeaturesSel);
        this.driverFeatures = (this.driverFeatures & ~(0xffff_ffffn << shift)) | (BigInt(v >>> 0) << shift);
        return;
      }
      case V.VIRTIO_MMIO_QUEUE_SEL:
        this.#queueSel = v;
        return;
      case V.VIRTIO_MMIO_QUEUE_NOTIFY:
        this.notifyQueue(v);
        return;
      case V.VIRTIO_MMIO_INTERRUPT_ACK:
        Atomics.and(this.interruptStatusWord, 0, ~v);
        return;
      case V.VIRTIO_MMIO_STATUS:
        this.#writeStatus(v & 0xff);
        return;
    }
    if (!q || !queueSetup) {
      this.#o.log?.(`${this.device.name}: queue register 0x${offset.toString(16)} write (queue ${this.#queueSel}, status 0x${this.status.toString(16)}) ignored`);
      return;
    }
    switch (offset) {
      case V.VIRTIO_MMIO_QUEUE_NUM:
        q.num = v;
        return;
      case V.VIRTIO_MMIO_QUEUE_READY:
        q.ready = (v & 1) === 1;
        return;
      case V.VIRTIO_MMIO_QUEUE_DESC_LOW:
        q.desc[0] = v;
        return;
      case V.VIRTIO_MMIO_QUEUE_DESC_HIGH:
        q.desc[1] = v;
        return;
      case V.VIRTIO_MMIO_QUEUE_DRIVER_LOW:
        q.driver[0] = v;
        return;
      case V.VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        q.driver[1] = v;
        return;
      case V.VIRTIO_MMIO_QUEUE_DEVICE_LOW:
        q.device[0] = v;
        return;
      case V.VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        q.device[1] = v;
        return;
      default:
        this.#o.log?.(`${this.device.name}: write to register 0x${offset.toString(16)} ignored`);
    }
  }

  #writeStatus(v: number): void {
    if (v === 0) {
      this.reset();
      return;
    }
    if ((v & this.status) !== this.status) {
      this.#o.log?.(`${this.device.name}: status 0x${this.status.toString(16)} → 0x${v.toString(16)} clears bits; ignored`);
      return;
    }
    const added = v & ~this.status;
    if (added & V.VIRTIO_CONFIG_S_FEATURES_OK) {
      const ok =
        (this.status & (V.VIRTIO_CONFIG_S_ACKNOWLEDGE | V.VIRTIO_CONFIG_S_DRIVER)) === (V.VIRTIO_CONFIG_S_ACKNOWLEDGE | V.VIRTIO_CONFIG_S_DRIVER) &&
        (this.driverFeatures & ~this.offered) === 0n &&
        V.hasFeature(this.driverFeatures, V.VIRTIO_F_VERSION_1);
      if (!ok) v &= ~V.VIRTIO_CONFIG_S_FEATURES_OK; // §3.1.1: the driver re-reads and sees it unset
    }
    if (added & V.VIRTIO_CONFIG_S_DRIVER_OK) {
      if ((v & S_SETUP) !== S_SETUP) {
        this.#o.log?.(`${this.device.name}: DRIVER_OK before FEATURES_OK ignored`);
        return;
      }
      this.status = v;
      if (!(v & V.VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET)) this.#activate();
      return;
    }
    this.status = v;
  }

  #activate(): void {
    const queues: (Virtqueue | undefined)[] = [];
    const eventIdx = V.hasFeature(this.driverFeatures, V.VIRTIO_F_RING_EVENT_IDX);
    const indirect = V.hasFeature(this.driverFeatures, V.VIRTIO_F_INDIRECT_DESC);
    for (const [i, r] of this.#queues.entries()) {
      if (!r.ready) {
        queues.push(undefined);
        continue;
      }
      if (r.num > r.max) return this.#fail(`queue ${i}: size ${r.num} is above QueueNumMax ${r.max}`);
      const descAddr = gpaFrom(r.desc[0], r.desc[1]);
      const driverAddr = gpaFrom(r.driver[0], r.driver[1]);
      const deviceAddr = gpaFrom(r.device[0], r.device[1]);
      if (descAddr === undefined || driverAddr === undefined || deviceAddr === undefined) return this.#fail(`queue ${i}: ring address beyond 2^53`);
      const vq = Virtqueue.create(this.#o.mem, { size: r.num, descAddr, driverAddr, deviceAddr, eventIdx, indirect });
      if (!(vq instanceof Virtqueue)) return this.#fail(`queue ${i}: ${vq.error}`);
      queues.push(vq);
    }
    const ctx = {
      mem: this.#o.mem,
      queues,
      features: this.driverFeatures,
      live: true,
      signalUsed: (q: number): void => {
        if (!ctx.live) return;
        const vq = queues[q];
        if (vq?.brokenReason !== undefined) return this.#fail(`queue ${q}: ${vq.brokenReason}`);
        if (vq?.needsInterrupt()) this.#raise(V.VIRTIO_MMIO_INT_VRING);
        else this.stats.suppressedInterrupts++;
      },
      fail: (m: string): void => {
        if (ctx.live) this.#fail(m);
      },
      configChanged: (): void => {
        if (!ctx.live) return;
        this.configGeneration = (this.configGeneration + 1) >>> 0;
        this.#raise(V.VIRTIO_MMIO_INT_CONFIG);
      },
    };
    this.#ctx = ctx;
    try {
      this.device.activate(ctx);
    } catch (e) {
      this.#fail(`activation failed: ${(e as Error).message}`);
    }
  }

  /** A driver notification for queue `q` (QueueNotify register or its ioeventfd). */
  notifyQueue(q: number): void {
    this.stats.notifies++;
    const ctx = this.#ctx;
    if (!ctx?.live || !ctx.queues[q]) return;
    try {
      this.device.notify(q);
    } catch (e) {
      this.#fail(`queue ${q}: device model error: ${(e as Error).message}`);
      return;
    }
    const vq = ctx.queues[q];
    if (vq?.brokenReason !== undefined) this.#fail(`queue ${q}: ${vq.brokenReason}`);
  }

  /** InterruptStatus (bit 0: used buffer, bit 1: configuration change). */
  get interruptStatus(): number {
    return Atomics.load(this.interruptStatusWord, 0) >>> 0;
  }

  #raise(bit: number): void {
    Atomics.or(this.interruptStatusWord, 0, bit);
    this.stats.interrupts++;
    try {
      this.#o.interrupt();
    } catch (e) {
      this.#o.log?.(`${this.device.name}: interrupt failed: ${(e as Error).message}`);
    }
  }

  /** §2.1.2: the device stops using its queues, sets DEVICE_NEEDS_RESET and tells the driver. */
  #fail(message: string): void {
    if (this.failure === undefined) this.failure = message;
    if (this.#ctx) this.#ctx.live = false;
    try {
      this.device.reset();
    } catch {
      // the device is already out of service
    }
    this.#o.onFailure?.(`${this.device.name}: ${message}`);
    if (!(this.status & V.VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET)) {
      this.status |= V.VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET;
      if (this.status & V.VIRTIO_CONFIG_S_DRIVER_OK) {
        this.configGeneration = (this.configGeneration + 1) >>> 0;
        this.#raise(V.VIRTIO_MMIO_INT_CONFIG);
      }
    }
  }

  /** §2.4 device reset: back to the state after power-on. */
  reset(): void {
    if (this.#ctx) this.#ctx.live = false;
    this.#ctx = undefined;
    try {
      this.device.reset();
    } catch (e) {
      this.#o.log?.(`${this.device.name}: reset failed: ${(e as Error).message}`);
    }
    this.status = 0;
    Atomics.store(this.interruptStatusWord, 0, 0);
    this.driverFeatures = 0n;
    this.failure = undefined;
    this.#deviceFeaturesSel = 0;
    this.#driverFeaturesSel = 0;
    this.#queueSel = 0;
    for (const q of this.#queues) Object.assign(q, { num: q.max, ready: false, desc: [0, 0], driver: [0, 0], device: [0, 0] });
  }
}
