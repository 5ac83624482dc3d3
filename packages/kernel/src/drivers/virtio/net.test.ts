// Guest virtio-net driver against the VMM's real virtio-net device model in one Node process:
// fake ops (testing/fake_ops.ts) whose physical memory is the device's guest RAM, register
// accesses going straight to the VMM's VirtioMmio transport, device interrupts queued and
// delivered as arch/loop.c does (irq handler, then promise jobs). Covers the MAC/MTU from the
// config, frames both ways, receive buffers kept posted past the ring size, the transmit pool
// and its waiting writes, refs while listening or sending, and argument errors.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { GuestRam } from '@kiln/vmm/boot/guest_ram.ts';
import { VirtioMmio } from '@kiln/vmm/devices/virtio/mmio.ts';
import { VirtioNet, defaultMac, type NetBackend } from '@kiln/vmm/devices/virtio/net.ts';
import { createFakeMachine, type FakeMachine } from '../../testing/fake_ops.ts';
import { activeRefs } from '../../lib/handles.ts';
import type { Platform } from '../platform.ts';
import { VirtioMmioDevice } from './mmio.ts';
import { NetDevError, VirtioNetDriver } from './net.ts';

class TestBackend implements NetBackend {
  readonly name = 'test';
  sent: Uint8Array[] = [];
  cb: ((f: Uint8Array) => void) | undefined;
  send(f: Uint8Array): void {
    this.sent.push(f);
  }
  onFrame(cb: (f: Uint8Array) => void): void {
    this.cb = cb;
  }
  close(): void {}
}

function bench(): { m: FakeMachine; nic: VirtioNetDriver; be: TestBackend; dev: VirtioNet; t: VirtioMmio; loop: () => Promise<void> } {
  const ramBytes = 16 << 20;
  const m = createFakeMachine(ramBytes, 1 << 20);
  const ram = new GuestRam(m.ram, [{ guestPhysAddr: 0, hostOffset: 0, size: ramBytes }]);
  const be = new TestBackend();
  const dev = new VirtioNet(be, { mac: defaultMac(0x1234) });
  const t = new VirtioMmio(dev, { mem: ram, interrupt: () => m.pendingIrqs.push(5) });
  m.devices.push({
    base: 0xc0001000,
    size: 0x1000,
    read(off, width) {
      const d = new Uint8Array(width);
      t.read(off, d);
      return d.reduce((v, b, i) => v + b * 2 ** (8 * i), 0);
    },
    write(off, width, value) {
      const d = new Uint8Array(width);
      for (let i = 0; i < width; i++) d[i] = (value >>> (8 * i)) & 0xff;
      t.write(off, d);
    },
  });
  const handlers = new Map<number, () => void>();
  m.ops.op_loop_set_irq((irq) => handlers.get(irq)?.());
  const p: Platform = {
    mmioRead: (a, w) => m.ops.op_mmio_read(a, w),
    mmioWrite: (a, w, v) => m.ops.op_mmio_write(a, w, v),
    dmaAlloc: (s, a) => m.ops.op_dma_alloc(s, a),
    dmaFree: (a) => m.ops.op_dma_free(a),
    bytes: (a, s) => m.ram.subarray(a, a + s),
    fence: () => {},
    subscribeIrq: (irq, h) => {
      m.ops.op_irq_subscribe(irq);
      handlers.set(irq, h);
    },
    warn: (x) => m.out.push(x),
  };
  const mmio = VirtioMmioDevice.probe(p, { base: 0xc0001000, size: 0x1000, irq: 5, id: undefined })!;
  const nic = new VirtioNetDriver(mmio);
  /** One turn of the guest loop: irqs, then promise jobs, until nothing is left. */
  const loop = async (): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setImmediate(r));
      if (m.deliverIrqs() === 0 && m.pendingIrqs.length === 0) {
        await new Promise((r) => setImmediate(r));
        if (m.pendingIrqs.length === 0) return;
      }
    }
  };
  return { m, nic, be, dev, t, loop };
}

const frame = (n: number, tag: number): Uint8Array => {
  const f = new Uint8Array(n);
  f.fill(0xee, 0, 12);
  f[12] = 0x08;
  f[13] = 0x00;
  for (let i = 14; i < n; i++) f[i] = (tag + i) & 0xff;
  f[14] = tag & 0xff;
  f[15] = tag >> 8;
  return f;
};

test('net driver: MAC and MTU come from the device config', () => {
  const { nic, t } = bench();
  assert.deepEqual([...nic.mac], [0x02, 0x4b, 0x4c, 0x4e, 0x12, 0x34]);
  assert.equal(nic.mtu, 1500);
  assert.ok(nic.linkUp);
  assert.ok(t.activated);
});

test('net driver: frames from the host reach the listener in order, buffers stay posted past the ring size', async () => {
  const { nic, be, loop, dev } = bench();
  const got: Uint8Array[] = [];
  const refs0 = activeRefs();
  const stop = nic.listen((f) => got.push(f));
  assert.equal(activeRefs(), refs0 + 1);
  // 600 frames in bursts of 50 (the ring holds 128 buffers)
  for (let b = 0; b < 12; b++) {
    for (let i = 0; i < 50; i++) be.cb!(frame(60 + ((b * 50 + i) % 1400), b * 50 + i));
    await loop();
  }
  assert.equal(got.length, 600);
  got.forEach((f, i) => {
    assert.equal(f.length, 60 + (i % 1400));
    assert.equal(f[14]! | (f[15]! << 8), i);
  });
  assert.equal(dev.stats.rxDropped, 0);
  assert.equal(nic.stats().rxFrames, 600);
  stop();
  stop();
  assert.equal(activeRefs(), refs0);
});

test('net driver: frames to the host, the transmit pool and waiting writes, refs while sending', async () => {
  const { nic, be, loop } = bench();
  const refs0 = activeRefs();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 300; i++) writes.push(nic.write(frame(1514, i)));
  assert.equal(activeRefs(), refs0 + 300);
  for (let i = 0; i < 20 && be.sent.length < 300; i++) await loop();
  await Promise.all(writes);
  assert.equal(be.sent.length, 300);
  be.sent.forEach((f, i) => assert.deepEqual(f, frame(1514, i)));
  assert.equal(activeRefs(), refs0);
  const s = nic.stats();
  assert.equal(s.txFrames, 300);
  assert.ok(s.notifications < 300, `notifications batched: ${s.notifications}`);
});

test('net driver: send takes a free slot at once or says none is free, onRoom tells when to try again, writes keep their order', async () => {
  const { nic, be, loop } = bench();
  const refs0 = activeRefs();
  let rooms = 0;
  const stopRoom = nic.onRoom(() => rooms++);
  const sent: number[] = [];
  let tag = 0;
  while (nic.send(frame(200, tag))) sent.push(tag++);
  assert.equal(sent.length, 64, 'the transmit pool is 64 slots');
  assert.equal(activeRefs(), refs0 + 64);
  const caller = frame(200, 999);
  assert.equal(nic.send(caller), false, 'full: nothing sent');
  const late = nic.write(frame(200, 1000)); // waits for a slot
  await loop();
  assert.ok(rooms > 0, 'slots freed');
  await late;
  // the waiting write went before any new send
  assert.deepEqual(be.sent.slice(0, 65).map((f) => f[14]! | (f[15]! << 8)), [...sent, 1000]);
  assert.equal(nic.send(frame(200, 1001)), true);
  await loop();
  assert.equal(be.sent.length, 66);
  assert.equal(activeRefs(), refs0);
  stopRoom();
  const before = rooms;
  nic.send(frame(200, 1002));
  await loop();
  assert.equal(rooms, before, 'no callbacks after the returned function ran');
  assert.throws(() => nic.send(new Uint8Array(10)), (e: NetDevError) => e.code === 'EINVAL');
  assert.throws(() => nic.send(new Uint8Array(1500 + 19)), (e: NetDevError) => e.code === 'EMSGSIZE');
});

test('net driver: onRoom callbacks run after the interrupt, once per batch, with every completion of the batch handled', async () => {
  const { nic, be, loop } = bench();
  const freeAtCall: number[] = [];
  nic.onRoom(() => {
    // a callback that throws here cannot leave the used ring half-processed: the batch is done
    if (freeAtCall.length === 2) return;
    let n = 0;
    while (nic.send(frame(100, 1000 + n))) n++;
    freeAtCall.push(n);
  });
  let sent = 0;
  while (nic.send(frame(100, sent))) sent++;
  assert.equal(sent, 64);
  await loop();
  assert.deepEqual(freeAtCall, [64, 64], 'one call per batch, each after all 64 slots came back');
  assert.equal(be.sent.length, 64 * 3);
  assert.throws(() => nic.onRoom('x' as unknown as () => void), (e: NetDevError) => e.code === 'EINVAL');
});

test('net driver: bad frames are refused with a code', async () => {
  const { nic } = bench();
  await assert.rejects(nic.write(new Uint8Array(10)), (e: NetDevError) => e.code === 'EINVAL');
  await assert.rejects(nic.write(new Uint8Array(1500 + 19)), (e: NetDevError) => e.code === 'EMSGSIZE');
  await assert.rejects(nic.write('x' as unknown as Uint8Array), (e: NetDevError) => e.code === 'EINVAL');
});

test('net driver: frames with nobody listening are dropped, the buffers reposted', async () => {
  const { nic, be, loop } = bench();
  for (let i = 0; i < 200; i++) be.cb!(frame(64, i));
  await loop();
  await loop();
  assert.equal(nic.stats().rxDropped, 200);
  const got: Uint8Array[] = [];
  const stop = nic.listen((f) => got.push(f));
  be.cb!(frame(64, 7));
  await loop();
  assert.equal(got.length, 1);
  stop();
});
