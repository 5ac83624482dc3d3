// Program lifecycle state shared by the kernel units: the exit code used when the event loop
// drains (process.exitCode), and the one way to report an uncaught error (print, exit 1).
// Semantics follow Node: an uncaught exception prints the error with its stack and exits 1.
// Spec: docs/ARCHITECTURE.md "Guest event loop" and "Exit codes".

import { ops } from '../ops.ts';
import { consoleFlushSync, consoleWrite } from './console_out.ts';
import { inspect } from './inspect.ts';

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

/** Ends the VM with `code` (0–255). */
export function exitNow(code: number): never {
  consoleFlushSync(); // output still buffered for virtio-console leaves first
  return ops.op_exit(code & 0xff);
}

/** Prints an uncaught error (message and stack) and ends the VM with code 1. */
export function reportUncaught(err: unknown): never {
  let text: string;
  try {
    text = `Uncaught ${inspect(err)}\n`;
  } catch {
    text = 'Uncaught exception (could not be formatted)\n';
  }
  try {
    consoleWrite(text);
    consoleFlushSync();
  } catch {
    ops.op_console_write(text); // the console device is the problem: serial still works
  }
  return ops.op_exit(1);
}
