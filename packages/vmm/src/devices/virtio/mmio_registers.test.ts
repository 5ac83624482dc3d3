// Hostile virtio-mmio register sequences: random reads and writes (any register, any offset in
// the slot, widths 1/2/4/8, random values and plausible ones: status bits in any order, queue
// sizes, ring addresses inside and outside RAM, notifies) fed to the mmio transport of rng,
// console and block devices. A fuzz target of npm run fuzz (numRuns: runs(N)); hostile.test.ts
// covers hostile rings behind a well-behaved register sequence. Asserts: no exception escapes,
// no device-model exception is caught either (the transport records those as "device model
// error"), guard bytes around guest RAM stay intact, and the registers still answer and reset.
// Spec: virtio 1.2 §4.2.2 (MMIO device register layout), §3.1 (initialization).

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { runs } from '@kiln/common/testing/property.ts';
import * as V from '@kiln/common/virtio/index.ts';
import { VirtioMmio } from './mmio.ts';
import { VirtioRng } from './rng.ts';
import { VirtioConsole } from './console.ts';
import { VirtioBlock } from './block.ts';
import type { VirtioDevice } from './device.ts';
import { guardedRam, guardsIntact } from './mock_driver.ts';

const MEM = 64 * 1024;
const REGS = [
  V.VIRTIO_MMIO_MAGIC_VALUE, V.VIRTIO_MMIO_VERSION, V.VIRTIO_MMIO_DEVICE_ID, V.VIRTIO_MMIO_VENDOR_ID, V.VIRTIO_MMIO_DEVICE_FEATURES,
  V.VIRTIO_MMIO_DEVICE_FEATURES_SEL, V.VIRTIO_MMIO_DRIVER_FEATURES, V.VIRTIO_MMIO_DRIVER_FEATURES_SEL, V.VIRTIO_MMIO_QUEUE_SEL,
  V.VIRTIO_MMIO_QUEUE_NUM_MAX, V.VIRTIO_MMIO_QUEUE_NUM, V.VIRTIO_MMIO_QUEUE_READY, V.VIRTIO_MMIO_QUEUE_NOTIFY, V.VIRTIO_MMIO_INTERRUPT_STATUS,
  V.VIRTIO_MMIO_INTERRUPT_ACK, V.VIRTIO_MMIO_STATUS, V.VIRTIO_MMIO_QUEUE_DESC_LOW, V.VIRTIO_MMIO_QUEUE_DESC_HIGH, V.VIRTIO_MMIO_QUEUE_DRIVER_LOW,
  V.VIRTIO_MMIO_QUEUE_DRIVER_HIGH, V.VIRTIO_MMIO_QUEUE_DEVICE_LOW, V.VIRTIO_MMIO_QUEUE_DEVICE_HIGH, V.VIRTIO_MMIO_SHM_SEL, V.VIRTIO_MMIO_SHM_LEN_LOW,
  V.VIRTIO_MMIO_SHM_LEN_HIGH, V.VIRTIO_MMIO_SHM_BASE_LOW, V.VIRTIO_MMIO_SHM_BASE_HIGH, V.VIRTIO_MMIO_QUEUE_RESET, V.VIRTIO_MMIO_CONFIG_GENERATION,
  V.VIRTIO_MMIO_CONFIG,
];
const STATUS_BITS = [V.VIRTIO_CONFIG_S_ACKNOWLEDGE, V.VIRTIO_CONFIG_S_DRIVER, V.VIRTIO_CONFIG_S_FEATURES_OK, V.VIRTIO_CONFIG_S_DRIVER_OK, V.VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET, V.VIRTIO_CONFIG_S_FAILED];

/** A register value: anything, or what a driver would plausibly write there. */
const valueArb = fc.oneof(
  fc.integer({ min: 0, max: 0xffff_ffff }),
  fc.subarray(STATUS_BITS).map((bits) => bits.reduce((a, b) => a | b, 0)),
  fc.constantFrom(0, 1, 2, 4, 8, 16, 256, 0x8000, 0xffff, 0xffff_ffff),
  fc.integer({ min: 0, max: MEM + 64 }),
);
const accessArb = fc.record({
  write: fc.boolean(),
  offset: fc.oneof({ arbitrary: fc.constantFrom(...REGS), weight: 6 }, { arbitrary: fc.integer({ min: 0, max: 0x1ff }), weight: 1 }, { arbitrary: fc.integer({ min: V.VIRTIO_MMIO_CONFIG, max: V.VIRTIO_MMIO_SLOT_SIZE - 1 }), weight: 1 }),
  width: fc.oneof({ arbitrary: fc.constant(4), weight: 8 }, { arbitrary: fc.constantFrom(1, 2, 8), weight: 1 }),
  value: valueArb,
});
const ringAddr = fc.oneof({ arbitrary: fc.constantFrom(0x1000, 0x2000, 0x3000), weight: 3 }, { arbitrary: valueArb, weight: 1 });
/**
 * A well-formed start, so sequences reach FEATURES_OK and DRIVER_OK often: none, the feature
 * handshake, or that plus queue 0 set up (size, ring addresses — sometimes outside RAM — ready)
 * and DRIVER_OK; then any accesses.
 */
const sequenceArb = fc.record({
  setup: fc.constantFrom('none', 'features', 'driver-ok'),
  queueSize: fc.constantFrom(1, 4, 16, 0, 3, 0xffff),
  rings: fc.tuple(ringAddr, ringAddr, ringAddr),
  accesses: fc.array(accessArb, { minLength: 1, maxLength: 60 }),
});
type Sequence = typeof sequenceArb extends fc.Arbitrary<infer T> ? T : never;

function access(t: VirtioMmio, write: boolean, offset: number, width: number, value: number): number {
  const data = new Uint8Array(width);
  if (write) {
    for (let i = 0; i < width; i++) data[i] = i < 4 ? (value >>> (8 * i)) & 0xff : 0;
    t.write(offset, data);
    return 0;
  }
  t.read(offset, data);
  return width >= 4 ? new DataView(data.buffer).getUint32(0, true) : 0;
}

function setup(t: VirtioMmio, s: Sequence): void {
  if (s.setup === 'none') return;
  const w = (o: number, v: number) => access(t, true, o, 4, v);
  w(V.VIRTIO_MMIO_STATUS, 0);
  w(V.VIRTIO_MMIO_STATUS, V.VIRTIO_CONFIG_S_ACKNOWLEDGE | V.VIRTIO_CONFIG_S_DRIVER);
  w(V.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
  w(V.VIRTIO_MMIO_DRIVER_FEATURES, 1); // VERSION_1 (bit 32)
  w(V.VIRTIO_MMIO_STATUS, V.VIRTIO_CONFIG_S_ACKNOWLEDGE | V.VIRTIO_CONFIG_S_DRIVER | V.VIRTIO_CONFIG_S_FEATURES_OK);
  if (s.setup !== 'driver-ok') return;
  w(V.VIRTIO_MMIO_QUEUE_SEL, 0);
  w(V.VIRTIO_MMIO_QUEUE_NUM, s.queueSize);
  w(V.VIRTIO_MMIO_QUEUE_DESC_LOW, s.rings[0]);
  w(V.VIRTIO_MMIO_QUEUE_DRIVER_LOW, s.rings[1]);
  w(V.VIRTIO_MMIO_QUEUE_DEVICE_LOW, s.rings[2]);
  w(V.VIRTIO_MMIO_QUEUE_READY, 1);
  w(V.VIRTIO_MMIO_STATUS, V.VIRTIO_CONFIG_S_ACKNOWLEDGE | V.VIRTIO_CONFIG_S_DRIVER | V.VIRTIO_CONFIG_S_FEATURES_OK | V.VIRTIO_CONFIG_S_DRIVER_OK);
}

/** How sequences ended, so the test can check that the generators reach activation and failure. */
const seen = { activated: 0, failed: 0 };

function run(dev: VirtioDevice, s: Sequence): void {
  const ram = guardedRam(MEM);
  const t = new VirtioMmio(dev, { mem: ram, interrupt: () => undefined });
  setup(t, s);
  for (const a of s.accesses) access(t, a.write, a.offset, a.width, a.value);
  if (t.activated) seen.activated++;
  if (t.failure !== undefined) seen.failed++;
  assert.ok(t.failure === undefined || !/device model error/.test(t.failure), `device model threw: ${t.failure}`);
  assert.ok(guardsIntact(ram), 'guard bytes changed');
  assert.equal(access(t, false, V.VIRTIO_MMIO_MAGIC_VALUE, 4, 0), V.VIRTIO_MMIO_MAGIC);
  access(t, true, V.VIRTIO_MMIO_STATUS, 4, 0);
  assert.equal(access(t, false, V.VIRTIO_MMIO_STATUS, 4, 0), 0);
  assert.equal(t.activated, false);
}

test('hostile register sequences: rng and console', () => {
  fc.assert(
    fc.property(fc.boolean(), sequenceArb, (rng, s) => run(rng ? new VirtioRng() : new VirtioConsole({ write: () => {} }), s)),
    { numRuns: runs(1000) },
  );
  assert.ok(seen.activated > 20 && seen.failed > 20, `generators too narrow: ${JSON.stringify(seen)}`);
});

test('hostile register sequences: block', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-mmio-regs-'));
  try {
    const path = join(dir, 'disk.img');
    writeFileSync(path, new Uint8Array(8 * 512));
    await fc.assert(
      fc.asyncProperty(sequenceArb, async (s) => {
        const blk = VirtioBlock.open({ path, readOnly: false });
        try {
          run(blk, s);
        } finally {
          await blk.close();
        }
      }),
      { numRuns: runs(300) },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
