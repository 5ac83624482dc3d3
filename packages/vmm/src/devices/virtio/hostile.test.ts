// Property tests with hostile guests: random and adversarial rings (random descriptors, loops,
// huge lengths, addresses outside RAM or past 2^53, bad avail indices, random ring placement)
// fed to every device through the mmio transport. Asserts: nothing throws out of the device
// model, guard bytes around guest RAM stay intact, every buffer handed to a device lies inside
// RAM, and a queue found broken sets DEVICE_NEEDS_RESET. Spec: virtio 1.2 §2.7, §2.1.2.

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
import { VirtioVsock } from './vsock.ts';
import { VirtioNet, type NetBackend } from './net.ts';
import { Virtqueue } from './queue.ts';
import type { VirtioDevice } from './device.ts';
import { GUARD, MockDriver, guardedRam, guardsIntact } from './mock_driver.ts';

const MEM = 64 * 1024;

const addrArb = fc.oneof(
  fc.integer({ min: 0, max: MEM - 1 }),
  fc.integer({ min: 0, max: MEM - 1 }),
  fc.integer({ min: MEM - 64, max: MEM + 64 }),
  fc.constantFrom(0n, 2n ** 53n, 2n ** 64n - 1n, 0xffff_ffffn, BigInt(MEM)),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
);
const lenArb = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: MEM }), fc.constantFrom(0xffff_ffff, 0x8000_0000, 16, 512, 513));
const descArb = fc.record({
  addr: addrArb,
  len: lenArb,
  flags: fc.oneof({ arbitrary: fc.constantFrom(0, 1, 2, 3), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: 7 }), weight: 1 }, { arbitrary: fc.integer({ min: 0, max: 0xffff }), weight: 1 }),
  next: fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 0xffff })),
});
const scenarioArb = fc.record({
  qsize: fc.constantFrom(1, 2, 4, 8, 16),
  indirect: fc.boolean(),
  eventIdx: fc.boolean(),
  descs: fc.array(descArb, { minLength: 16, maxLength: 16 }),
  ring: fc.array(fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 0xffff })), { minLength: 16, maxLength: 16 }),
  availIdx: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 0xffff })),
  usedEvent: fc.integer({ min: 0, max: 0xffff }),
  // extra random bytes sprinkled anywhere in RAM (indirect tables, headers)
  scribbles: fc.array(fc.record({ at: fc.integer({ min: 0, max: MEM - 8 }), v: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }), { maxLength: 24 }),
  badPlacement: fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, { arbitrary: fc.record({ desc: addrArb, avail: addrArb, used: addrArb }), weight: 1 }),
  notifies: fc.array(fc.integer({ min: -1, max: 3 }), { minLength: 1, maxLength: 4 }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function toNum(a: number | bigint): number {
  return typeof a === 'bigint' ? (a <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(a) : 2 ** 60) : a;
}

/** How the scenarios ended, so a test can check that the generators reach both outcomes. */
const seen = { activated: 0, failed: 0, clean: 0 };

async function runScenario(dev: VirtioDevice, s: Scenario, settle?: () => Promise<void>): Promise<void> {
  const ram = guardedRam(MEM);
  let irqs = 0;
  const t = new VirtioMmio(dev, { mem: ram, interrupt: () => irqs++ });
  const d = new MockDriver(ram, t);
  const features = V.featureBit(V.VIRTIO_F_VERSION_1) | (s.eventIdx ? V.featureBit(V.VIRTIO_F_RING_EVENT_IDX) : 0n) | (s.indirect ? V.featureBit(V.VIRTIO_F_INDIRECT_DESC) : 0n);
  const place = s.badPlacement ? () => ({ desc: toNum(s.badPlacement!.desc) % 2 ** 32, avail: toNum(s.badPlacement!.avail) % 2 ** 32, used: toNum(s.badPlacement!.used) % 2 ** 32 }) : undefined;
  d.init(features, s.qsize, place);
  for (const w of s.scribbles) ram.view(w.at, 8).setBigUint64(0, w.v, true);
  if (t.activated) {
    for (let q = 0; q < d.queues.length; q++) {
      const dq = d.queues[q]!;
      for (let i = 0; i < dq.size; i++) {
        const x = s.descs[i]!;
        d.writeDesc(q, i, BigInt.asUintN(64, BigInt(x.addr)), x.len, x.flags, x.next);
        ram.view(dq.avail + V.VIRTQ_AVAIL_RING + 2 * i, 2).setUint16(0, s.ring[i]!, true);
      }
      ram.view(dq.avail + V.VIRTQ_AVAIL_IDX, 2).setUint16(0, s.availIdx, true);
      ram.view(dq.avail + V.availUsedEventOffset(dq.size), 2).setUint16(0, s.usedEvent, true);
    }
  }
  if (t.activated) seen.activated++;
  for (const n of s.notifies) {
    if (n < 0) d.wr(V.VIRTIO_MMIO_QUEUE_NOTIFY, 0xdead);
    else d.notify(n);
  }
  if (settle) await settle();
  if (t.failure !== undefined) seen.failed++;
  if (t.activated && t.failure === undefined) seen.clean++;
  assert.ok(guardsIntact(ram), 'guard bytes changed');
  if (t.failure !== undefined) assert.ok(d.status & V.VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET, 'failure without DEVICE_NEEDS_RESET');
  for (let q = 0; q < t.queueCount; q++) {
    const vq = t.queue(q);
    if (vq?.brokenReason !== undefined) assert.ok(d.status & V.VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET);
  }
  // Registers still answer after whatever happened.
  assert.equal(d.rd(V.VIRTIO_MMIO_MAGIC_VALUE), V.VIRTIO_MMIO_MAGIC);
  d.wr(V.VIRTIO_MMIO_STATUS, 0);
  assert.equal(d.status, 0);
}

test('hostile rings: virtio-rng', async () => {
  await fc.assert(fc.asyncProperty(scenarioArb, (s) => runScenario(new VirtioRng(), s)), { numRuns: runs(400) });
  assert.ok(seen.activated > 100 && seen.failed > 50 && seen.clean > 10, `generators too narrow: ${JSON.stringify(seen)}`);
});

test('hostile rings: virtio-console', async () => {
  await fc.assert(
    fc.asyncProperty(scenarioArb, fc.uint8Array({ maxLength: 64 }), async (s, input) => {
      const con = new VirtioConsole({ write: () => {} });
      con.feed(input);
      await runScenario(con, s);
    }),
    { numRuns: runs(400) },
  );
});

test('hostile rings: virtio-blk (read-write and read-only)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-blk-'));
  try {
    const path = join(dir, 'disk.img');
    writeFileSync(path, Buffer.alloc(16 * 512, 0x11));
    await fc.assert(
      fc.asyncProperty(scenarioArb, fc.boolean(), async (s, ro) => {
        const blk = VirtioBlock.open({ path, readOnly: ro });
        try {
          await runScenario(blk, s, async () => {
            await blk.drain();
            await new Promise((r) => setImmediate(r));
          });
        } finally {
          await blk.close();
        }
      }),
      { numRuns: runs(200) },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hostile rings: virtio-net (frames queued for the guest, transmit to a backend)', async () => {
  await fc.assert(
    fc.asyncProperty(scenarioArb, fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { maxLength: 4 }), async (s, frames) => {
      let cb: ((f: Uint8Array) => void) | undefined;
      const backend: NetBackend = { name: 'test', send: () => {}, onFrame: (f) => void (cb = f), close: () => {} };
      const net = new VirtioNet(backend);
      await runScenario(net, s, async () => {
        for (const f of frames) cb!(f);
        await new Promise((r) => setImmediate(r));
      });
    }),
    { numRuns: runs(400) },
  );
});

test('hostile rings: every segment a popped chain hands out lies inside RAM', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const ram = guardedRam(MEM);
      const size = s.qsize;
      const vq = Virtqueue.create(ram, { size, descAddr: 0x1000, driverAddr: 0x2000, deviceAddr: 0x3000, eventIdx: s.eventIdx, indirect: s.indirect });
      assert.ok(vq instanceof Virtqueue);
      for (const w of s.scribbles) ram.view(w.at, 8).setBigUint64(0, w.v, true);
      for (let i = 0; i < size; i++) {
        const x = s.descs[i]!;
        const v = ram.view(0x1000 + 16 * i, 16);
        v.setBigUint64(0, BigInt.asUintN(64, BigInt(x.addr)), true);
        v.setUint32(8, x.len, true);
        v.setUint16(12, x.flags, true);
        v.setUint16(14, x.next, true);
        ram.view(0x2000 + 4 + 2 * i, 2).setUint16(0, s.ring[i]!, true);
      }
      ram.view(0x2002, 2).setUint16(0, s.availIdx, true);
      for (let k = 0; k < 2 * size + 2; k++) {
        const r = vq.pop();
        if (r.kind !== 'chain') break;
        let count = 0;
        for (const seg of [...r.chain.readable, ...r.chain.writable]) {
          assert.ok(seg.offset >= GUARD && seg.offset + seg.len <= GUARD + MEM, 'segment outside RAM');
          count++;
        }
        assert.ok(count <= size);
        vq.push(r.chain.head, 0);
      }
      assert.ok(guardsIntact(ram));
    }),
    { numRuns: runs(1000) },
  );
});

test('hostile rings: virtio-vsock (random headers and chains on rx, tx and event queues)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-vsock-'));
  try {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const dev = new VirtioVsock({ cid: 3, udsPath: join(dir, 'v.sock') });
        try {
          await runScenario(dev, s, () => new Promise((r) => setImmediate(r)));
        } finally {
          await dev.close();
        }
      }),
      { numRuns: runs(300) },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
