// isa-debug-exit at port 0xf4: the byte the guest writes is its exit code (0-255), and the VM
// ends with it. Kiln's contract (docs/ARCHITECTURE.md "Exit codes"); QEMU's isa-debug-exit
// device encodes the same write as (code << 1) | 1, which `kiln run --vmm qemu` decodes.

import type { BusDevice } from './bus.ts';

export const DEBUG_EXIT_PORT_LEN = 1;

export class DebugExit implements BusDevice {
  readonly #onExit: (code: number) => void;
  constructor(onExit: (code: number) => void) {
    this.#onExit = onExit;
  }
  read(_offset: number, data: Uint8Array): void {
    data.fill(0xff);
  }
  write(_offset: number, data: Uint8Array): void {
    this.#onExit((data[0] ?? 0) & 0xff);
  }
}
