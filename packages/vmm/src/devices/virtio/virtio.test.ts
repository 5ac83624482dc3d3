// virtio-mmio transport and device tests, each device driven through the MMIO registers by the
// mock driver (mock_driver.ts) over a guarded Uint8Array: identification and negotiation,
// rng, console, block (host temp file), EVENT_IDX suppression, broken queues → NEEDS_RESET.
// Spec: virtio 1.2 §4.2 (MMIO), §2.7 (split queues), §5.2/§5.3/§5.4 (devices).

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as V from '@kiln/common/virtio/index.ts';
import { VmmError } from '../../errors.ts';
import { VirtioMmio } from './mmio.ts';
import { VirtioRng } from './rng.ts';
import { VirtioConsole } from './console.ts';
import { VirtioBlock, openDiskFile } from './block.ts';
import type { VirtioDevice } from './device.ts';
import { FEATURES_BASE, MockDriver, guardedRam, guardsIntact } from './mock_driver.ts';

function setup(dev: VirtioDevice, memSize = 1 << 20): { d: MockDriver; t: VirtioMmio; irqs: () => number; failures: string[] } {
  const ram = guardedRam(memSize);
  let irqs = 0;
  const failures: string[] = [];
  const t = new VirtioMmio(dev, { mem: ram, interrupt: () => irqs++, onFailure: (m) => failures.push(m) });
  return { d: new MockDriver(ram, t), t, irqs: () => irqs, failures };
}

const until = async (f: () => boolean): Promise<void> => {
  for (let i = 0; i < 500; i++) {
    if (f()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.fail('condition not reached');
};

test('mmio: identification registers, features, FEATURES_OK needs VERSION_1 and a subset', () => {
  const { d } = setup(new VirtioRng());
  assert.equal(d.rd(V.VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
  assert.equal(d.rd(V.VIRTIO_MMIO_VERSION), 2);
  assert.equal(d.rd(V.VIRTIO_MMIO_DEVICE_ID), V.VIRTIO_ID_RNG);
  assert.equal(d.rd(V.VIRTIO_MMIO_VENDOR_ID), V.KILN_VIRTIO_VENDOR_ID);
  const f = d.deviceFeatures();
  assert.ok(V.hasFeature(f, V.VIRTIO_F_VERSION_1) && V.hasFeature(f, V.VIRTIO_F_RING_EVENT_IDX) && V.hasFeature(f, V.VIRTIO_F_INDIRECT_DESC));
  assert.equal(d.negotiate(0n), false, 'no VERSION_1');
  assert.equal(d.negotiate(FEATURES_BASE | V.featureBit(40)), false, 'feature not offered');
  assert.equal(d.negotiate(FEATURES_BASE), true);
  d.wr(V.VIRTIO_MMIO_QUEUE_SEL, 0);
  assert.equal(d.rd(V.VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
  d.wr(V.VIRTIO_MMIO_QUEUE_SEL, 7);
  assert.equal(d.rd(V.VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
  // Non-32-bit register reads are refused (read as 0) and do not throw.
  const b = new Uint8Array(2);
  d.t.read(V.VIRTIO_MMIO_MAGIC_VALUE, b);
  assert.deepEqual([...b], [0, 0]);
});

test('mmio: status 0 resets, DRIVER_OK activates, clearing bits is ignored', () => {
  const { d, t } = setup(new VirtioRng());
  d.init(FEATURES_BASE);
  assert.ok(t.activated);
  d.wr(V.VIRTIO_MMIO_STATUS, V.VIRTIO_CONFIG_S_ACKNOWLEDGE);
  assert.ok(t.activated);
  assert.equal(d.status & V.VIRTIO_CONFIG_S_DRIVER_OK, V.VIRTIO_CONFIG_S_DRIVER_OK);
  d.wr(V.VIRTIO_MMIO_STATUS, 0);
  assert.equal(d.status, 0);
  assert.equal(t.activated, false);
  d.wr(V.VIRTIO_MMIO_QUEUE_SEL, 0);
  assert.equal(d.rd(V.VIRTIO_MMIO_QUEUE_READY), 0);
});

test('rng: fills device-writable buffers (split across descriptors) and interrupts', () => {
  const rng = new VirtioRng();
  const { d, irqs } = setup(rng);
  d.init(FEATURES_BASE);
  const { head, writable } = d.add(0, [{ writeLen: 40 }, { writeLen: 24 }]);
  d.notify(0);
  assert.deepEqual(d.used(0), [{ id: head, len: 64 }]);
  const bytes = Buffer.concat(writable.map((w) => d.read(w.addr, w.len)));
  assert.ok(bytes.some((x) => x !== 0));
  assert.equal(irqs(), 1);
  assert.equal(d.rd(V.VIRTIO_MMIO_INTERRUPT_STATUS), V.VIRTIO_MMIO_INT_VRING);
  d.wr(V.VIRTIO_MMIO_INTERRUPT_ACK, V.VIRTIO_MMIO_INT_VRING);
  assert.equal(d.rd(V.VIRTIO_MMIO_INTERRUPT_STATUS), 0);
  assert.ok(guardsIntact(d.ram));
});

test('event idx: avail_event is published, used_event suppresses interrupts', () => {
  const { d, irqs, t } = setup(new VirtioRng());
  d.init(FEATURES_BASE);
  d.setUsedEvent(0, 2); // interrupt me when used idx passes 2 (i.e. after the 3rd buffer)
  for (let i = 0; i < 3; i++) {
    d.add(0, [{ writeLen: 8 }]);
    d.notify(0);
    assert.equal(d.availEvent(0), i + 1);
  }
  assert.equal(d.used(0).length, 3);
  assert.equal(irqs(), 1);
  assert.equal(t.stats.suppressedInterrupts, 2);
});

test('indirect descriptors only when negotiated', () => {
  for (const negotiated of [true, false]) {
    const { d, t } = setup(new VirtioRng());
    d.init(FEATURES_BASE | (negotiated ? V.featureBit(V.VIRTIO_F_INDIRECT_DESC) : 0n));
    const table = d.alloc(32, 16);
    const b0 = d.alloc(16), b1 = d.alloc(16);
    const v = d.ram.view(table, 32);
    v.setBigUint64(0, BigInt(b0), true); v.setUint32(8, 16, true); v.setUint16(12, V.VIRTQ_DESC_F_WRITE | V.VIRTQ_DESC_F_NEXT, true); v.setUint16(14, 1, true);
    v.setBigUint64(16, BigInt(b1), true); v.setUint32(24, 16, true); v.setUint16(28, V.VIRTQ_DESC_F_WRITE, true);
    d.writeDesc(0, 0, table, 32, V.VIRTQ_DESC_F_INDIRECT, 0);
    d.publish(0, 0);
    d.notify(0);
    if (negotiated) {
      assert.deepEqual(d.used(0), [{ id: 0, len: 32 }]);
      assert.equal(t.failure, undefined);
    } else {
      assert.equal(d.used(0).length, 0);
      assert.match(t.failure ?? '', /INDIRECT_DESC was not negotiated/);
    }
  }
});

test('broken queue: DEVICE_NEEDS_RESET, config interrupt, device stops; reset recovers', () => {
  const { d, t, irqs, failures } = setup(new VirtioRng());
  d.init(FEATURES_BASE);
  d.writeDesc(0, 0, 0x20000, 8, V.VIRTQ_DESC_F_WRITE | V.VIRTQ_DESC_F_NEXT, 0); // loop 0 → 0
  d.publish(0, 0);
  d.notify(0);
  assert.ok(d.status & V.VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET);
  assert.equal(d.rd(V.VIRTIO_MMIO_INTERRUPT_STATUS) & V.VIRTIO_MMIO_INT_CONFIG, V.VIRTIO_MMIO_INT_CONFIG);
  assert.equal(irqs(), 1);
  assert.match(failures[0]!, /longer than the queue size/);
  assert.equal(t.activated, false);
  const gen = d.rd(V.VIRTIO_MMIO_CONFIG_GENERATION);
  assert.ok(gen > 0);
  d.init(FEATURES_BASE);
  d.add(0, [{ writeLen: 4 }]);
  d.notify(0);
  assert.equal(d.used(0).length, 1);
  assert.equal(d.status & V.VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET, 0);
});

test('DRIVER_OK with rings outside RAM sets DEVICE_NEEDS_RESET', () => {
  const { d, t } = setup(new VirtioRng(), 1 << 20);
  d.init(FEATURES_BASE, 16, () => ({ desc: 0x100000 - 16, avail: 0x1000, used: 0x2000 }));
  assert.ok(d.status & V.VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET);
  assert.match(t.failure ?? '', /descriptor table .* not in guest RAM/);
});

test('avail idx running ahead of the queue size breaks the queue', () => {
  const { d, t } = setup(new VirtioRng());
  d.init(FEATURES_BASE, 16);
  d.ram.view(d.queues[0]!.avail + V.VIRTQ_AVAIL_IDX, 2).setUint16(0, 17, true);
  d.notify(0);
  assert.match(t.failure ?? '', /avail idx 17 is more than the queue size/);
});

test('console: transmitq bytes reach the sink, fed input fills receive buffers', () => {
  const out: Uint8Array[] = [];
  const con = new VirtioConsole({ write: (b) => void out.push(b.slice()) });
  const { d } = setup(con);
  d.init(FEATURES_BASE);
  d.add(V.VIRTIO_CONSOLE_TRANSMITQ, [{ data: new TextEncoder().encode('hello ') }, { data: new TextEncoder().encode('world\n') }]);
  d.notify(V.VIRTIO_CONSOLE_TRANSMITQ);
  assert.equal(Buffer.concat(out).toString(), 'hello world\n');
  assert.deepEqual(d.used(V.VIRTIO_CONSOLE_TRANSMITQ), [{ id: 0, len: 0 }]);
  con.feed(new TextEncoder().encode('abcdef'));
  const r1 = d.add(V.VIRTIO_CONSOLE_RECEIVEQ, [{ writeLen: 4 }]);
  const r2 = d.add(V.VIRTIO_CONSOLE_RECEIVEQ, [{ writeLen: 4 }]);
  d.notify(V.VIRTIO_CONSOLE_RECEIVEQ);
  assert.deepEqual(d.used(V.VIRTIO_CONSOLE_RECEIVEQ), [{ id: r1.head, len: 4 }, { id: r2.head, len: 2 }]);
  assert.equal(Buffer.from(d.read(r1.writable[0]!.addr, 4)).toString() + Buffer.from(d.read(r2.writable[0]!.addr, 2)).toString(), 'abcdef');
});

function blkReq(type: number, sector: bigint): Uint8Array {
  return V.encodeBlkReqHeader({ type, reserved: 0, sector });
}

test('block: config, IN, OUT, FLUSH, GET_ID, bounds, unsupported; read-only refuses writes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-blk-'));
  try {
    const path = join(dir, 'disk.img');
    const img = Buffer.alloc(8 * 512);
    for (let i = 0; i < img.length; i++) img[i] = (i * 7 + (i >> 9)) & 0xff;
    writeFileSync(path, img);
    const blk = VirtioBlock.open({ path, id: 'kiln-test-disk' });
    const { d, t } = setup(blk);
    const cfg = new Uint8Array(8);
    t.read(V.VIRTIO_MMIO_CONFIG + V.VIRTIO_BLK_CFG_CAPACITY, cfg);
    assert.equal(new DataView(cfg.buffer).getBigUint64(0, true), 8n);
    const f = d.deviceFeatures();
    assert.ok(V.hasFeature(f, V.VIRTIO_BLK_F_FLUSH) && !V.hasFeature(f, V.VIRTIO_BLK_F_RO));
    d.init(FEATURES_BASE | V.featureBit(V.VIRTIO_BLK_F_FLUSH));
    const q = V.VIRTIO_BLK_REQUESTQ;
    // IN sectors 2..3
    const rin = d.add(q, [{ data: blkReq(V.VIRTIO_BLK_T_IN, 2n) }, { writeLen: 1024 }, { writeLen: 1 }]);
    // OUT sector 5
    const payload = Buffer.alloc(512, 0x5a);
    const rout = d.add(q, [{ data: blkReq(V.VIRTIO_BLK_T_OUT, 5n) }, { data: payload }, { writeLen: 1 }]);
    const rfl = d.add(q, [{ data: blkReq(V.VIRTIO_BLK_T_FLUSH, 0n) }, { writeLen: 1 }]);
    const rid = d.add(q, [{ data: blkReq(V.VIRTIO_BLK_T_GET_ID, 0n) }, { writeLen: 20 }, { writeLen: 1 }]);
    const rbad = d.add(q, [{ data: blkReq(V.VIRTIO_BLK_T_IN, 7n) }, { writeLen: 1024 }, { writeLen: 1 }]); // past the end
    const runs = d.add(q, [{ data: blkReq(99, 0n) }, { writeLen: 1 }]);
    d.notify(q);
    const used: { id: number; len: number }[] = [];
    await until(() => (used.push(...d.used(q)), used.length === 6));
    assert.deepEqual(used.map((u) => u.id), [rin.head, rout.head, rfl.head, rid.head, rbad.head, runs.head], 'in order');
    const status = (w: { addr: number }[]): number => d.read(w[w.length - 1]!.addr, 1)[0]!;
    assert.equal(status(rin.writable), V.VIRTIO_BLK_S_OK);
    assert.equal(used[0]!.len, 1025);
    assert.deepEqual(Buffer.from(d.read(rin.writable[0]!.addr, 1024)), img.subarray(1024, 2048));
    assert.equal(status(rout.writable), V.VIRTIO_BLK_S_OK);
    assert.equal(used[1]!.len, 1);
    assert.deepEqual(readFileSync(path).subarray(5 * 512, 6 * 512), payload);
    assert.equal(status(rfl.writable), V.VIRTIO_BLK_S_OK);
    assert.equal(status(rid.writable), V.VIRTIO_BLK_S_OK);
    assert.equal(Buffer.from(d.read(rid.writable[0]!.addr, 14)).toString(), 'kiln-test-disk');
    assert.equal(status(rbad.writable), V.VIRTIO_BLK_S_IOERR);
    assert.equal(status(runs.writable), V.VIRTIO_BLK_S_UNSUPP);
    assert.equal(t.failure, undefined);
    await blk.close();

    const ro = VirtioBlock.open({ path, readOnly: true });
    const s2 = setup(ro);
    assert.ok(V.hasFeature(s2.d.deviceFeatures(), V.VIRTIO_BLK_F_RO));
    s2.d.init(FEATURES_BASE | V.featureBit(V.VIRTIO_BLK_F_RO));
    const w = s2.d.add(q, [{ data: blkReq(V.VIRTIO_BLK_T_OUT, 0n) }, { data: Buffer.alloc(512, 1) }, { writeLen: 1 }]);
    s2.d.notify(q);
    await until(() => s2.d.used(q).length === 1);
    assert.equal(s2.d.read(w.writable[0]!.addr, 1)[0], V.VIRTIO_BLK_S_IOERR);
    assert.deepEqual(readFileSync(path).subarray(0, 512), img.subarray(0, 512));
    await ro.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('block: openDiskFile refuses missing files, odd sizes and unwritable files with EDISK', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-blk-'));
  try {
    const code = (f: () => unknown): string => {
      try {
        f();
        return 'ok';
      } catch (e) {
        assert.ok(e instanceof VmmError);
        return `${e.code}: ${e.message}`;
      }
    };
    assert.match(code(() => openDiskFile(join(dir, 'nope'), true)), /^EDISK: .*no such file/);
    writeFileSync(join(dir, 'odd'), Buffer.alloc(513));
    assert.match(code(() => openDiskFile(join(dir, 'odd'), true)), /^EDISK: .*not a multiple of 512/);
    assert.match(code(() => openDiskFile(dir, true)), /^EDISK: /);
    if (process.getuid?.() !== 0) {
      writeFileSync(join(dir, 'ro'), Buffer.alloc(512));
      chmodSync(join(dir, 'ro'), 0o444);
      assert.match(code(() => openDiskFile(join(dir, 'ro'), false)), /^EDISK: .*add ,ro/);
      const ok = openDiskFile(join(dir, 'ro'), true);
      ok.file.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('block: a reset while a request is in flight drops its completion', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-blk-'));
  try {
    const path = join(dir, 'disk.img');
    writeFileSync(path, Buffer.alloc(4096, 3));
    const blk = VirtioBlock.open({ path });
    const { d } = setup(blk);
    d.init(FEATURES_BASE);
    d.add(0, [{ data: blkReq(V.VIRTIO_BLK_T_IN, 0n) }, { writeLen: 512 }, { writeLen: 1 }]);
    d.notify(0);
    const usedAddr = d.queues[0]!.used;
    d.wr(V.VIRTIO_MMIO_STATUS, 0);
    await blk.drain();
    assert.equal(d.ram.view(usedAddr + V.VIRTQ_USED_IDX, 2).getUint16(0, true), 0);
    await blk.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('slots: addresses, IRQs and command-line tokens go before --', async () => {
  const { slotAddr, slotIrq, slotCmdlineToken, insertKernelParams } = await import('./slots.ts');
  assert.equal(slotAddr(0), 0xc0001000);
  assert.equal(slotAddr(2), 0xc0003000);
  assert.equal(slotIrq(1), 6);
  assert.equal(slotCmdlineToken(0), 'virtio_mmio.device=4K@0xc0001000:5');
  const t = ['virtio_mmio.device=4K@0xc0001000:5', 'virtio_mmio.device=4K@0xc0002000:6'];
  assert.equal(insertKernelParams('', t), t.join(' '));
  assert.equal(insertKernelParams('kiln.bootchart A=1', t), `kiln.bootchart A=1 ${t.join(' ')}`);
  assert.equal(insertKernelParams('A=1 -- x --y', t), `A=1 ${t.join(' ')} -- x --y`);
  assert.equal(insertKernelParams('-- a', t), `${t.join(' ')} -- a`);
  assert.equal(insertKernelParams('A=--x -- b', t), `A=--x ${t.join(' ')} -- b`);
  assert.equal(insertKernelParams('x', []), 'x');
});
