// What device drivers need from the machine, as one object: MMIO registers, DMA memory and
// views of it, a memory fence, and interrupts delivered by the event loop. The guest's comes
// from the native ops (ops.ts); tests build one over a Uint8Array "physical memory"
// (testing/fake_ops.ts), so drivers run unchanged against the VMM's device models in Node.
// Spec: docs/ARCHITECTURE.md "Virtio (issue 3)" (guest native ops).

import { ops } from '../ops.ts';

export interface Platform {
  mmioRead(addr: number, width: 1 | 2 | 4): number;
  mmioWrite(addr: number, width: 1 | 2 | 4, value: number): void;
  /** Zeroed device memory; returns its physical address. */
  dmaAlloc(size: number, align: number): number;
  dmaFree(addr: number): void;
  /** A view of physical memory [addr, addr+size) with no copy. */
  bytes(addr: number, size: number): Uint8Array;
  /** Full memory barrier (orders earlier stores before later loads). */
  fence(): void;
  /** Routes `irq` to `handler`, called from the event loop (never in interrupt context). */
  subscribeIrq(irq: number, handler: () => void): void;
  /** One line on the console, for driver warnings. */
  warn(text: string): void;
}

let guest: Platform | undefined;

/** The guest's platform over the native ops (created on first use: nothing on the boot path). */
export function guestPlatform(): Platform {
  if (guest) return guest;
  const handlers = new Map<number, (() => void)[]>();
  let registered = false;
  guest = {
    mmioRead: (a, w) => ops.op_mmio_read(a, w),
    mmioWrite: (a, w, v) => ops.op_mmio_write(a, w, v),
    dmaAlloc: (s, a) => ops.op_dma_alloc(s, a),
    dmaFree: (a) => ops.op_dma_free(a),
    bytes: (a, s) => new Uint8Array(ops.op_phys_view(a, s)),
    fence: () => ops.op_cpu_fence(),
    subscribeIrq(irq, handler) {
      if (!registered) {
        ops.op_loop_set_irq((n) => {
          const list = handlers.get(n);
          if (list) for (let i = 0; i < list.length; i++) list[i]!();
        });
        registered = true;
      }
      let list = handlers.get(irq);
      if (!list) {
        ops.op_irq_subscribe(irq);
        handlers.set(irq, (list = []));
      }
      list.push(handler);
    },
    warn: (text) => ops.op_console_write(`kiln: ${text}\n`),
  };
  return guest;
}
