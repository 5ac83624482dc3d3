// Driver-side virtio tests over a fake machine (testing/fake_ops.ts): command-line slot
// parsing (fast-check: never throws), probe and feature negotiation against a fake register
// file, virtqueue chains / event-index notify decisions / 16-bit wraparound with a minimal
// fake device that consumes the avail ring and fills the used ring.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { MMIO_GAP_END, MMIO_GAP_START } from '@kiln/common/layout.ts';
import {
  VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_FAILED, VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_ID_RNG, VIRTIO_MMIO_DEVICE_FEATURES,
  VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DEVICE_ID, VIRTIO_MMIO_DRIVER_FEATURES, VIRTIO_MMIO_DRIVER_FEATURES_SEL,
  VIRTIO_MMIO_MAGIC, VIRTIO_MMIO_MAGIC_VALUE, VIRTIO_MMIO_QUEUE_NUM_MAX, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_MMIO_STATUS,
  VIRTIO_MMIO_VERSION,
} from '@kiln/common/virtio/constants.ts';
import type { Platform } from '../platform.ts';
import { createFakeMachine, type FakeMachine } from '../../testing/fake_ops.ts';
import { parseMmioDevice, parseMmioSlots, VirtioError, VirtioMmioDevice } from './mmio.ts';
import { Virtqueue } from './virtqueue.ts';

function platformOf(m: FakeMachine): Platform {
  const handlers = new Map<number, () => void>();
  m.ops.op_loop_set_irq((irq) => handlers.get(irq)?.());
  return {
    mmioRead: (a, w) => m.ops.op_mmio_read(a, w),
    mmioWrite: (a, w, v) => m.ops.op_mmio_write(a, w, v),
    dmaAlloc: (s, a) => m.ops.op_dma_alloc(s, a),
    dmaFree: (a) => m.ops.op_dma_free(a),
    bytes: (a, s) => m.ram.subarray(a, a + s),
    fence: () => {},
    subscribeIrq: (irq, h) => { m.ops.op_irq_subscribe(irq); handlers.set(irq, h); },
    warn: (t) => m.out.push(t),
  };
}

test('cmdline_slots_parse_the_linux_form', () => {
  assert.deepEqual(parseMmioDevice('4K@0xc0001000:5'), { base: 0xc0001000, size: 4096, irq: 5, id: undefined });
  assert.deepEqual(parseMmioDevice('512@0xfeb00e00:12:3'), { base: 0xfeb00e00, size: 512, irq: 12, id: 3 });
  assert.equal(parseMmioDevice('4K@0x1000:5'), undefined); // not in the MMIO range
  assert.equal(parseMmioDevice('4K@c0001000:5'), undefined);
  // Tokens after `--` count (QEMU microvm appends its own there); quoted ones are app arguments.
  const r = parseMmioSlots('kiln.x virtio_mmio.device=4K@0xc0001000:5 virtio_mmio.device=junk A=1 -- "virtio_mmio.device=4K@0xc0003000:7" virtio_mmio.device=4K@0xc0002000:6');
  assert.deepEqual(r.slots.map((s) => s.base), [0xc0001000, 0xc0002000]);
  assert.deepEqual(r.bad, ['virtio_mmio.device=junk']);
});

test('cmdline_slot_parsing_never_throws', () => {
  const token = fc.oneof(fc.string(), fc.string().map((s) => `virtio_mmio.device=${s}`),
    fc.tuple(fc.nat(), fc.nat(), fc.nat()).map(([a, b, c]) => `virtio_mmio.device=${a}K@0x${b.toString(16)}:${c}`));
  fc.assert(fc.property(fc.array(token), (toks) => {
    const r = parseMmioSlots(toks.join(' '));
    for (const s of r.slots) assert.ok(s.base >= MMIO_GAP_START && s.base + s.size <= MMIO_GAP_END);
  }));
});

/** A register file with a device-id, features and one queue; records status writes. */
function fakeRegs(m: FakeMachine, opts: { version?: number; featuresHi?: number; featuresLo?: number; refuse?: boolean } = {}) {
  const regs = new Map<number, number>();
  const st = { status: 0, driverFeatures: [0, 0], devSel: 0, drvSel: 0, notifies: [] as number[] };
  m.devices.push({
    base: 0xc0001000, size: 0x1000,
    read(off) {
      if (off === VIRTIO_MMIO_MAGIC_VALUE) return VIRTIO_MMIO_MAGIC;
      if (off === VIRTIO_MMIO_VERSION) return opts.version ?? 2;
      if (off === VIRTIO_MMIO_DEVICE_ID) return VIRTIO_ID_RNG;
      if (off === VIRTIO_MMIO_DEVICE_FEATURES) return st.devSel === 0 ? (opts.featuresLo ?? (1 << 29)) : (opts.featuresHi ?? 1);
      if (off === VIRTIO_MMIO_STATUS) return st.status;
      if (off === VIRTIO_MMIO_QUEUE_NUM_MAX) return 64;
      return regs.get(off) ?? 0;
    },
    write(off, _w, v) {
      if (off === VIRTIO_MMIO_STATUS) st.status = opts.refuse ? v & ~VIRTIO_CONFIG_S_FEATURES_OK : v;
      else if (off === VIRTIO_MMIO_DEVICE_FEATURES_SEL) st.devSel = v;
      else if (off === VIRTIO_MMIO_DRIVER_FEATURES_SEL) st.drvSel = v;
      else if (off === VIRTIO_MMIO_DRIVER_FEATURES) st.driverFeatures[st.drvSel] = v;
      else if (off === VIRTIO_MMIO_QUEUE_NOTIFY) st.notifies.push(v);
      else regs.set(off, v);
    },
  });
  return st;
}

const slot = { base: 0xc0001000, size: 0x1000, irq: 5, id: undefined };

test('probe_and_negotiation_take_version_1_and_event_idx', () => {
  const m = createFakeMachine();
  const st = fakeRegs(m, { featuresLo: (1 << 29) | (1 << 28) | 3 });
  const p = platformOf(m);
  const d = VirtioMmioDevice.probe(p, slot)!;
  assert.equal(d.deviceId, VIRTIO_ID_RNG);
  const f = d.negotiate(1);
  assert.deepEqual(st.driverFeatures, [(1 << 29) | 1, 1]); // no INDIRECT_DESC, bit 1 not wanted
  assert.deepEqual(f, { lo: (1 << 29) | 1, hi: 1 });
  assert.ok(d.eventIdx);
  d.setupQueue(0, 16);
  d.driverOk();
  assert.ok(st.status & VIRTIO_CONFIG_S_DRIVER_OK);
  assert.ok(m.subscribed.has(5));
});

test('legacy_devices_are_refused_with_a_warning_and_version_1_is_required', () => {
  const m = createFakeMachine();
  fakeRegs(m, { version: 1 });
  assert.equal(VirtioMmioDevice.probe(platformOf(m), slot), undefined);
  assert.match(m.out.join(''), /version 1 \(legacy\) is not supported/);
  const m2 = createFakeMachine();
  const st2 = fakeRegs(m2, { featuresHi: 0 });
  assert.throws(() => VirtioMmioDevice.probe(platformOf(m2), slot)!.negotiate(0), VirtioError);
  assert.ok(st2.status & VIRTIO_CONFIG_S_FAILED);
  const m3 = createFakeMachine();
  fakeRegs(m3, { refuse: true });
  assert.throws(() => VirtioMmioDevice.probe(platformOf(m3), slot)!.negotiate(0), /FEATURES_OK/);
});

/** Minimal device side: consume avail entries, write used entries, honour event idx. */
function fakeDevice(m: FakeMachine, q: Virtqueue) {
  const u16 = (a: number) => m.ram[a]! | (m.ram[a + 1]! << 8);
  const put16 = (a: number, v: number) => { m.ram[a] = v & 0xff; m.ram[a + 1] = (v >> 8) & 0xff; };
  const put32 = (a: number, v: number) => { put16(a, v & 0xffff); put16(a + 2, v >>> 16); };
  let lastAvail = 0;
  let usedIdx = 0;
  return {
    /** Completes everything available; sets avail_event so the next add notifies. */
    run(): { heads: number[]; chainLens: number[] } {
      const heads: number[] = [];
      const chainLens: number[] = [];
      while (lastAvail !== u16(q.availAddr + 2)) {
        const head = u16(q.availAddr + 4 + 2 * (lastAvail & (q.size - 1)));
        let n = 1;
        for (let i = head; u16(q.descAddr + 16 * i + 12) & 1; i = u16(q.descAddr + 16 * i + 14)) n++;
        heads.push(head);
        chainLens.push(n);
        const slotAddr = q.usedAddr + 4 + 8 * (usedIdx & (q.size - 1));
        put32(slotAddr, head);
        put32(slotAddr + 4, 10);
        usedIdx = (usedIdx + 1) & 0xffff;
        lastAvail = (lastAvail + 1) & 0xffff;
      }
      put16(q.usedAddr + 2, usedIdx);
      put16(q.usedAddr + 4 + 8 * q.size, lastAvail); // avail_event
      return { heads, chainLens };
    },
  };
}

test('virtqueue_chains_batching_event_idx_and_wraparound', () => {
  const m = createFakeMachine();
  const p = platformOf(m);
  let notified = 0;
  const q = new Virtqueue(p, 8, true, () => notified++);
  const dev = fakeDevice(m, q);
  const buf = p.dmaAlloc(64, 16);
  let completed = 0;
  // a 3-descriptor chain and a 1-descriptor chain in one batch: one notification
  assert.ok(q.add([{ addr: buf, len: 16, write: false }, { addr: buf + 16, len: 32, write: true }, { addr: buf + 48, len: 1, write: true }], () => completed++));
  assert.ok(q.add([{ addr: buf, len: 8, write: true }], () => completed++));
  assert.equal(q.freeDescriptors, 4);
  assert.equal(q.kick(), true); // avail_event 0: the device wants to hear about entry 0
  const r = dev.run();
  assert.deepEqual(r.chainLens, [3, 1]);
  assert.equal(q.processUsed(), 2);
  assert.equal(completed, 2);
  assert.equal(q.freeDescriptors, 8);
  // the device has not moved avail_event past what it consumed: with no new entries, no kick
  assert.equal(q.kick(), false);
  // too many descriptors: refused without side effects
  assert.equal(q.add(new Array(9).fill({ addr: buf, len: 1, write: true }), () => {}), false);
  // wrap the 16-bit indices: 70000 requests, 1..3 at a time
  let n = 0;
  for (let i = 0; n < 70000; i++) {
    const batch = 1 + (i % 3);
    for (let k = 0; k < batch; k++) assert.ok(q.add([{ addr: buf, len: 4, write: true }], () => completed++));
    n += batch;
    q.kick();
    dev.run();
    q.processUsed();
  }
  assert.equal(completed, 2 + n);
  assert.equal(q.freeDescriptors, 8);
  assert.equal(q.notifications, notified);
});

test('virtqueue_suppresses_notifications_the_device_did_not_ask_for', () => {
  const m = createFakeMachine();
  const p = platformOf(m);
  let notified = 0;
  const q = new Virtqueue(p, 16, true, () => notified++);
  const buf = p.dmaAlloc(16, 16);
  // the device says "notify me when avail idx passes 5" (avail_event = 5)
  const ae = q.usedAddr + 4 + 8 * 16;
  m.ram[ae] = 5;
  for (let i = 0; i < 5; i++) { q.add([{ addr: buf, len: 1, write: true }], () => {}); q.kick(); }
  assert.equal(notified, 0); // idx 1..5: entries 0..4, none is entry 5
  q.add([{ addr: buf, len: 1, write: true }], () => {});
  q.kick();
  assert.equal(notified, 1); // idx 6 crossed avail_event 5
});

test('a_used_id_not_in_flight_is_a_device_bug', () => {
  const m = createFakeMachine();
  const p = platformOf(m);
  const q = new Virtqueue(p, 4, false, () => {});
  m.ram[q.usedAddr + 2] = 1; // used.idx = 1 with id 0, nothing in flight
  assert.throws(() => q.processUsed(), /not in flight/);
});
