// The exit codes Kiln's guest core itself gives (arch/kernel.h; tests/core/layout.test.ts compares
// the two). Any other code 0-255 is the program's own. Spec: docs/ARCHITECTURE.md "Exit codes".

/** An uncaught JS error or unhandled rejection, as in Node. */
export const GUEST_EXIT_JS_ERROR = 1;
/** The RAM after the image is too small for the core's heap or its JS runtime. */
export const GUEST_EXIT_NO_HEAP = 97;
/** The JavaScript heap ran out of memory (QuickJS's InternalError, reported by engine_fail). */
export const GUEST_EXIT_OUT_OF_MEMORY = 98;
/** A CPU exception or another fatal core error (an abort); on the process platform also a fault
 * signal or a system call the seccomp filter refused. */
export const GUEST_EXIT_CPU_FAULT = 99;
