// UDP: golden datagram (checksum with the pseudo-header, computed independently), the
// "no checksum" zero, a computed zero sent as 0xffff, length field checks, round trips,
// and any bytes never throw.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { runs } from '../testing/property.ts';
import { UdpPacket, emitUdp, parseUdp, udpBufferLen, type UdpRepr } from './udp.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

const SRC = 0x0a00020f;
const DST = 0x0a000202;
// 5000 → 53, length 13, checksum 0x9034, "hello"
const GOLDEN = hex('1388 0035 000d 9034 68656c6c6f');

test('udp_deconstruct_golden', () => {
  const p = UdpPacket.check(GOLDEN)!;
  assert.equal(p.srcPort, 5000);
  assert.equal(p.dstPort, 53);
  assert.equal(p.length, 13);
  assert.ok(p.verifyChecksum(SRC, DST));
  assert.ok(!p.verifyChecksum(SRC, DST + 1), 'the pseudo-header is covered');
  const r = parseUdp(GOLDEN, SRC, DST)!;
  assert.equal(Buffer.from(r.payload).toString(), 'hello');
});

test('udp_construct_golden', () => {
  const r: UdpRepr = { srcPort: 5000, dstPort: 53, payload: Buffer.from('hello') };
  const b = new Uint8Array(udpBufferLen(r));
  emitUdp(r, b, SRC, DST);
  assert.deepEqual(b, GOLDEN);
});

test('udp_zero_checksum_means_none', () => {
  const b = GOLDEN.slice();
  b[6] = 0;
  b[7] = 0;
  assert.ok(parseUdp(b, SRC, DST) !== null);
  b[8] ^= 1;
  assert.ok(parseUdp(b, SRC, DST) !== null);
  const bad = GOLDEN.slice();
  bad[8] ^= 1;
  assert.equal(parseUdp(bad, SRC, DST), null);
});

test('udp_computed_zero_checksum_is_sent_as_ffff', () => {
  // find a payload whose checksum computes to 0 (sum 0xffff): two bytes chosen to complete it
  const r: UdpRepr = { srcPort: 1, dstPort: 2, payload: new Uint8Array(2) };
  const b = new Uint8Array(10);
  emitUdp(r, b, 0, 0);
  const c = (b[6]! << 8) | b[7]!;
  // adding ~c to the payload word makes the one's complement sum 0xffff → checksum 0
  const adj: UdpRepr = { srcPort: 1, dstPort: 2, payload: Uint8Array.of((c >> 8) & 0xff, c & 0xff) };
  emitUdp(adj, b, 0, 0);
  assert.deepEqual([b[6], b[7]], [0xff, 0xff]);
  assert.ok(parseUdp(b, 0, 0) !== null);
});

test('udp_impossible_lengths_are_null', () => {
  assert.equal(UdpPacket.check(GOLDEN.subarray(0, 7)), null);
  assert.equal(UdpPacket.check(GOLDEN.subarray(0, 12)), null, 'length field past the buffer');
  const b = GOLDEN.slice();
  b[5] = 7;
  assert.equal(UdpPacket.check(b), null, 'length field below the header');
  const padded = new Uint8Array(20);
  padded.set(GOLDEN);
  assert.equal(parseUdp(padded, SRC, DST)!.payload.length, 5, 'bytes past the length field are ignored');
});

test('udp_round_trip_property', () => {
  const a32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
  const port = fc.integer({ min: 0, max: 0xffff });
  fc.assert(fc.property(port, port, fc.uint8Array({ maxLength: 200 }), a32, a32, (srcPort, dstPort, payload, src, dst) => {
    const r: UdpRepr = { srcPort, dstPort, payload };
    const b = new Uint8Array(udpBufferLen(r));
    emitUdp(r, b, src, dst);
    assert.deepEqual(parseUdp(b, src, dst), r);
  }));
});

test('udp_parse_any_bytes_never_throws', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 60 }), fc.boolean(), (b, noChecksum) => {
    // A zero checksum field means "none", so the length checks are reached for random lengths.
    if (noChecksum && b.length >= 8) b[6] = b[7] = 0;
    const r = parseUdp(b, SRC, DST);
    if (r) assert.ok(b.length >= 8 && r.payload.length <= b.length - 8);
    if (r && noChecksum) assert.equal(r.payload.length, ((b[4]! << 8) | b[5]!) - 8);
  }), { numRuns: runs(200) });
});
