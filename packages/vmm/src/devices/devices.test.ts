// Device-model tests, driven the way a guest driver drives them (register reads/writes through
// the bus): bus routing and overlap checks, the 16550 as Linux's 8250 driver probes it,
// isa-debug-exit, i8042 reset, the boot timer and its Firecracker line, the CMOS RTC.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bus, BusError, type BusDevice } from './bus.ts';
import { Serial, UART_IER, UART_IIR, UART_LCR, UART_LSR, UART_MCR, UART_MSR, UART_SCR, UART_FCR } from './serial.ts';
import { DebugExit } from './debug_exit.ts';
import { I8042 } from './i8042.ts';
import { BootTimer, formatBootTime } from './boot_timer.ts';
import { Rtc, toBcd } from './rtc.ts';

const rd = (bus: Bus, addr: number, size = 1): number => {
  const b = new Uint8Array(size);
  bus.read(addr, b);
  return b.reduceRight((acc, x) => acc * 256 + x, 0);
};
const wr = (bus: Bus, addr: number, v: number): void => {
  bus.write(addr, Uint8Array.of(v));
};

test('bus: routes by range, rejects overlaps, unknown reads are all-ones and counted', () => {
  const seen: string[] = [];
  const dev: BusDevice = {
    read: (o, d) => d.fill(o),
    write: (o, d) => seen.push(`${o}:${d[0]}`),
  };
  const bus = new Bus('pio');
  bus.add(0x3f8, 8, 'serial', dev);
  assert.throws(() => bus.add(0x3ff, 2, 'x', dev), BusError);
  assert.throws(() => bus.add(0x3f0, 9, 'x', dev), BusError);
  bus.add(0x3f0, 8, 'y', dev);
  assert.equal(rd(bus, 0x3fa), 2);
  wr(bus, 0x3f9, 5);
  assert.deepEqual(seen, ['1:5']);
  assert.equal(rd(bus, 0x500, 2), 0xffff);
  wr(bus, 0x501, 1);
  assert.equal(bus.unknownReads, 1);
  assert.equal(bus.unknownWrites, 1);
  assert.deepEqual(bus.unknownLog, ['R 0x500/2', 'W 0x501/1']);
});

test('serial: THR goes to the sink; LSR always THRE|TEMT; scratch, LCR, DLAB divisor', () => {
  const out: Uint8Array[] = [];
  const s = new Serial({ write: (d) => out.push(d) });
  const bus = new Bus('pio');
  bus.add(0x3f8, 8, 'serial', s);
  for (const c of new TextEncoder().encode('hi\n')) wr(bus, 0x3f8, c);
  assert.equal(Buffer.concat(out).toString(), 'hi\n', 'a newline flushes');
  assert.equal(rd(bus, 0x3f8 + UART_LSR), 0x60);
  wr(bus, 0x3f8 + UART_SCR, 0xa5);
  assert.equal(rd(bus, 0x3f8 + UART_SCR), 0xa5);
  wr(bus, 0x3f8 + UART_LCR, 0x83); // DLAB
  wr(bus, 0x3f8 + 0, 0x01);
  wr(bus, 0x3f8 + 1, 0x00);
  assert.equal(rd(bus, 0x3f8 + 0), 0x01);
  wr(bus, 0x3f8 + UART_LCR, 0x03);
  assert.equal(rd(bus, 0x3f8 + UART_LCR), 0x03);
  wr(bus, 0x3f8, 0x41); // no newline: buffered until flush
  s.flush();
  assert.equal(Buffer.concat(out).toString(), 'hi\nA');
  assert.equal(s.txBytes, 4);
});

test('serial: 8250 probe — loopback MSR, FIFO bits in IIR, THRE interrupt', () => {
  let irqs = 0;
  const s = new Serial({ write() {} }, () => irqs++);
  const bus = new Bus('pio');
  bus.add(0x3f8, 8, 'serial', s);
  // autoconfig: loopback with RTS|OUT2 → MSR high nibble 0x90
  wr(bus, 0x3f8 + UART_MCR, 0x10 | 0x0a);
  assert.equal(rd(bus, 0x3f8 + UART_MSR) & 0xf0, 0x90);
  wr(bus, 0x3f8 + UART_MCR, 0x08);
  assert.equal(rd(bus, 0x3f8 + UART_MSR), 0xb0);
  // FIFO: 16550A reports bits 7:6 = 11 in IIR
  wr(bus, 0x3f8 + UART_FCR, 0x01);
  assert.equal(rd(bus, 0x3f8 + UART_IIR), 0xc1);
  // THRE interrupt on enabling ETBEI, acknowledged by reading IIR
  wr(bus, 0x3f8 + UART_IER, 0x02);
  assert.equal(irqs, 1);
  assert.equal(rd(bus, 0x3f8 + UART_IIR), 0xc2);
  assert.equal(rd(bus, 0x3f8 + UART_IIR), 0xc1);
  wr(bus, 0x3f8, 0x41);
  assert.equal(irqs, 2);
  // loopback: transmitted bytes come back as input
  wr(bus, 0x3f8 + UART_MCR, 0x10);
  wr(bus, 0x3f8, 0x5a);
  assert.equal(rd(bus, 0x3f8 + UART_LSR) & 1, 1);
  assert.equal(rd(bus, 0x3f8), 0x5a);
  assert.equal(rd(bus, 0x3f8 + UART_LSR) & 1, 0);
});

test('serial: plain output holds only without DLAB, loopback or THRE interrupt; changes flush first', () => {
  const out: string[] = [];
  const s = new Serial({ write: (d) => out.push(String.fromCharCode(...d)) });
  const changes: string[] = [];
  s.onPlainOutputChange = (plain) => changes.push(`${plain}:${out.join('')}`);
  assert.equal(s.plainOutput, true, 'reset state: 8N1, no interrupts');
  s.write(0, Uint8Array.of(0x61)); // buffered 'a'
  s.write(UART_LCR, Uint8Array.of(0x83)); // DLAB on: flush, then announce
  s.write(UART_LCR, Uint8Array.of(0x03));
  s.write(UART_MCR, Uint8Array.of(0x10)); // loopback
  s.write(UART_MCR, Uint8Array.of(0x08));
  s.write(UART_IER, Uint8Array.of(0x02)); // THRE interrupt
  s.write(UART_IER, Uint8Array.of(0x02)); // no change, no announcement
  assert.deepEqual(changes, ['false:a', 'true:a', 'false:a', 'true:a', 'false:a']);
  assert.equal(s.plainOutput, false);
});

test('serial: input raises an RX interrupt when enabled', () => {
  let irqs = 0;
  const s = new Serial({ write() {} }, () => irqs++);
  s.write(UART_IER, Uint8Array.of(0x01));
  s.enqueueInput(new TextEncoder().encode('ab'));
  assert.equal(irqs, 1);
  const b = new Uint8Array(1);
  s.read(UART_IIR, b);
  assert.equal(b[0], 0x04);
  s.read(0, b);
  assert.equal(b[0], 0x61);
});

test('debug exit: the byte written is the exit code', () => {
  const codes: number[] = [];
  const d = new DebugExit((c) => codes.push(c));
  d.write(0, Uint8Array.of(7));
  d.write(0, Uint8Array.of(255));
  assert.deepEqual(codes, [7, 255]);
});

test('i8042: 0xfe on port 0x64 resets; status reads 0', () => {
  let resets = 0;
  const bus = new Bus('pio');
  bus.add(0x60, 5, 'i8042', new I8042(() => resets++));
  assert.equal(rd(bus, 0x64), 0);
  wr(bus, 0x64, 0xaa);
  wr(bus, 0x60, 0xfe);
  assert.equal(resets, 0);
  wr(bus, 0x64, 0xfe);
  assert.equal(resets, 1);
});

test('boot timer: only a byte 123 at offset 0 counts; Firecracker line format', () => {
  const lines: string[] = [];
  let n = 0;
  const t = new BootTimer(
    () => ({ wallUs: 12_345 + n++, cpuUs: 999 }),
    (bt) => lines.push(formatBootTime(bt)),
  );
  t.write(1, Uint8Array.of(123));
  t.write(0, Uint8Array.of(122));
  t.write(0, Uint8Array.of(123, 0));
  assert.equal(lines.length, 0);
  t.write(0, Uint8Array.of(123));
  assert.deepEqual(lines, ['Guest-boot-time =  12345 us 12 ms,    999 CPU us 0 CPU ms']);
  assert.deepEqual(t.bootTime, { wallUs: 12345, cpuUs: 999 });
  assert.equal(formatBootTime({ wallUs: 1_234_567, cpuUs: 7_654_321 }), 'Guest-boot-time = 1234567 us 1234 ms, 7654321 CPU us 7654 CPU ms');
});

test('rtc: BCD date/time from UTC, status registers, NMI bit masked off the index', () => {
  const rtc = new Rtc(() => new Date(Date.UTC(2025, 10, 22, 13, 4, 59)));
  const bus = new Bus('pio');
  bus.add(0x70, 2, 'rtc', rtc);
  const reg = (i: number): number => {
    wr(bus, 0x70, i | 0x80);
    return rd(bus, 0x71);
  };
  assert.equal(reg(0x00), 0x59);
  assert.equal(reg(0x02), 0x04);
  assert.equal(reg(0x04), 0x13);
  assert.equal(reg(0x06), 0x07); // Saturday = 7
  assert.equal(reg(0x07), 0x22);
  assert.equal(reg(0x08), 0x11);
  assert.equal(reg(0x09), 0x25);
  assert.equal(reg(0x32), 0x20);
  assert.equal(reg(0x0a) & 0x80, 0, 'UIP clear');
  assert.equal(reg(0x0b), 0x02, '24h, BCD');
  assert.equal(reg(0x0d), 0x80, 'valid');
  wr(bus, 0x71, 0x12); // ignored
  assert.equal(reg(0x00), 0x59);
  assert.equal(toBcd(9), 0x09);
});
