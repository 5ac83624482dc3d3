// Ethernet II: golden header bytes, MAC numbers both ways, round trips, short buffers, and
// parsing arbitrary bytes never throws (fast-check).

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { runs } from '../testing/property.ts';
import {
  ETHERTYPE_ARP, EthernetFrame, MAC_BROADCAST, emitEthernet, ethernetBufferLen, formatMac, isMulticastMac, macFromBytes,
  parseEthernet, readMac, writeMac,
} from './ethernet.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// A broadcast ARP frame header from 02:4b:4c:4e:00:01.
const GOLDEN = hex('ffffffffffff 024b4c4e0001 0806');

test('ethernet_deconstruct_golden', () => {
  const f = EthernetFrame.check(hex('ffffffffffff 024b4c4e0001 0806 00010800'))!;
  assert.equal(f.dst, MAC_BROADCAST);
  assert.equal(f.src, 0x024b4c4e0001);
  assert.equal(f.ethertype, ETHERTYPE_ARP);
  assert.deepEqual([...f.payload], [0, 1, 8, 0]);
});

test('ethernet_construct_golden', () => {
  const b = new Uint8Array(ethernetBufferLen(0));
  emitEthernet({ dst: MAC_BROADCAST, src: 0x024b4c4e0001, ethertype: ETHERTYPE_ARP }, b);
  assert.deepEqual(b, GOLDEN);
});

test('ethernet_too_short_is_null', () => {
  assert.equal(EthernetFrame.check(new Uint8Array(13)), null);
  assert.equal(parseEthernet(new Uint8Array(0)), null);
});

test('mac_numbers_golden', () => {
  assert.equal(formatMac(0x024b4c4e00ff), '02:4b:4c:4e:00:ff');
  assert.equal(macFromBytes(Uint8Array.of(0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa)), 0xfffefdfcfbfa);
  assert.ok(isMulticastMac(MAC_BROADCAST));
  assert.ok(isMulticastMac(0x01005e000001));
  assert.ok(!isMulticastMac(0x024b4c4e0001));
  assert.throws(() => macFromBytes(new Uint8Array(5)), RangeError);
});

test('ethernet_round_trip_property', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: 0, max: 0xffff }), (dst, src, ethertype) => {
    const b = new Uint8Array(14);
    emitEthernet({ dst, src, ethertype }, b);
    assert.deepEqual(parseEthernet(b), { dst, src, ethertype });
    const m = new Uint8Array(8);
    writeMac(m, 1, dst);
    assert.equal(readMac(m, 1), dst);
  }));
});

test('ethernet_parse_any_bytes_never_throws', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
    const r = parseEthernet(b);
    assert.equal(r === null, b.length < 14);
  }), { numRuns: runs(100) });
});
