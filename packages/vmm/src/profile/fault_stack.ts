// The JavaScript half of a CPU fault's report. When the guest ends with code 99, arch/trap.c has
// printed the vector, the registers and the native frames; the guest cannot print its JavaScript
// stack (it has faulted: no JavaScript can run), so runVm reads it from the stopped guest's RAM —
// QuickJS's frame list through the core's `kiln_profile` descriptor (guest_functions.ts, every
// read bounds-checked) — and prints it after the guest's lines, in the app's TypeScript terms:
// each frame at the line of the call it was making (the image's line map and function names,
// image_debug.ts), C functions by their symbol. A guest whose engine was not up, or whose image
// has no descriptor, adds nothing.

import type { GuestRam } from '../boot/guest_ram.ts';
import { GuestFunctions } from './guest_functions.ts';
import { ImageDebug } from './image_debug.ts';
import { ImageSymbols } from './image_symbols.ts';
import { KILN_PROFILE_SYMBOL } from './layout.ts';

/** The report's lines (each ending in a newline), or [] when there is no JavaScript stack to show. */
export function faultJsStack(image: Uint8Array, ram: GuestRam): string[] {
  const symbols = ImageSymbols.fromImage(image);
  const desc = symbols.addressOf(KILN_PROFILE_SYMBOL);
  if (desc === undefined) return [];
  const stack = new GuestFunctions(ram, desc).stack();
  if (!stack || stack.length === 0) return [];
  const debug = new ImageDebug(image);
  const lines = stack.map((f) => {
    if (f.kind === 'native') return `    at ${symbols.nameAt(f.address) ?? `0x${f.address.toString(16)}`} (native)\n`;
    if (f.kind === 'other') return '    at <native>\n';
    const fn = debug.named(f.fn);
    const line = f.callLine ?? fn.line;
    return `    at ${fn.name}${fn.file !== undefined && line !== undefined ? ` (${debug.location(fn.file, line)})` : ''}\n`;
  });
  return ['  JavaScript stack, innermost first (read by the VMM):\n', ...lines];
}
