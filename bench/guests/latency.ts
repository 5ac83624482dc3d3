// Bench guest of bench/platform.ts: device-path latencies timed inside the guest with the
// core's monotonic clock (op_clock_monotonic_ns), on whichever platform runs it.
//   -- mmio N    N reads of virtio-mmio DeviceID (offset 0x008) of the first slot: each one is a
//                trip to the VMM's device model (KVM: an MMIO exit answered by JS on the main
//                thread; process platform: a request on the register channel). Then N reads of
//                that slot's InterruptStatus (0x060), the fast path, for reference (KVM: answered
//                on the vCPU thread; process platform: a word in the control page, no trip).
//   -- rng N     N virtio-rng requests of 16 bytes, one at a time, through the kernel's driver
//                (`await rng.read(16)`): QueueNotify → the VMM's rng model fills the buffer →
//                used ring + interrupt → the event loop's irq handler resolves the promise.
//   -- idle MS   prints "IDLE START", waits on one timer of MS ms, prints "IDLE END".
// Prints one JSON line per measurement. Imports the kernel's ops and drivers directly (as
// examples/virtiofs does), which an app cannot do through kiln:* modules.

import { args } from '../../packages/kernel/src/units/process.ts'; // = kiln:process (the root tsconfig, which covers bench/, has no kiln:* declarations)
import { ops } from '../../packages/kernel/src/ops.ts';
import { guestPlatform } from '../../packages/kernel/src/drivers/platform.ts';
import { parseMmioSlots, virtioDevices } from '../../packages/kernel/src/drivers/virtio/mmio.ts';
import { openRng } from '../../packages/kernel/src/drivers/virtio/rng.ts';

const WARMUP = 50;

function summary(name: string, ns: number[]): string {
  const s = ns.slice().sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(s.length * p))]! / 1000;
  let sum = 0;
  for (const x of s) sum += x;
  return JSON.stringify({ name, n: s.length, medianUs: q(0.5), p10Us: q(0.1), p99Us: q(0.99), meanUs: sum / s.length / 1000 });
}

function mmio(n: number): void {
  const slot = parseMmioSlots(ops.op_cmdline()).slots[0];
  if (!slot) throw new Error('no virtio_mmio.device= slot on the command line');
  for (const [name, off] of [['DeviceID', 0x008], ['InterruptStatus', 0x060]] as const) {
    const addr = slot.base + off;
    const ns: number[] = [];
    for (let i = 0; i < WARMUP + n; i++) {
      const t0 = ops.op_clock_monotonic_ns();
      ops.op_mmio_read(addr, 4);
      const t1 = ops.op_clock_monotonic_ns();
      if (i >= WARMUP) ns.push(t1 - t0);
    }
    console.log(summary(name, ns));
  }
  // The cost of the two clock reads themselves.
  const ns: number[] = [];
  for (let i = 0; i < WARMUP + n; i++) {
    const t0 = ops.op_clock_monotonic_ns();
    const t1 = ops.op_clock_monotonic_ns();
    if (i >= WARMUP) ns.push(t1 - t0);
  }
  console.log(summary('clock', ns));
}

async function rng(n: number): Promise<void> {
  const r = openRng(() => virtioDevices(guestPlatform(), ops.op_cmdline()));
  if (!r) throw new Error('no virtio-rng device');
  const ns: number[] = [];
  for (let i = 0; i < WARMUP + n; i++) {
    const t0 = ops.op_clock_monotonic_ns();
    await r.read(16);
    const t1 = ops.op_clock_monotonic_ns();
    if (i >= WARMUP) ns.push(t1 - t0);
  }
  console.log(summary('rng', ns));
}

const mode = args[0];
const n = Number(args[1] ?? 1000);
if (mode === 'mmio') mmio(n);
else if (mode === 'rng') rng(n).catch((e) => { console.log('ERROR ' + String(e)); });
else if (mode === 'idle') {
  console.log('IDLE START');
  setTimeout(() => console.log('IDLE END'), n);
} else console.log('usage: -- mmio N | rng N | idle MS');
