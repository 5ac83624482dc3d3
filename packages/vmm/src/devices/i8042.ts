// Minimal i8042 keyboard controller at ports 0x60-0x64: enough for the guest to reset the
// machine (command 0xfe "pulse reset line" on 0x64), which ends the VM with reason 'reset'.
// Status and data read as 0 (no keyboard). Firecracker's devices/legacy/i8042.rs; IBM PC AT
// Technical Reference (8042 commands).

import type { BusDevice } from './bus.ts';

export const I8042_PORT_BASE = 0x60;
export const I8042_PORT_LEN = 5;
export const I8042_DATA_REG = 0; // port 0x60
export const I8042_COMMAND_REG = 4; // port 0x64
export const CMD_RESET_CPU = 0xfe;

export class I8042 implements BusDevice {
  readonly #onReset: () => void;
  constructor(onReset: () => void) {
    this.#onReset = onReset;
  }
  read(_offset: number, data: Uint8Array): void {
    data.fill(0);
  }
  write(offset: number, data: Uint8Array): void {
    if (offset === I8042_COMMAND_REG && data[0] === CMD_RESET_CPU) this.#onReset();
  }
}
