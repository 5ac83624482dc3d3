// Boot timer pseudo-device (4 KiB at BOOT_TIMER_ADDR): the guest writes the byte BOOT_TIMER_MAGIC
// at offset 0 when it has booted; the VMM records the time and can print Firecracker's exact line
// `Guest-boot-time = N us M ms, C CPU us D CPU ms` (wall µs since the VM build started,
// process CPU µs since then). Firecracker devices/pseudo/boot_timer.rs.

import { BOOT_TIMER_MAGIC } from '@kiln/common/layout.ts';
import type { BusDevice } from './bus.ts';

export const BOOT_TIMER_LEN = 0x1000;

export interface BootTime {
  wallUs: number;
  cpuUs: number;
}

/** Firecracker's format: `{:>6} us {} ms, {:>6} CPU us {} CPU ms`. */
export function formatBootTime(t: BootTime): string {
  return `Guest-boot-time = ${String(t.wallUs).padStart(6)} us ${Math.floor(t.wallUs / 1000)} ms, ${String(t.cpuUs).padStart(6)} CPU us ${Math.floor(t.cpuUs / 1000)} CPU ms`;
}

export class BootTimer implements BusDevice {
  readonly #measure: () => BootTime;
  readonly #onBoot: (t: BootTime) => void;
  /** Set at the first magic write. */
  bootTime: BootTime | undefined;

  /** `measure` reads the clocks (the VMM uses the exit's vCPU timestamp). */
  constructor(measure: () => BootTime, onBoot: (t: BootTime) => void) {
    this.#measure = measure;
    this.#onBoot = onBoot;
  }
  read(_offset: number, data: Uint8Array): void {
    data.fill(0);
  }
  write(offset: number, data: Uint8Array): void {
    // Only byte writes at offset 0 count, as in Firecracker.
    if (offset !== 0 || data.length !== 1 || data[0] !== BOOT_TIMER_MAGIC) return;
    const t = this.#measure();
    this.bootTime ??= t;
    this.#onBoot(t);
  }
}
