// IPv4: the header checksum example from RFC 1071's users (Wikipedia's 0xb861 header), golden
// construct, address text both ways, netmask/prefix, checked-view refusals (version, IHL,
// total length), fragments refused by parse, padding cut off, and any bytes never throw.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { runs } from '../testing/property.ts';
import {
  IP_PROTO_UDP, Ipv4Packet, emitIpv4, formatIpv4Addr, ipv4BufferLen, netmaskToPrefix, parseIpv4, parseIpv4Addr, prefixToNetmask,
  type Ipv4Repr,
} from './ipv4.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// 192.168.0.1 → 192.168.0.199, UDP, TTL 64, DF, total length 0x73, checksum 0xb861.
const GOLDEN = hex('4500 0073 0000 4000 4011 b861 c0a80001 c0a800c7');
const REPR: Ipv4Repr = { src: 0xc0a80001, dst: 0xc0a800c7, protocol: IP_PROTO_UDP, payloadLen: 0x73 - 20, ttl: 64, dscpEcn: 0, ident: 0, dontFragment: true };

function withPayload(header: Uint8Array, payloadLen: number): Uint8Array {
  const b = new Uint8Array(header.length + payloadLen);
  b.set(header);
  return b;
}

test('ipv4_deconstruct_golden', () => {
  const b = withPayload(GOLDEN, 0x73 - 20);
  const p = Ipv4Packet.check(b)!;
  assert.equal(p.headerLen, 20);
  assert.equal(p.totalLen, 0x73);
  assert.equal(p.ttl, 64);
  assert.equal(p.protocol, 17);
  assert.equal(p.checksum, 0xb861);
  assert.ok(p.dontFragment && !p.moreFragments && !p.isFragment);
  assert.ok(p.verifyChecksum());
  assert.equal(formatIpv4Addr(p.src), '192.168.0.1');
  assert.equal(formatIpv4Addr(p.dst), '192.168.0.199');
  assert.deepEqual(parseIpv4(b), REPR);
});

test('ipv4_construct_golden', () => {
  const b = new Uint8Array(ipv4BufferLen(REPR));
  emitIpv4(REPR, b);
  assert.deepEqual(b.subarray(0, 20), GOLDEN);
});

test('ipv4_bad_checksum_is_null', () => {
  const b = withPayload(GOLDEN, 0x73 - 20);
  b[11] ^= 1;
  assert.ok(Ipv4Packet.check(b) !== null);
  assert.equal(parseIpv4(b), null);
});

test('ipv4_impossible_lengths_are_null', () => {
  const full = withPayload(GOLDEN, 0x73 - 20);
  assert.equal(Ipv4Packet.check(full.subarray(0, 19)), null, 'shorter than a header');
  assert.equal(Ipv4Packet.check(full.subarray(0, 0x72)), null, 'total length past the buffer');
  const v6 = full.slice();
  v6[0] = 0x65;
  assert.equal(Ipv4Packet.check(v6), null, 'version 6');
  const ihl4 = full.slice();
  ihl4[0] = 0x44;
  assert.equal(Ipv4Packet.check(ihl4), null, 'IHL below 5');
  const ihlBig = full.slice();
  ihlBig[0] = 0x4f;
  ihlBig[2] = 0;
  ihlBig[3] = 40;
  assert.equal(Ipv4Packet.check(ihlBig), null, 'header longer than the total length');
});

test('ipv4_padding_is_cut_off_and_options_skipped', () => {
  const r: Ipv4Repr = { src: 1, dst: 2, protocol: 6, payloadLen: 4, ttl: 1 };
  const b = new Uint8Array(46); // Ethernet minimum payload: 22 bytes of padding
  emitIpv4(r, b);
  b.set([1, 2, 3, 4], 20);
  assert.deepEqual([...Ipv4Packet.check(b)!.payload], [1, 2, 3, 4]);
  // with 4 bytes of options (IHL 6): the payload starts after them
  const o = new Uint8Array(28);
  o.set(hex('4600 001c 0000 0000 4006 0000 0a000001 0a000002 01010100'));
  const withOptions = Ipv4Packet.check(o)!;
  assert.equal(withOptions.headerLen, 24);
  assert.equal(withOptions.payload.length, 4);
});

test('ipv4_fragments_are_refused_by_parse', () => {
  for (const flags of [0x20, 0x00]) {
    const b = new Uint8Array(28);
    emitIpv4({ src: 1, dst: 2, protocol: 17, payloadLen: 8, ttl: 64, dontFragment: false }, b);
    b[6] = flags;
    b[7] = flags === 0 ? 1 : 0; // MF, or offset 8
    b[10] = 0;
    b[11] = 0;
    const p = Ipv4Packet.check(b)!;
    assert.ok(p.isFragment);
    assert.equal(p.fragmentOffset, flags === 0 ? 8 : 0);
    assert.equal(parseIpv4(b), null);
  }
});

test('ipv4_addresses_text_golden', () => {
  assert.equal(parseIpv4Addr('10.0.2.15'), 0x0a00020f);
  assert.equal(parseIpv4Addr('255.255.255.255'), 0xffffffff);
  for (const bad of ['10.0.2', '10.0.2.256', '10.0.2.15.1', ' 10.0.2.15', '1e1.0.0.1', '', 'a.b.c.d', '10.0.2.0015']) {
    assert.equal(parseIpv4Addr(bad), undefined, bad);
  }
  assert.equal(formatIpv4Addr(0xc0a800c7), '192.168.0.199');
  assert.equal(prefixToNetmask(24), 0xffffff00);
  assert.equal(prefixToNetmask(0), 0);
  assert.equal(prefixToNetmask(32), 0xffffffff);
  assert.equal(netmaskToPrefix(0xffffff00), 24);
  assert.equal(netmaskToPrefix(0xff00ff00), undefined);
});

test('ipv4_round_trip_property', () => {
  const a32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
  fc.assert(fc.property(a32, a32, fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 1480 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff }), (src, dst, protocol, payloadLen, ttl, ident) => {
    const r: Ipv4Repr = { src, dst, protocol, payloadLen, ttl, dscpEcn: 0, ident, dontFragment: true };
    const b = new Uint8Array(ipv4BufferLen(r));
    emitIpv4(r, b);
    assert.deepEqual(parseIpv4(b), r);
    assert.equal(formatIpv4Addr(src).split('.').length, 4);
    assert.equal(parseIpv4Addr(formatIpv4Addr(src)), src);
  }));
});

test('ipv4_parse_any_bytes_never_throws', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
    parseIpv4(b);
    const p = Ipv4Packet.check(b);
    if (p) assert.ok(p.payload.length <= b.length - 20);
  }), { numRuns: runs(100) });
});
