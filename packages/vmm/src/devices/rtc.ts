// CMOS real-time clock at ports 0x70 (index, bit 7 = NMI mask) and 0x71 (data), read-only:
// seconds, minutes, hours, weekday, day, month, year and century in BCD from the host's UTC
// time, status A (UIP clear), B (24-hour, BCD), C (no interrupts), D (valid RAM and time).
// Spec: Motorola MC146818A datasheet; the century register at 0x32 is the IBM PC convention.

import type { BusDevice } from './bus.ts';

export const RTC_PORT_BASE = 0x70;
export const RTC_PORT_LEN = 2;
export const RTC_SECONDS = 0x00;
export const RTC_MINUTES = 0x02;
export const RTC_HOURS = 0x04;
export const RTC_DAY_OF_WEEK = 0x06;
export const RTC_DAY_OF_MONTH = 0x07;
export const RTC_MONTH = 0x08;
export const RTC_YEAR = 0x09;
export const RTC_REG_A = 0x0a;
export const RTC_REG_B = 0x0b;
export const RTC_REG_C = 0x0c;
export const RTC_REG_D = 0x0d;
export const RTC_CENTURY = 0x32;
/** Divider 32.768 kHz, rate 1024 Hz; UIP (bit 7) clear. */
export const RTC_REG_A_VALUE = 0x26;
/** 24-hour mode (bit 1); DM (bit 2) clear = BCD. */
export const RTC_REG_B_24H = 0x02;
/** VRT: valid RAM and time. */
export const RTC_REG_D_VRT = 0x80;

export function toBcd(n: number): number {
  return ((Math.floor(n / 10) % 10) << 4) | n % 10;
}

export class Rtc implements BusDevice {
  #index = 0;
  readonly #now: () => Date;

  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
  }

  read(offset: number, data: Uint8Array): void {
    data.fill(0);
    data[0] = offset === 0 ? this.#index : this.#register(this.#index);
  }

  write(offset: number, data: Uint8Array): void {
    if (offset === 0) this.#index = (data[0] ?? 0) & 0x7f; // bit 7 masks NMI: ignored
    // writes to 0x71 are ignored: the clock is read-only
  }

  #register(i: number): number {
    const d = this.#now();
    switch (i) {
      case RTC_SECONDS:
        return toBcd(d.getUTCSeconds());
      case RTC_MINUTES:
        return toBcd(d.getUTCMinutes());
      case RTC_HOURS:
        return toBcd(d.getUTCHours());
      case RTC_DAY_OF_WEEK:
        return toBcd(d.getUTCDay() + 1);
      case RTC_DAY_OF_MONTH:
        return toBcd(d.getUTCDate());
      case RTC_MONTH:
        return toBcd(d.getUTCMonth() + 1);
      case RTC_YEAR:
        return toBcd(d.getUTCFullYear() % 100);
      case RTC_CENTURY:
        return toBcd(Math.floor(d.getUTCFullYear() / 100));
      case RTC_REG_A:
        return RTC_REG_A_VALUE;
      case RTC_REG_B:
        return RTC_REG_B_24H;
      case RTC_REG_C:
        return 0;
      case RTC_REG_D:
        return RTC_REG_D_VRT;
      default:
        return 0;
    }
  }
}
