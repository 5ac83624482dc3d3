// ARP: golden request bytes (who has 10.0.2.2? tell 10.0.2.15), round trips, the non
// Ethernet/IPv4 and unknown-operation cases, and arbitrary bytes never throw.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { runs } from '../testing/property.ts';
import { ARP_OP_REPLY, ARP_OP_REQUEST, ArpPacket, arpBufferLen, emitArp, parseArp, type ArpRepr } from './arp.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// htype 1, ptype 0x0800, hlen 6, plen 4, op 1, sha, spa 10.0.2.15, tha 0, tpa 10.0.2.2
const GOLDEN = hex('0001 0800 06 04 0001 024b4c4e0001 0a00020f 000000000000 0a000202');
const REPR: ArpRepr = { operation: ARP_OP_REQUEST, senderMac: 0x024b4c4e0001, senderIp: 0x0a00020f, targetMac: 0, targetIp: 0x0a000202 };

test('arp_deconstruct_golden', () => {
  const p = ArpPacket.check(GOLDEN)!;
  assert.equal(p.operation, 1);
  assert.equal(p.senderMac, 0x024b4c4e0001);
  assert.equal(p.senderIp, 0x0a00020f);
  assert.equal(p.targetMac, 0);
  assert.equal(p.targetIp, 0x0a000202);
  assert.deepEqual(parseArp(GOLDEN), REPR);
});

test('arp_construct_golden', () => {
  const b = new Uint8Array(arpBufferLen());
  emitArp(REPR, b);
  assert.deepEqual(b, GOLDEN);
});

test('arp_other_hardware_protocol_or_operation_is_null', () => {
  const bad = (at: number, v: number): Uint8Array => {
    const b = GOLDEN.slice();
    b[at] = v;
    return b;
  };
  assert.equal(parseArp(bad(1, 6)), null); // htype 6 (IEEE 802)
  assert.equal(parseArp(bad(2, 0x86)), null); // ptype IPv6
  assert.equal(parseArp(bad(4, 8)), null); // hlen
  assert.equal(parseArp(bad(5, 16)), null); // plen
  assert.equal(parseArp(bad(7, 3)), null); // RARP request
  assert.equal(parseArp(GOLDEN.subarray(0, 27)), null);
});

test('arp_round_trip_property', () => {
  const addr48 = fc.integer({ min: 0, max: 2 ** 48 - 1 });
  const addr32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
  fc.assert(fc.property(fc.constantFrom(ARP_OP_REQUEST, ARP_OP_REPLY), addr48, addr32, addr48, addr32, (operation, senderMac, senderIp, targetMac, targetIp) => {
    const r: ArpRepr = { operation, senderMac, senderIp, targetMac, targetIp };
    const b = new Uint8Array(28);
    emitArp(r, b);
    assert.deepEqual(parseArp(b), r);
  }));
});

test('arp_parse_any_bytes_never_throws', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
    const r = parseArp(b);
    if (r) assert.ok(b.length >= 28 && (r.operation === ARP_OP_REQUEST || r.operation === ARP_OP_REPLY));
  }), { numRuns: runs(100) });
  fc.assert(fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (tail) => {
    const b = GOLDEN.slice();
    b.set(tail, 8);
    assert.ok(parseArp(b) !== null);
  }), { numRuns: runs(100) });
});
