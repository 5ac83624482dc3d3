// A fake machine for the kernel's Node tests: KilnOps over a Uint8Array "physical memory"
// (address = index), a bump DMA allocator inside it, MMIO dispatched to registered devices,
// IRQs queued for the test to deliver as arch/loop.c would, payload sections. Pure TS (no Node APIs).
// JS cannot alias part of an ArrayBuffer, so op_phys_view returns a copy here; drivers take
// their memory views from a Platform (drivers/platform.ts), which tests back with `ram.subarray`.

import type { KilnOps } from '../ops.ts';
import { sumWordsJs } from '@kiln/common/wire/checksum.ts';
import { MMIO_GAP_END, MMIO_GAP_START } from '@kiln/common/layout.ts';

export interface FakeMmioDevice {
  base: number;
  size: number;
  read(offset: number, width: number): number;
  write(offset: number, width: number, value: number): void;
}

export interface FakeMachine {
  ops: KilnOps;
  ram: Uint8Array;
  out: string[];
  devices: FakeMmioDevice[];
  subscribed: Set<number>;
  pendingIrqs: number[];
  irqHandler: ((irq: number) => void) | undefined;
  tick: ((nowNs: number) => number) | undefined;
  cmdline: string;
  now: number;
  /** What op_heap_size reports (default 64 MiB). */
  heapSize: number;
  /** Payload sections by kind (op_payload_section). */
  payload: Map<number, Uint8Array>;
  /** Exit hook registered with op_loop_set_exit_hook. */
  exitHook: ((error: unknown) => string | undefined) | undefined;
  /** Calls the irq handler for every queued irq (what the core's loop does). */
  deliverIrqs(): number;
  /** Bytes still allocated by op_dma_alloc. */
  dmaLive(): number;
}

export class FakeExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export function createFakeMachine(ramBytes = 4 << 20, dmaBase = 1 << 20): FakeMachine {
  const ram = new Uint8Array(ramBytes);
  let bump = dmaBase;
  const live = new Map<number, number>();
  const freed = new Map<number, number[]>();
  const device = (addr: number): FakeMmioDevice | undefined => m.devices.find((d) => addr >= d.base && addr < d.base + d.size);
  const checkMmio = (addr: number, width: number): void => {
    if (addr < MMIO_GAP_START || addr + width > MMIO_GAP_END) throw new TypeError(`address 0x${addr.toString(16)} is outside the MMIO range`);
    if (width !== 1 && width !== 2 && width !== 4) throw new TypeError('width must be 1, 2 or 4');
    if (addr % width !== 0) throw new TypeError('unaligned MMIO access');
  };
  const m: FakeMachine = {
    ram,
    out: [],
    devices: [],
    subscribed: new Set(),
    pendingIrqs: [],
    irqHandler: undefined,
    tick: undefined,
    cmdline: '',
    now: 0,
    heapSize: 64 * 1024 * 1024,
    payload: new Map(),
    exitHook: undefined,
    deliverIrqs() {
      let n = 0;
      while (m.pendingIrqs.length > 0) {
        const irq = m.pendingIrqs.shift()!;
        if (m.irqHandler) m.irqHandler(irq);
        n++;
      }
      return n;
    },
    dmaLive: () => [...live.values()].reduce((a, b) => a + b, 0),
    ops: {
      op_console_write: (t) => { m.out.push(t); },
      op_exit: (code) => { throw new FakeExit(code); },
      op_clock_monotonic_ns: () => m.now,
      op_loop_set_tick: (fn) => { m.tick = fn; },
      op_cmdline: () => m.cmdline,
      op_boot_mark: () => {},
      op_mmio_read(addr, width) {
        checkMmio(addr, width);
        const d = device(addr);
        return d ? d.read(addr - d.base, width) >>> 0 : 0xffffffff >>> (32 - 8 * width);
      },
      op_mmio_write(addr, width, value) {
        checkMmio(addr, width);
        device(addr)?.write(addr - device(addr)!.base, width, value >>> 0);
      },
      op_dma_alloc(size, align) {
        if (!(size > 0) || !(align > 0) || (align & (align - 1)) !== 0) throw new RangeError('op_dma_alloc: bad arguments');
        // Freed blocks of the same size and a fitting alignment are reused (long-running tests).
        const reuse = freed.get(size);
        const at = reuse ? reuse.findIndex((a) => a % align === 0) : -1;
        let addr: number;
        if (reuse && at >= 0) addr = reuse.splice(at, 1)[0]!;
        else {
          addr = Math.ceil(bump / align) * align;
          if (addr + size > ram.length) throw new RangeError(`op_dma_alloc: out of memory (${size} bytes)`);
          bump = addr + size;
        }
        ram.fill(0, addr, addr + size);
        live.set(addr, size);
        return addr;
      },
      op_dma_free(addr) {
        const size = live.get(addr);
        if (size === undefined || !live.delete(addr)) throw new TypeError(`op_dma_free: 0x${addr.toString(16)} is not a live op_dma_alloc block`);
        let list = freed.get(size);
        if (!list) freed.set(size, (list = []));
        list.push(addr);
      },
      op_phys_view(addr, size) {
        if (addr < 4096 || addr + size > ram.length) throw new RangeError('op_phys_view: not in RAM');
        return ram.slice(addr, addr + size).buffer;
      },
      op_irq_subscribe(irq) {
        if (!Number.isInteger(irq) || irq < 0 || irq > 23) throw new RangeError(`op_irq_subscribe: no IOAPIC pin ${irq}`);
        m.subscribed.add(irq);
      },
      op_loop_set_irq: (fn) => { m.irqHandler = fn; },
      op_cpu_random: () => -1,
      op_cpu_fence: () => {},
      op_loop_set_exit_hook: (fn) => { m.exitHook = fn; },
      op_payload_section(kind) {
        const s = m.payload.get(kind);
        return s === undefined ? undefined : s.slice().buffer;
      },
      // Node cannot run promise jobs synchronously: a poll delivers irqs and reports whether the
      // (fake) deadline has passed; tests advance `now` to end a wait.
      op_loop_poll(deadlineNs) {
        m.deliverIrqs();
        return m.now < deadlineNs;
      },
      op_heap_size: () => m.heapSize,
      op_set_function_name: (target, name) => Object.defineProperty(target, 'name', { value: name, configurable: true }),
      op_net_checksum: (bytes, start, end, sum) => {
        if (start > end || end > bytes.length) throw new RangeError(`op_net_checksum: [${start}, ${end}) is outside the array`);
        return sumWordsJs(bytes, start, end, sum);
      },
    },
  };
  return m;
}
