// The kernel command line: NUL-terminated bytes at CMDLINE_ADDR, at most CMDLINE_MAX bytes
// including the NUL (docs/ARCHITECTURE.md "Guest command line"; Linux boot.rst cmdline_size).

import { VmmError } from '../errors.ts';
import type { GuestRam } from './guest_ram.ts';
import { CMDLINE_ADDR, CMDLINE_MAX } from '@kiln/common/layout.ts';

/** Encodes the command line with its NUL; throws VmmError ECMDLINE when it cannot be passed. */
export function encodeCmdline(cmdline: string): Uint8Array {
  const text = new TextEncoder().encode(cmdline);
  if (text.includes(0)) throw new VmmError('ECMDLINE', 'the kernel command line contains a NUL byte');
  if (text.length + 1 > CMDLINE_MAX) {
    throw new VmmError('ECMDLINE', `the kernel command line is ${text.length} bytes; at most ${CMDLINE_MAX - 1} fit (${CMDLINE_MAX} with the NUL)`);
  }
  const out = new Uint8Array(text.length + 1);
  out.set(text);
  return out;
}

/** Writes the command line; returns its size including the NUL (for cmdline_size). */
export function writeCmdline(ram: GuestRam, cmdline: string): number {
  const b = encodeCmdline(cmdline);
  ram.write(CMDLINE_ADDR, b);
  return b.length;
}
