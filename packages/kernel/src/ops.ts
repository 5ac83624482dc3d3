// The native ops: the ONLY declaration of what the C core (arch/ops.c) provides to TypeScript.
// The core defines them on a global object `__kiln_ops` before the bundle runs; this module
// captures that object once and deletes the global, so apps cannot reach the ops directly.
// Contract: docs/ARCHITECTURE.md "Native ops" and "Guest event loop". Tests inject a fake.

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
};

/** Tests only: replaces the native object behind `ops`. */
export function setOpsForTesting(fake: KilnOps): void {
  impl = fake;
}
