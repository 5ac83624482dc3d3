// ICMP: golden echo request (checksum computed independently), reply/unreachable/time
// exceeded round trips, a corrupted checksum and unknown types refused, and any bytes never throw.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { runs } from '../testing/property.ts';
import { internetChecksum } from './checksum.ts';
import { ICMP_UNREACH_FRAG_NEEDED, ICMP_UNREACH_PORT, IcmpPacket, emitIcmp, icmpBufferLen, parseIcmp, type IcmpRepr } from './icmp.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// type 8, code 0, checksum 0x5435, ident 0x1234, seq 1, data "abcdefgh"
const GOLDEN = hex('08 00 5435 1234 0001 6162636465666768');

test('icmp_deconstruct_golden', () => {
  const p = IcmpPacket.check(GOLDEN)!;
  assert.equal(p.type, 8);
  assert.equal(p.checksum, 0x5435);
  assert.ok(p.verifyChecksum());
  const r = parseIcmp(GOLDEN)!;
  assert.equal(r.type, 'echoRequest');
  assert.ok(r.type === 'echoRequest');
  assert.equal(r.ident, 0x1234);
  assert.equal(r.seq, 1);
  assert.equal(Buffer.from(r.data).toString(), 'abcdefgh');
});

test('icmp_construct_golden', () => {
  const r: IcmpRepr = { type: 'echoRequest', ident: 0x1234, seq: 1, data: Buffer.from('abcdefgh') };
  const b = new Uint8Array(icmpBufferLen(r));
  emitIcmp(r, b);
  assert.deepEqual(b, GOLDEN);
});

test('icmp_bad_checksum_unknown_type_short_are_null', () => {
  const b = GOLDEN.slice();
  b[9] ^= 0x40;
  assert.equal(parseIcmp(b), null);
  const ts = new Uint8Array(8);
  ts[0] = 13; // timestamp request
  const sum = 0xffff - (13 << 8);
  ts[2] = sum >> 8;
  ts[3] = sum & 0xff;
  assert.ok(IcmpPacket.check(ts)!.verifyChecksum());
  assert.equal(parseIcmp(ts), null);
  assert.equal(parseIcmp(GOLDEN.subarray(0, 7)), null);
});

test('icmp_round_trips', () => {
  const quote = hex('45000030 0000 4000 4011 0000 0a00020f 0a000202 1388 0035 001c 0000');
  const cases: IcmpRepr[] = [
    { type: 'echoReply', ident: 0xffff, seq: 0xfffe, data: new Uint8Array(0) },
    { type: 'destUnreachable', code: ICMP_UNREACH_PORT, nextHopMtu: 0, data: quote },
    { type: 'destUnreachable', code: ICMP_UNREACH_FRAG_NEEDED, nextHopMtu: 1400, data: quote },
    { type: 'timeExceeded', code: 0, data: quote },
  ];
  for (const r of cases) {
    const b = new Uint8Array(icmpBufferLen(r));
    emitIcmp(r, b);
    assert.deepEqual(parseIcmp(b), r);
  }
});

test('icmp_echo_round_trip_property', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 100 }), fc.boolean(), (ident, seq, data, req) => {
    const r: IcmpRepr = { type: req ? 'echoRequest' : 'echoReply', ident, seq, data };
    const b = new Uint8Array(icmpBufferLen(r));
    emitIcmp(r, b);
    assert.deepEqual(parseIcmp(b), r);
  }));
});

test('icmp_parse_any_bytes_never_throws', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
    parseIcmp(b);
  }), { numRuns: runs(100) });
  // Random messages with the checksum made right, so the type/code switch is reached too.
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(20), (b, type) => {
    if (b.length >= 8) {
      if (type < 16) b[0] = type;
      b[2] = 0;
      b[3] = 0;
      const c = internetChecksum(b);
      b[2] = c >>> 8;
      b[3] = c & 0xff;
    }
    const r = parseIcmp(b);
    if (b.length < 8) assert.equal(r, null);
    if (r) assert.ok(r.data.length === b.length - 8 && ['echoRequest', 'echoReply', 'destUnreachable', 'timeExceeded'].includes(r.type));
  }), { numRuns: runs(200) });
});
