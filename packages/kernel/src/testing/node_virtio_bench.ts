// A fake machine for driver ↔ device tests in one Node process (Node-only: it imports the VMM):
// the kernel's real virtio drivers over fake ops whose physical memory is a Uint8Array, against
// the VMM's real virtio-mmio transport and device models. Register reads and writes go straight
// to VirtioMmio; QueueNotify is queued and delivered by the loop helper (as the VMM's ioeventfd
// watcher does, asynchronously) unless syncNotify; device interrupts queue the slot's irq, which
// the loop helper hands to the kernel's irq handler (as arch/loop.c does). Turns are
// deterministic: notifies, then irqs, then one macrotask turn (host file I/O completions).

import { strict as assert } from 'node:assert';
import { VIRTIO_MMIO_QUEUE_NOTIFY } from '@kiln/common/virtio/constants.ts';
import { GuestRam } from '@kiln/vmm/boot/guest_ram.ts';
import { VirtioMmio } from '@kiln/vmm/devices/virtio/mmio.ts';
import type { VirtioDevice } from '@kiln/vmm/devices/virtio/device.ts';
import type { Platform } from '../drivers/platform.ts';
import { VirtioMmioDevice } from '../drivers/virtio/mmio.ts';
import { createFakeMachine, type FakeMachine } from './fake_ops.ts';

const BASE = 0xc0001000;

export interface BenchSlot {
  t: VirtioMmio;
  dev: VirtioMmioDevice;
}

export class VirtioBench {
  readonly m: FakeMachine;
  readonly ram: GuestRam;
  readonly p: Platform;
  readonly slots: BenchSlot[] = [];
  /** QueueNotify writes not yet delivered ([slot, queue]). */
  readonly notifies: [number, number][] = [];
  /** true: QueueNotify reaches the device during the register write (for polling drivers). */
  syncNotify = false;
  readonly #handlers = new Map<number, () => void>();

  constructor(ramBytes = 16 << 20) {
    this.m = createFakeMachine(ramBytes, 1 << 20);
    this.ram = new GuestRam(this.m.ram, [{ guestPhysAddr: 0, hostOffset: 0, size: ramBytes }]);
    this.m.ops.op_loop_set_irq((irq) => this.#handlers.get(irq)?.());
    const m = this.m;
    this.p = {
      mmioRead: (a, w) => m.ops.op_mmio_read(a, w),
      mmioWrite: (a, w, v) => m.ops.op_mmio_write(a, w, v),
      dmaAlloc: (s, a) => m.ops.op_dma_alloc(s, a),
      dmaFree: (a) => m.ops.op_dma_free(a),
      bytes: (a, s) => m.ram.subarray(a, a + s),
      fence: () => m.ops.op_cpu_fence(),
      subscribeIrq: (irq, h) => {
        m.ops.op_irq_subscribe(irq);
        this.#handlers.set(irq, h);
      },
      warn: (t) => m.out.push(t),
    };
  }

  /**
   * Puts `device` in the next slot (base 0xC0001000 + 0x1000·i, irq 5 + i) and probes it; with
   * `announce`, also appends its `virtio_mmio.device=` token to the fake command line (for code
   * that finds its device there, as the guest does).
   */
  add(device: VirtioDevice, o: { announce?: boolean } = {}): BenchSlot {
    const i = this.slots.length;
    const base = BASE + 0x1000 * i;
    const irq = 5 + i;
    const t = new VirtioMmio(device, { mem: this.ram, interrupt: () => this.m.pendingIrqs.push(irq) });
    this.m.devices.push({
      base,
      size: 0x1000,
      read: (off, width) => {
        const d = new Uint8Array(width);
        t.read(off, d);
        return width === 4 ? new DataView(d.buffer).getUint32(0, true) : width === 2 ? new DataView(d.buffer).getUint16(0, true) : d[0]!;
      },
      write: (off, width, value) => {
        if (off === VIRTIO_MMIO_QUEUE_NOTIFY && width === 4) {
          // The VMM's ioeventfd: the write does not exit; the device sees it later on its thread.
          if (this.syncNotify) t.notifyQueue(value);
          else this.notifies.push([i, value]);
          return;
        }
        const d = new Uint8Array(width);
        const v = new DataView(d.buffer);
        if (width === 4) v.setUint32(0, value, true);
        else if (width === 2) v.setUint16(0, value, true);
        else d[0] = value;
        t.write(off, d);
      },
    });
    if (o.announce) this.m.cmdline += ` virtio_mmio.device=4K@0x${base.toString(16)}:${irq}`;
    const dev = VirtioMmioDevice.probe(this.p, { base, size: 0x1000, irq, id: undefined });
    assert.ok(dev, 'probe');
    const slot = { t, dev };
    this.slots.push(slot);
    return slot;
  }

  /** One loop turn: pending notifies to the devices, pending irqs to the kernel, then one macrotask turn. */
  async turn(): Promise<void> {
    while (this.notifies.length) {
      const [s, q] = this.notifies.shift()!;
      this.slots[s]!.t.notifyQueue(q);
    }
    this.m.deliverIrqs();
    await new Promise((r) => setImmediate(r));
  }

  /** Runs turns until `p` settles (or `maxTurns` pass: a hang is a failure, not a timeout). */
  async run<T>(p: Promise<T>, maxTurns = 1_000_000): Promise<T> {
    let done = false;
    const q = p.finally(() => {
      done = true;
    });
    q.catch(() => {});
    for (let i = 0; i < maxTurns && !done; i++) await this.turn();
    assert.ok(done, `no completion after ${maxTurns} loop turns`);
    return q;
  }
}
