// Where console text goes: the serial port (op_console_write, the default and the fallback), or
// virtio-console when the command line has `kiln.console=virtio` and such a device is present.
// The choice is made at the first write, so a program that prints nothing probes nothing (each
// virtio-mmio register access is a VM exit). Output on virtio goes out once per loop turn
// (endTurn, from the tick); busy() keeps the loop alive until it has left; flushSync() runs
// before op_exit. Spec: docs/ARCHITECTURE.md "Virtio" (console), virtio 1.2 §5.3.

import { VIRTIO_ID_CONSOLE } from '@kiln/common/virtio/constants.ts';
import { ops } from '../ops.ts';
import { guestPlatform } from '../drivers/platform.ts';
import { VirtioConsoleOut } from '../drivers/virtio/console.ts';
import { virtioDevices } from '../drivers/virtio/mmio.ts';
import { tokenize } from './cmdline.ts';

/** How long flushSync waits for the device before giving up (ns). */
const EXIT_DRAIN_NS = 2e9;

let dev: VirtioConsoleOut | null | undefined;

/** `kiln.console=virtio` among the kernel parameters (before `--`). */
export function wantsVirtioConsole(cmdline: string): boolean {
  for (const { text, quoted } of tokenize(cmdline)) {
    if (text === '--' && !quoted) return false;
    if (!quoted && text === 'kiln.console=virtio') return true;
  }
  return false;
}

function virtio(): VirtioConsoleOut | null {
  if (dev !== undefined) return dev;
  dev = null;
  const cmdline = ops.op_cmdline();
  if (!wantsVirtioConsole(cmdline)) return dev;
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
  else ops.op_console_write(text);
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

/** Tests only. */
export function setConsoleForTesting(d: VirtioConsoleOut | null | undefined): void {
  dev = d;
}
