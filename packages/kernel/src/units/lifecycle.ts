// Program lifecycle state shared by the kernel units: the exit code used when the event loop
// drains (process.exitCode), the one way to report an uncaught error (print, exit 1), and the
// flushes that must finish before the VM ends (the VFS writing cached data back): the tick
// waits for them when the loop drains (runtime.ts), process.exit and uncaught errors run them
// in a nested loop (op_loop_poll), both bounded by EXIT_FLUSH_NS.
// Semantics follow Node: an uncaught exception prints the error with its stack and exits 1.
// Spec: docs/ARCHITECTURE.md "Guest event loop" and "Exit codes".

import { ops } from '../ops.ts';
import { consoleFlushSync, consoleWrite } from './console_out.ts';
import { inspect } from './inspect.ts';
import { mappedStackOf } from './stack_lines.ts';

let exitCode: number | undefined;

export function getExitCode(): number | undefined {
  return exitCode;
}

export function setExitCode(code: number | undefined): void {
  exitCode = code === undefined ? undefined : normalizeExitCode(code);
}

/** Node's rule: integers only; the guest keeps the low 8 bits (exit codes are 0–255). */
export function normalizeExitCode(code: unknown): number {
  if (typeof code !== 'number' || !Number.isInteger(code)) {
    throw new TypeError(`exit code must be an integer, got ${inspect(code)}`);
  }
  return code & 0xff;
}

/** Async work that must finish before the VM ends; `pending()` says whether there is any. */
export interface ExitFlush {
  readonly name: string;
  pending(): boolean;
  flush(): Promise<void>;
}

/** How long the VM waits for the exit flushes before it ends anyway (ns). */
export const EXIT_FLUSH_NS = 5e9;

const flushes: ExitFlush[] = [];
let flushingSync = false;
let flushFailed = false;

export function addExitFlush(f: ExitFlush): void {
  flushes.push(f);
}

/** The flushes with work, started; undefined when none has any. A failure is printed and
 * makes the exit code 1 when it would have been 0 (written data was lost). */
export function startExitFlushes(): Promise<void> | undefined {
  const work = flushes.filter((f) => f.pending());
  if (work.length === 0) return undefined;
  return Promise.all(work.map((f) => f.flush().catch((e: unknown) => {
    consoleWrite(`kiln: ${f.name} failed at exit: ${e instanceof Error ? e.message : String(e)}\n`);
    flushFailed = true;
    if ((exitCode ?? 0) === 0) exitCode = 1;
  }))).then(() => {});
}

/** Runs the exit flushes to completion in a nested loop (jobs and interrupts, no timers), at
 * most EXIT_FLUSH_NS; for exits that cannot wait for the event loop. Re-entry does nothing. */
export function runExitFlushesSync(): void {
  if (flushingSync) return;
  flushingSync = true;
  const started = startExitFlushes();
  if (!started) return;
  let done = false;
  void started.then(() => {
    done = true;
  });
  const deadline = ops.op_clock_monotonic_ns() + EXIT_FLUSH_NS;
  while (!done && ops.op_loop_poll(deadline));
  if (!done) consoleWrite(`kiln: the filesystems did not finish writing back within ${EXIT_FLUSH_NS / 1e9} s; ending anyway\n`);
}

/** What the core calls before it ends the VM on its own (op_loop_set_exit_hook) on an uncaught
 * `error` or unhandled rejection that it prints: the flushes, then the error's stack in the app's
 * source lines for the core to print (undefined: it prints error.stack; out of memory, nothing
 * more is attempted). */
export function beforeCoreExit(error?: unknown): string | undefined {
  runExitFlushesSync();
  consoleFlushSync();
  return isOutOfMemory(error) ? undefined : mappedStackOf(error);
}

/** Ends the VM with `code` (0–255), after the exit flushes. */
export function exitNow(code: number): never {
  runExitFlushesSync();
  if (code === 0 && flushFailed) code = 1; // written data was lost
  consoleFlushSync(); // output still buffered for virtio-console leaves first
  return ops.op_exit(code & 0xff);
}

/** QuickJS's out-of-memory error (JS_ThrowOutOfMemory): an InternalError "out of memory". */
export function isOutOfMemory(err: unknown): boolean {
  return err instanceof Error && err.name === 'InternalError' && err.message === 'out of memory';
}

/**
 * Prints an uncaught error (message and stack) and ends the VM with code 1. Running out of memory
 * is the core's to report (arch/engine.c engine_fail: the heap's size and use, exit 98): the error
 * is thrown on to it.
 */
export function reportUncaught(err: unknown): never {
  if (isOutOfMemory(err)) throw err;
  let text: string;
  try {
    text = `Uncaught ${inspect(err)}\n`;
  } catch (e) {
    if (isOutOfMemory(e)) throw e;
    text = 'Uncaught exception (could not be formatted)\n';
  }
  try {
    consoleWrite(text);
    runExitFlushesSync();
    consoleFlushSync();
  } catch {
    ops.op_console_write(text); // the console device is the problem: serial still works
  }
  return ops.op_exit(1);
}
