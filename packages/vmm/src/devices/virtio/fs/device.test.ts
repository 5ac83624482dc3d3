// The virtio-fs device behind the real virtio-mmio transport, driven by the mock driver: config
// (tag, one request queue), requests and replies split across descriptors at odd places, chains
// without room for a reply, FORGET on the hiprio queue, an oversized request, and a device reset
// that drops the guest's lookups. Guest RAM has guard bytes that must stay untouched.

import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as V from '@kiln/common/virtio/index.ts';
import * as F from '@kiln/common/wire/fuse.ts';
import { ADDON_PATH } from '@kiln/kvm/native.ts';
import { VirtioMmio } from '../mmio.ts';
import { FEATURES_BASE, MockDriver, guardedRam, guardsIntact } from '../mock_driver.ts';
import { VirtioFs, encodeTag } from './device.ts';

const skip = existsSync(ADDON_PATH) ? false : 'the addon is not built';
const dir = mkdtempSync(join(tmpdir(), 'kiln-fsdev-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'file.txt'), 'contents');

function setup(): { d: MockDriver; t: VirtioMmio; dev: VirtioFs; ram: ReturnType<typeof guardedRam>; irqs: { n: number } } {
  const ram = guardedRam(8 << 20);
  const dev = VirtioFs.open({ hostDir: dir, tag: 'mytag' });
  const irqs = { n: 0 };
  const t = new VirtioMmio(dev, { mem: ram, interrupt: () => irqs.n++ });
  const d = new MockDriver(ram, t);
  d.init(FEATURES_BASE, 16);
  return { d, t, dev, ram, irqs };
}

let unique = 100;
function request(opcode: number, nodeid: number, body: Uint8Array, len?: number): Uint8Array {
  const b = new Uint8Array(40 + body.length);
  F.IN_HEADER.encode({ len: len ?? b.length, opcode, unique: unique++, nodeid, uid: 0, gid: 0, pid: 1, totalExtlen: 0 }, b);
  b.set(body, 40);
  return b;
}
const cstr = (s: string): Uint8Array => new Uint8Array(Buffer.from(s + '\0'));

function init(d: MockDriver): void {
  const body = new Uint8Array(64);
  F.INIT_IN.encode({ major: 7, minor: 31, maxReadahead: 0, flags: 0, flags2: 0 }, body);
  const { writable } = d.add(1, [{ data: request(F.FUSE_INIT, 0, body) }, { writeLen: 16 + 64 }]);
  d.notify(1);
  const [u] = d.used(1);
  assert.equal(u!.len, 80);
  assert.equal(F.OUT_HEADER.decode(d.read(writable[0]!.addr, 16))!.error, 0);
}

test('config_has_the_tag_and_one_request_queue', { skip }, () => {
  const { t, dev } = setup();
  const read = (off: number, n: number): Uint8Array => {
    const b = new Uint8Array(n);
    t.read(V.VIRTIO_MMIO_CONFIG + off, b);
    return b;
  };
  assert.equal(dev.deviceId, 26);
  assert.deepEqual(dev.queueSizes.length, 2);
  assert.equal(Buffer.from(read(0, 36)).toString('latin1'), 'mytag' + '\0'.repeat(31));
  assert.equal(new DataView(read(36, 4).buffer).getUint32(0, true), 1);
  assert.throws(() => encodeTag(''), /1 to 36 bytes/);
  assert.throws(() => encodeTag('é'.repeat(19)), /got 38/);
  dev.close();
});

test('requests_and_replies_split_across_descriptors', { skip }, () => {
  const { d, t, dev, ram, irqs } = setup();
  init(d);
  const req = request(F.FUSE_LOOKUP, 1, cstr('file.txt'));
  // header split inside `unique`, the name split in two; reply split inside the entry
  const { writable } = d.add(1, [{ data: req.subarray(0, 11) }, { data: req.subarray(11, 45) }, { data: req.subarray(45) }, { writeLen: 5 }, { writeLen: 200 }]);
  d.notify(1);
  const [u] = d.used(1);
  assert.equal(u!.len, 16 + 128);
  const reply = new Uint8Array([...d.read(writable[0]!.addr, 5), ...d.read(writable[1]!.addr, 200)]);
  const h = F.OUT_HEADER.decode(reply)!;
  assert.deepEqual([h.len, h.error, h.unique], [144, 0, F.IN_HEADER.decode(req)!.unique]);
  const e = F.ENTRY_OUT.decode(reply, 16)!;
  assert.equal(e.attr.size, 8);
  assert.ok(irqs.n > 0);
  // FORGET on the hiprio queue: consumed, no reply
  const forget = new Uint8Array(8);
  F.FORGET_IN.encode({ nlookup: 1 }, forget);
  d.add(0, [{ data: request(F.FUSE_FORGET, e.nodeid, forget) }]);
  d.notify(0);
  assert.deepEqual(d.used(0).map((x) => x.len), [0]);
  assert.equal(dev.server.inodes.size, 1, 'forgotten');
  // a request with no room for any reply is consumed with nothing written
  d.add(1, [{ data: request(F.FUSE_GETATTR, 1, new Uint8Array(16)) }]);
  d.notify(1);
  assert.deepEqual(d.used(1).map((x) => x.len), [0]);
  // a request bigger than the server takes: the header's length is past what was read → EINVAL
  const big = new Uint8Array(2 << 20);
  big.set(request(F.FUSE_WRITE, 0, new Uint8Array(40), big.length));
  const w = d.add(1, [{ data: big }, { writeLen: 16 }]);
  d.notify(1);
  assert.deepEqual(d.used(1).map((x) => x.len), [16]);
  assert.equal(F.OUT_HEADER.decode(d.read(w.writable[0]!.addr, 16))!.error, -F.ERRNO.EINVAL);
  assert.equal(t.failure, undefined, 'the device keeps working');
  assert.ok(guardsIntact(ram));
  dev.close();
});

test('device_reset_drops_the_guests_lookups_and_handles', { skip }, () => {
  const { d, t, dev } = setup();
  init(d);
  d.add(1, [{ data: request(F.FUSE_LOOKUP, 1, cstr('file.txt')) }, { writeLen: 144 }]);
  d.add(1, [{ data: request(F.FUSE_OPENDIR, 1, new Uint8Array(8)) }, { writeLen: 32 }]);
  d.notify(1);
  assert.equal(d.used(1).length, 2);
  assert.equal(dev.server.inodes.size, 2);
  assert.equal(dev.server.handles.size, 1);
  d.wr(V.VIRTIO_MMIO_STATUS, 0);
  assert.equal(t.activated, false);
  assert.equal(dev.server.inodes.size, 1);
  assert.equal(dev.server.handles.size, 0);
  dev.close();
});
