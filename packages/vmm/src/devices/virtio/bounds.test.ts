// Hostile-guest tests of the bounds every device keeps (docs/ARCHITECTURE.md "Bounds"): chains
// outstanding per queue ≤ the queue size however often the guest re-publishes heads, at most
// QUEUE_TURN_BUDGET chains per event-loop turn however fast it refills, and host memory per
// console chain bounded whatever its descriptors claim. Property tests use the shared seed
// (KILN_SEED); the examples are the attacks from issue 10. Spec: virtio 1.2 §2.7.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import * as V from '@kiln/common/virtio/index.ts';
import { VirtioMmio } from './mmio.ts';
import { VirtioBlock } from './block.ts';
import { CONSOLE_MAX_REQUEST, VirtioConsole } from './console.ts';
import { VirtioRng } from './rng.ts';
import { QUEUE_TURN_BUDGET, serveLater, type DeviceContext, type VirtioDevice } from './device.ts';
import { Virtqueue } from './queue.ts';
import { FEATURES_BASE, MockDriver, guardedRam } from './mock_driver.ts';

function setup(dev: VirtioDevice, memSize = 1 << 20, size = 16): { d: MockDriver; t: VirtioMmio; failures: string[] } {
  const ram = guardedRam(memSize);
  const failures: string[] = [];
  const t = new VirtioMmio(dev, { mem: ram, interrupt: () => {}, onFailure: (m) => failures.push(m) });
  const d = new MockDriver(ram, t);
  d.init(FEATURES_BASE, size);
  return { d, t, failures };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('queue: chains available plus chains in flight never exceed the queue size (random publish/pop/push)', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(1, 2, 4, 16),
      fc.array(fc.oneof(fc.constant<'pop'>('pop'), fc.constant<'push'>('push'), fc.integer({ min: 0, max: 40 })), { maxLength: 200 }),
      (size, ops) => {
        const ram = guardedRam(1 << 16);
        const vq = Virtqueue.create(ram, { size, descAddr: 0x1000, driverAddr: 0x2000, deviceAddr: 0x3000, eventIdx: false, indirect: false });
        assert.ok(vq instanceof Virtqueue);
        let avail = 0;
        const held: number[] = [];
        for (const op of ops) {
          if (typeof op === 'number') {
            // publish `op` more chains (always head 0: a one-descriptor chain re-published)
            for (let i = 0; i < op; i++) ram.view(0x2004 + 2 * (avail++ % size), 2).setUint16(0, 0, true);
            ram.view(0x2002, 2).setUint16(0, avail & 0xffff, true);
          } else if (op === 'pop') {
            const r = vq.pop();
            if (r.kind === 'chain') held.push(r.chain.head);
            if (r.kind === 'broken') {
              assert.match(r.message, /more than the queue size/);
              return; // a broken queue stays broken (pop and push do nothing more)
            }
          } else if (held.length) {
            vq.push(held.pop()!, 0);
          }
          assert.ok(vq.inFlight <= size, `in flight ${vq.inFlight} > size ${size}`);
          assert.equal(vq.inFlight, held.length);
        }
      },
    ),
  );
});

test('block: a guest re-publishing the same heads gets DEVICE_NEEDS_RESET, not an unbounded request queue', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-blk-'));
  try {
    const path = join(dir, 'disk.img');
    writeFileSync(path, Buffer.alloc(64 * 512));
    const blk = VirtioBlock.open({ path });
    const { d, failures } = setup(blk, 1 << 20, 256);
    const q = V.VIRTIO_BLK_REQUESTQ;
    const { head } = d.add(q, [{ data: V.encodeBlkReqHeader({ type: V.VIRTIO_BLK_T_IN, reserved: 0, sector: 0n }) }, { writeLen: 512 }, { writeLen: 1 }]);
    let most = 0;
    for (let round = 0; round < 2000; round++) {
      for (let i = 0; i < 255; i++) d.publish(q, head);
      d.notify(q);
      most = Math.max(most, blk.outstanding);
      if (failures.length) break;
    }
    assert.ok(most <= 256, `${most} requests outstanding on a 256-entry ring`);
    assert.match(failures[0] ?? '', /heads re-published/, JSON.stringify(failures));
    assert.ok(d.status & V.VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET);
    await blk.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('console: a driver refilling the transmit ring as it drains gets one budget per turn; a timer runs in between', async () => {
  let d!: MockDriver;
  let writes = 0;
  let refills = 5 * QUEUE_TURN_BUDGET;
  const con = new VirtioConsole({
    write: () => {
      writes++;
      d.used(V.VIRTIO_CONSOLE_TRANSMITQ);
      if (refills-- > 0) d.add(V.VIRTIO_CONSOLE_TRANSMITQ, [{ data: new Uint8Array([0x41]) }]);
    },
  });
  d = setup(con).d;
  d.add(V.VIRTIO_CONSOLE_TRANSMITQ, [{ data: new Uint8Array([0x41]) }]);
  let timerAt = -1;
  setTimeout(() => (timerAt = writes), 0);
  d.notify(V.VIRTIO_CONSOLE_TRANSMITQ);
  assert.equal(writes, QUEUE_TURN_BUDGET);
  while (refills > 0) await turn();
  await turn();
  assert.equal(writes, 5 * QUEUE_TURN_BUDGET + 1);
  assert.ok(timerAt >= 0 && timerAt < 5 * QUEUE_TURN_BUDGET, `the timer waited for the ring (ran after ${timerAt} writes)`);
});

test('console: overlapping descriptors claiming 256 × guest RAM cost at most 64 KiB of host buffer and CONSOLE_MAX_REQUEST bytes out', () => {
  const sizes: number[] = [];
  const con = new VirtioConsole({ write: (b) => void sizes.push(b.length) });
  const mem = 1 << 20;
  const { d, failures } = setup(con, mem, 256);
  const q = V.VIRTIO_CONSOLE_TRANSMITQ;
  // 256 descriptors, each the whole of RAM: readableLen = 256 MiB from a 1 MiB guest
  for (let i = 0; i < 256; i++) d.writeDesc(q, i, 0, mem, i < 255 ? V.VIRTQ_DESC_F_NEXT : 0, i + 1);
  d.publish(q, 0);
  d.notify(q);
  assert.deepEqual(failures, []);
  assert.ok(Math.max(...sizes) <= 64 * 1024);
  assert.equal(sizes.reduce((a, b) => a + b, 0), CONSOLE_MAX_REQUEST);
  assert.equal(con.bytesDropped, 256 * mem - CONSOLE_MAX_REQUEST);
  assert.deepEqual(d.used(q), [{ id: 0, len: 0 }]);
});

test('every device: random notify storms over a re-publishing driver stay within one budget per turn and the queue size in flight', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bounds-'));
  const path = join(dir, 'disk.img');
  writeFileSync(path, Buffer.alloc(64 * 512));
  try {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('rng', 'console', 'block'), fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 12 }), async (kind, bursts) => {
        let served = 0;
        const dev = kind === 'rng' ? new VirtioRng() : kind === 'console' ? new VirtioConsole({ write: () => void served++ }) : VirtioBlock.open({ path });
        const q = kind === 'console' ? V.VIRTIO_CONSOLE_TRANSMITQ : 0;
        const { d } = setup(dev, 1 << 20, 16);
        // Buffers allocated once and reused by every chain (the mock driver's allocator only grows).
        const at = (data: Uint8Array): { data: Uint8Array; addr: number } => {
          const addr = d.alloc(data.length);
          d.ram.write(addr, data);
          return { data, addr };
        };
        const buf = kind === 'block'
          ? [at(V.encodeBlkReqHeader({ type: V.VIRTIO_BLK_T_IN, reserved: 0, sector: 1n })), { writeLen: 512, addr: d.alloc(512) }, { writeLen: 1, addr: d.alloc(1) }]
          : kind === 'console' ? [at(new Uint8Array(8))] : [{ writeLen: 64, addr: d.alloc(64) }];
        for (const n of bursts) {
          // n chains published (more than 16 re-publishes heads the device holds), notified twice
          for (let i = 0; i < n; i++) d.add(q, buf);
          d.notify(q);
          d.notify(q);
          if (dev instanceof VirtioBlock) assert.ok(dev.outstanding <= 16, `block: ${dev.outstanding} outstanding`);
          if (kind === 'console') assert.ok(served <= QUEUE_TURN_BUDGET);
          served = 0;
          d.used(q);
          await turn();
        }
        if (dev instanceof VirtioBlock) await dev.close();
      }),
      { numRuns: 60 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serveLater: however often a device asks in one turn, its queue is served again once, on the next turn', async () => {
  const dev = new VirtioRng();
  let ctx: DeviceContext | undefined;
  const activate = dev.activate.bind(dev);
  dev.activate = (c) => { ctx = c; activate(c); };
  setup(dev);
  assert.ok(ctx, 'the device is active');
  let runs = 0;
  for (let i = 0; i < 1000; i++) serveLater(ctx!, 0, () => runs++); // vsock's tx restart, once per rx push
  assert.equal(runs, 0);
  await turn();
  assert.equal(runs, 1);
});
