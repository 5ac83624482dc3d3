// The VMM's reader of the sample ring: records across the ring's end (a PAD record first),
// room freed as it reads, and a ring a hostile guest wrote: every bad size, count or head is
// reported once and nothing more is read (fast-check, seeded by @kiln/common/testing/property.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { ProfileRing, type SampleRecord } from './ring.ts';
import { KILN_RING_HEADER, KILN_SAMPLE_PAD, RING, sampleSize } from './layout.ts';

/** Writes a record the way profile_capture.h does (the producer), wrapping with a PAD record. */
function produce(bytes: Uint8Array, native: number, js: number, tag: number): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  const size = v.getUint32(RING.size, true);
  let head = Number(v.getBigUint64(RING.head, true));
  const rec = sampleSize(native, js);
  let pos = head % size;
  if (size - pos < rec) {
    v.setUint16(KILN_RING_HEADER + pos, size - pos, true);
    v.setUint32(KILN_RING_HEADER + pos + 4, KILN_SAMPLE_PAD, true);
    head += size - pos;
    pos = 0;
  }
  const at = KILN_RING_HEADER + pos;
  bytes.fill(0, at, at + rec);
  v.setUint16(at, rec, true);
  v.setUint8(at + 2, native);
  v.setUint8(at + 3, js);
  v.setBigUint64(at + 8, BigInt(tag), true);
  for (let i = 0; i < native; i++) v.setBigUint64(at + 16 + 16 * i, BigInt(tag * 100 + i), true);
  v.setBigUint64(RING.head, BigInt(head + rec), true);
}

test('records come out in order, across the end of the ring', () => {
  const bytes = new Uint8Array(ProfileRing.bytesFor(1000)).subarray(0, KILN_RING_HEADER + 1008);
  const ring = new ProfileRing(bytes, true);
  assert.equal(ring.size, 1008);
  const seen: SampleRecord[] = [];
  for (let round = 0; round < 20; round++) {
    produce(bytes, 3, 2, round * 2);
    produce(bytes, 1, 0, round * 2 + 1);
    assert.equal(ring.drain((r) => seen.push(r)), 2);
  }
  assert.deepEqual(seen.map((r) => Number(r.timeNs)), Array.from({ length: 40 }, (_, i) => i));
  assert.deepEqual(seen[0]!.native.map((f) => f.pc), [0, 1, 2]);
  assert.equal(seen[0]!.js.length, 2);
});

test('a corrupt ring is named and read no more', () => {
  const bytes = new Uint8Array(KILN_RING_HEADER + 4096);
  const ring = new ProfileRing(bytes, true);
  produce(bytes, 2, 1, 7);
  new DataView(bytes.buffer).setUint8(KILN_RING_HEADER + 2, 9); // claims 9 native frames
  assert.equal(ring.drain(() => assert.fail('no record')), 0);
  assert.match(ring.broken!, /claims 9 native/);
  produce(bytes, 1, 0, 8);
  assert.equal(ring.drain(() => assert.fail('no record')), 0);
  const fb = new Uint8Array(KILN_RING_HEADER + 4096);
  const f = new ProfileRing(fb, true);
  new DataView(fb.buffer).setBigUint64(RING.head, 1n << 40n, true);
  assert.equal(f.drain(() => {}), 0);
  assert.match(f.broken!, /not 4096 bytes apart/);
});

test('any bytes a guest left in the ring: records or a reason, never an exception', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 256, maxLength: 256 }), fc.nat(512), fc.nat(512), (data, head, tail) => {
      const bytes = new Uint8Array(KILN_RING_HEADER + 256);
      const ring = new ProfileRing(bytes, true);
      bytes.set(data, KILN_RING_HEADER);
      const v = new DataView(bytes.buffer);
      v.setBigUint64(RING.head, BigInt(head), true);
      v.setBigUint64(RING.tail, BigInt(tail), true);
      let n = 0;
      ring.drain((r) => {
        n++;
        assert.ok(r.native.length <= 64 && r.js.length <= 64);
      });
      assert.ok(n <= 16);
    }),
  );
});
