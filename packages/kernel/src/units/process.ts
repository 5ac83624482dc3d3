// The `kiln:process` module: the app's view of its VM — arguments, environment, exit.
// args/env come from the guest command line (cmdline.ts); exit() ends the VM with a code;
// exitCode is used when the event loop drains (Node's process.exitCode semantics).
// Spec: docs/ARCHITECTURE.md "Guest command line", "Exit codes". Apps typecheck against this file
// (packages/kernel/tsconfig.app.json maps kiln:process here).

import { ops } from '../ops.ts';
import { parseCmdline } from '@kiln/common/cmdline.ts';
import { exitNow, getExitCode, normalizeExitCode, setExitCode } from './lifecycle.ts';

const parsed = parseCmdline(ops.op_cmdline());

/** Arguments after `--` on the guest command line. */
export const args: string[] = parsed.args;
/** NAME=value pairs before `--` (keys without a dot). */
export const env: Record<string, string> = parsed.env;
/** Kernel parameters (keys with a dot, bare words). */
export const kernelParams: Record<string, string> = parsed.kernel;
export const argv0 = 'kiln';

/** Ends the VM now with `code` (default: exitCode, else 0). */
export function exit(code?: number): never {
  return exitNow(code === undefined ? (getExitCode() ?? 0) : normalizeExitCode(code));
}

const process = {
  args,
  env,
  argv0,
  kernelParams,
  exit,
  /** Exit code used when the event loop drains (default 0). */
  get exitCode(): number | undefined {
    return getExitCode();
  },
  set exitCode(code: number | undefined) {
    setExitCode(code);
  },
};
export default process;
