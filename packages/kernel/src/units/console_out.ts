// Where console text goes: the serial port (op_console_write, the default and the fallback), or
// virtio-console when the command line has `kiln.console=virtio` (from the first write) or
// `kiln.console=auto` (after AUTO_SWITCH_AT characters went to serial) and such a device is
// present. A program that prints little probes nothing (each virtio-mmio register access is a VM
// exit); serial bytes already written are out before the switch, so order is kept. Output on virtio goes out once per loop turn
// (endTurn, from the tick); busy() keeps the loop alive until it has left; flushSync() runs
// before op_exit. Spec: docs/ARCHITECTURE.md "Virtio" (console), virtio 1.2 §5.3.

import { VIRTIO_ID_CONSOLE } from '@kiln/common/virtio/constants.ts';
import { ops } from '../ops.ts';
import { guestPlatform } from '../drivers/platform.ts';
import { VirtioConsoleOut } from '../drivers/virtio/console.ts';
import { virtioDevices } from '../drivers/virtio/mmio.ts';
import { tokenize } from '@kiln/common/cmdline.ts';

/** How long flushSync waits for the device before giving up (ns). */
const EXIT_DRAIN_NS = 2e9;

let dev: VirtioConsoleOut | null | undefined;

/** Serial bytes after which `kiln.console=auto` moves to virtio-console: about what the
 * device's probe and setup cost in VM exits (bench/RESULTS.md "Virtio"), so a program never pays
 * much more than twice the cheaper choice (the ski-rental rule). */
export const AUTO_SWITCH_AT = 512;

/** `kiln.console=virtio|auto` among the kernel parameters (before `--`); 'serial' otherwise. */
export function consoleMode(cmdline: string): 'serial' | 'virtio' | 'auto' {
  for (const { text, quoted } of tokenize(cmdline)) {
    if (text === '--' && !quoted) break;
    if (!quoted && text === 'kiln.console=virtio') return 'virtio';
    if (!quoted && text === 'kiln.console=auto') return 'auto';
  }
  return 'serial';
}

let mode: 'serial' | 'virtio' | 'auto' | undefined;
let serialChars = 0;

function virtio(): VirtioConsoleOut | null {
  if (dev !== undefined) return dev;
  const cmdline = ops.op_cmdline();
  mode ??= consoleMode(cmdline);
  if (mode === 'auto' && serialChars < AUTO_SWITCH_AT) return null; // short output: serial is cheaper
  dev = null;
  if (mode === 'serial') return dev;
  try {
    const d = virtioDevices(guestPlatform(), cmdline).find((x) => x.deviceId === VIRTIO_ID_CONSOLE);
    if (d) dev = new VirtioConsoleOut(d, () => ops.op_clock_monotonic_ns());
    else ops.op_console_write('kiln: kiln.console=virtio but no virtio-console device; using the serial console\n');
  } catch (e) {
    ops.op_console_write(`kiln: virtio-console unusable (${(e as Error).message}); using the serial console\n`);
  }
  return dev;
}

export function consoleWrite(text: string): void {
  const v = virtio();
  if (v) v.write(text);
  else {
    serialChars += text.length;
    ops.op_console_write(text);
  }
}

/** End of a loop turn: buffered output goes to the device (one notification). */
export function consoleEndTurn(): void {
  if (dev) dev.flush();
}

/** Output still with the device (the loop must wait for its interrupt before ending). */
export function consoleBusy(): boolean {
  return dev ? dev.busy() : false;
}

/** Before op_exit: everything written so far leaves the VM. */
export function consoleFlushSync(): void {
  if (dev && !dev.drainSync(EXIT_DRAIN_NS)) ops.op_console_write('kiln: virtio-console did not take the last output in time\n');
}
