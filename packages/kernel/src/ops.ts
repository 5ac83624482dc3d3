// The native ops: the ONLY declaration of what the C core (arch/ops.c) provides to TypeScript.
// The core defines them on a global object `__kiln_ops` before the bundle runs; this module
// captures that object once and deletes the global, so apps cannot reach the ops directly.
// Contract: docs/ARCHITECTURE.md "Native ops" and "Guest event loop". Tests inject a fake;
// ops.test.ts holds KilnOps to ops.c's table (names and arities).

export interface KilnOps {
  /** Writes UTF-8 text to the console (serial). */
  op_console_write(text: string): void;
  /** Ends the VM with this exit code (0–255). */
  op_exit(code: number): never;
  /** Nanoseconds since boot (monotonic). */
  op_clock_monotonic_ns(): number;
  /**
   * Registers the loop's tick handler: called every loop turn with the monotonic time (ns);
   * returns the next timer deadline (ns; ≤ now means "call again right away"), -1 when
   * nothing is pending, Infinity to wait for interrupts only.
   */
  op_loop_set_tick(fn: (nowNs: number) => number): void;
  /** The guest kernel command line. */
  op_cmdline(): string;
  /** Marks "app starts" (boot timer device byte + bootchart). */
  op_boot_mark(): void;
  /**
   * Reads device memory: a volatile access of `width` bytes (1, 2 or 4, naturally aligned) at
   * guest-physical `addr` in the MMIO range 0xC0000000–0xFFFFFFFF (TypeError otherwise).
   * Each access traps to the VMM (~20 µs under PVM): keep them off hot paths.
   */
  op_mmio_read(addr: number, width: 1 | 2 | 4): number;
  /** Writes device memory (same rules as op_mmio_read); `value` is truncated to `width` bytes. */
  op_mmio_write(addr: number, width: 1 | 2 | 4, value: number): void;
  /**
   * Allocates zeroed memory for a device: returns its guest-physical address (= virtual, RAM is
   * identity-mapped), aligned to `align` (a power of two ≤ 2 MiB). It never moves. RangeError
   * when out of memory.
   */
  op_dma_alloc(size: number, align: number): number;
  /** Frees a block from op_dma_alloc (TypeError for any other address). */
  op_dma_free(addr: number): void;
  /** An ArrayBuffer aliasing guest-physical RAM [addr, addr+size): no copy (RangeError outside RAM). */
  op_phys_view(addr: number, size: number): ArrayBuffer;
  /**
   * Routes IOAPIC pin `irq` (0–23) to the core: edge, active high, vector 0x30 + irq. Its
   * interrupts reach the op_loop_set_irq handler, from the event loop.
   */
  op_irq_subscribe(irq: number): void;
  /** Registers the loop's irq handler: called (never in interrupt context) once per pending irq, before the tick. */
  op_loop_set_irq(fn: (irq: number) => void): void;
  /** 32 random bits from the CPU's RDRAND as a non-negative integer, or -1 when there is none. */
  op_cpu_random(): number;
  /** A full memory barrier (mfence): orders earlier stores before later loads (virtqueue event index). */
  op_cpu_fence(): void;
  /**
   * Registers the kernel's flush, which the core calls once with the error before it ends the VM
   * on its own (an uncaught error or unhandled rejection it reports on the serial port): buffered
   * console output leaves first, and a string returned is printed as the error's stack in place
   * of error.stack (the frames in the app's source lines).
   */
  op_loop_set_exit_hook(fn: (error: unknown) => string | undefined): void;
  /**
   * The image's payload section of `kind` (3 = bootfs) as an ArrayBuffer over the loaded image:
   * no copy. Read it only (it is the image). undefined when the image has no such section.
   */
  op_payload_section(kind: number): ArrayBuffer | undefined;
  /**
   * One turn of a nested loop for the exit paths (process.exit, uncaught errors) while an async
   * flush finishes: runs pending promise jobs (their exceptions are dropped) and delivers pending
   * interrupts to the irq handler; when there was nothing to do, halts until an interrupt or
   * until `deadlineNs` (monotonic). Timers do not run. Returns false once the deadline passed.
   */
  op_loop_poll(deadlineNs: number): boolean;
  /**
   * The Internet checksum's running sum over bytes[start, end) added to `sum` (a non-negative
   * integer), folded to 32 bits: the native twin of wire/checksum.ts sumWords (RangeError outside
   * the array).
   */
  op_net_checksum(bytes: Uint8Array, start: number, end: number, sum: number): number;
  /** Bytes of the heap the core's allocator manages (everything JavaScript and DMA allocate). */
  op_heap_size(): number;
  /**
   * Object.defineProperty(target, 'name', { value: name, configurable: true }), returning target:
   * the bundle's `__name` (esbuild's keepNames helper; packages/cli/src/build.ts puts this op in
   * its place, before this module deletes the global). TypeError when target is not an object.
   */
  op_set_function_name<T>(target: T, name: string): T;
}

const holder = globalThis as unknown as { __kiln_ops?: KilnOps };
const missing = (name: string) => (): never => {
  throw new Error(`kiln: native op ${name} is not available (no __kiln_ops)`);
};
let impl: KilnOps = holder.__kiln_ops ?? {
  op_console_write: missing('op_console_write'),
  op_exit: missing('op_exit'),
  op_clock_monotonic_ns: missing('op_clock_monotonic_ns'),
  op_loop_set_tick: missing('op_loop_set_tick'),
  op_cmdline: missing('op_cmdline'),
  op_boot_mark: missing('op_boot_mark'),
  op_mmio_read: missing('op_mmio_read'),
  op_mmio_write: missing('op_mmio_write'),
  op_dma_alloc: missing('op_dma_alloc'),
  op_dma_free: missing('op_dma_free'),
  op_phys_view: missing('op_phys_view'),
  op_irq_subscribe: missing('op_irq_subscribe'),
  op_loop_set_irq: missing('op_loop_set_irq'),
  op_cpu_random: missing('op_cpu_random'),
  op_cpu_fence: missing('op_cpu_fence'),
  op_loop_set_exit_hook: missing('op_loop_set_exit_hook'),
  op_payload_section: missing('op_payload_section'),
  op_loop_poll: missing('op_loop_poll'),
  op_net_checksum: missing('op_net_checksum'),
  op_heap_size: missing('op_heap_size'),
  op_set_function_name: missing('op_set_function_name'),
};
delete holder.__kiln_ops;

/** The ops, bound once; each call goes to the captured native object (or a test fake). */
export const ops: KilnOps = {
  op_console_write: (text) => impl.op_console_write(text),
  op_exit: (code) => impl.op_exit(code),
  op_clock_monotonic_ns: () => impl.op_clock_monotonic_ns(),
  op_loop_set_tick: (fn) => impl.op_loop_set_tick(fn),
  op_cmdline: () => impl.op_cmdline(),
  op_boot_mark: () => impl.op_boot_mark(),
  op_mmio_read: (addr, width) => impl.op_mmio_read(addr, width),
  op_mmio_write: (addr, width, value) => impl.op_mmio_write(addr, width, value),
  op_dma_alloc: (size, align) => impl.op_dma_alloc(size, align),
  op_dma_free: (addr) => impl.op_dma_free(addr),
  op_phys_view: (addr, size) => impl.op_phys_view(addr, size),
  op_irq_subscribe: (irq) => impl.op_irq_subscribe(irq),
  op_loop_set_irq: (fn) => impl.op_loop_set_irq(fn),
  op_cpu_random: () => impl.op_cpu_random(),
  op_cpu_fence: () => impl.op_cpu_fence(),
  op_loop_set_exit_hook: (fn) => impl.op_loop_set_exit_hook(fn),
  op_payload_section: (kind) => impl.op_payload_section(kind),
  op_loop_poll: (deadlineNs) => impl.op_loop_poll(deadlineNs),
  op_net_checksum: (bytes, start, end, sum) => impl.op_net_checksum(bytes, start, end, sum),
  op_heap_size: () => impl.op_heap_size(),
  op_set_function_name: (target, name) => impl.op_set_function_name(target, name),
};

/** Tests only: replaces the native object behind `ops`. */
export function setOpsForTesting(fake: KilnOps): void {
  impl = fake;
}
