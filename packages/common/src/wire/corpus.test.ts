// Regression corpus for the wire parsers the guest exposes to the network and the host
// (Ethernet, ARP, IPv4, ICMP, UDP, TCP, DHCP, FUSE replies): fixed inputs as hex, each with what
// the parser must return — the edge cases that were bugs or are easy to get wrong (an IPv4 header
// with IHL < 5 or total length < header, a TCP data offset past the segment, a DHCP options field
// without END, a FUSE reply shorter than its header, ...). Inputs npm run fuzz finds go here.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseArp } from './arp.ts';
import { parseDhcp } from './dhcp.ts';
import { parseEthernet } from './ethernet.ts';
import * as F from './fuse.ts';
import { parseIcmp } from './icmp.ts';
import { Ipv4Packet, parseIpv4 } from './ipv4.ts';
import { TcpPacket, parseTcp, tcpRepr } from './tcp.ts';
import { parseUdp } from './udp.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const GUEST = 0x0a00020f; // 10.0.2.15
const GATEWAY = 0x0a000202; // 10.0.2.2

/** Runs `parse` on every [name, hex, expected] and compares (deep equality; a function checks the result itself). */
function corpus<T>(parse: (b: Uint8Array) => T, cases: [string, string, T | ((r: T) => void)][]): void {
  for (const [name, h, expected] of cases) {
    let r: T;
    try {
      r = parse(hex(h));
    } catch (e) {
      assert.fail(`${name}: threw ${String(e)}`);
    }
    if (typeof expected === 'function') (expected as (r: T) => void)(r);
    else assert.deepEqual(r, expected, name);
  }
}

test('corpus_ethernet', () => {
  corpus(parseEthernet, [
    ['empty', '', null],
    ['13 bytes', 'ffffffffffff 525400123456 08', null],
    ['header only', 'ffffffffffff 525400123456 0806', { dst: 0xffff_ffff_ffff, src: 0x5254_0012_3456, ethertype: 0x0806 }],
  ]);
});

test('corpus_arp', () => {
  const request = '0001 0800 06 04 0001 525400123456 0a00020f 000000000000 0a000202';
  corpus(parseArp, [
    ['27 bytes', request.slice(0, -2), null],
    ['hlen 8', request.replace('06 04', '08 04'), null],
    ['htype 6 (IEEE 802)', `0006${request.slice(4)}`, null],
    ['RARP request (operation 3)', request.replace('0001 5254', '0003 5254'), null],
    ['request with trailing padding', `${request} 000000000000`, { operation: 1, senderMac: 0x5254_0012_3456, senderIp: GUEST, targetMac: 0, targetIp: GATEWAY }],
  ]);
});

test('corpus_ipv4', () => {
  // 10.0.2.15 → 10.0.2.2, UDP, total length 24, DF, 4 payload bytes (checksum right).
  const good = '4500001800014000401122c40a00020f0a000202 00000000';
  corpus(parseIpv4, [
    ['19 bytes', good.slice(0, 38), null],
    ['IHL 4 (< 5)', `44${good.slice(2)}`, null],
    ['IHL 0', `40${good.slice(2)}`, null],
    ['IHL 15 past a 24-byte packet', `4f${good.slice(2)}`, null],
    ['total length 16 < header', `45000010${good.slice(8)}`, null],
    ['total length 0', `45000000${good.slice(8)}`, null],
    ['total length past the buffer', `450000ff${good.slice(8)}`, null],
    ['version 6', `65${good.slice(2)}`, null],
    ['bad checksum', good.replace('22c4', '22c5'), null],
    ['good', good, { src: GUEST, dst: GATEWAY, protocol: 17, payloadLen: 4, ttl: 64, dscpEcn: 0, ident: 1, dontFragment: true }],
    ['good with Ethernet padding cut off', `${good} 0000000000`, (r) => assert.equal(r?.payloadLen, 4)],
  ]);
  corpus(Ipv4Packet.check, [
    ['IHL 4, checked alone', '4400001800014000401122c40a00020f0a000202', null],
    ['total length 19', '4500001300014000401122c40a00020f0a000202', null],
  ]);
});

test('corpus_icmp', () => {
  const echo = '0800f3f10007000101020304'; // echo request ident 7 seq 1, data 01020304
  corpus(parseIcmp, [
    ['7 bytes', '0800f7ff000000', null],
    ['bad checksum', echo.replace('f3f1', 'f3f2'), null],
    ['echo request', echo, { type: 'echoRequest', ident: 7, seq: 1, data: hex('01020304') }],
    ['echo request with code 1', '0801f3f00007000101020304', null],
    ['unknown type 42, checksum right', '2a00d5ff00000000', null],
  ]);
});

test('corpus_udp', () => {
  const udp = (h: string) => parseUdp(hex(h), GUEST, GATEWAY);
  const check = (h: string, expected: ReturnType<typeof parseUdp>, name: string) => assert.deepEqual(udp(h), expected, name);
  check('0044004300', null, '5 bytes');
  check('00440043 0007 0000', null, 'length 7 < header');
  check('00440043 0000 0000', null, 'length 0');
  check('00440043 0010 0000 abcd', null, 'length past the buffer');
  check('00440043 0008 0000', { srcPort: 68, dstPort: 67, payload: new Uint8Array(0) }, 'empty payload, no checksum');
  check('00440043 000a 0000 abcd 0000', { srcPort: 68, dstPort: 67, payload: hex('abcd') }, 'trailing bytes past the length are cut off');
  check('00440043000a3b75abcd', { srcPort: 68, dstPort: 67, payload: hex('abcd') }, 'checksum right');
  check('00440043000a3b76abcd', null, 'checksum wrong');
});

test('corpus_tcp', () => {
  const checked = (b: Uint8Array) => {
    const p = TcpPacket.checked(b);
    return typeof p === 'string' ? p : parseTcp(p, GATEWAY, GUEST, tcpRepr(), false);
  };
  // 80 → 49152, seq 1, ack 2, PSH|ACK, window 1024, "hi" (checksum right).
  const data = '0050c0000000000100000002501804006afd00006869';
  const head = data.slice(0, 24);
  const tail = data.slice(26, 40);
  corpus(checked, [
    ['19 bytes', data.slice(0, 38), 'truncated'],
    ['data offset 8 words past a 22-byte segment', `${head}80${tail}6869`, 'truncated'],
    ['data offset 15 words', `${head}f0${tail}`, 'truncated'],
    ['data offset 4 (< 5)', `${head}40${tail}6869`, 'bad-data-offset'],
    ['data offset 0', `${head}00${tail}`, 'bad-data-offset'],
    ['option of length 0', `${head}60${tail}02000000`, 'bad-option'],
    ['option running past the header', `${head}60${tail}0108ffff`, 'bad-option'],
    ['MSS of length 3', `${head}60${tail}02030500`, 'bad-option'],
    ['window scale 15 (clamped to 14)', `${head}60${tail}03030f00`, (r) => assert.equal(typeof r === 'string' ? r : r.windowScale, 14)],
    ['good', data, (r) => {
      assert.ok(typeof r !== 'string');
      assert.deepEqual([r.srcPort, r.dstPort, r.seq, r.ack, r.flags, r.window, [...r.payload]], [80, 49152, 1, 2, 0x18, 1024, [0x68, 0x69]]);
    }],
  ]);
  const p = TcpPacket.checked(hex(data));
  assert.ok(p instanceof TcpPacket);
  assert.equal(typeof parseTcp(p, GATEWAY, GUEST), 'object', 'checksum right with the right pseudo-header');
  assert.equal(typeof parseTcp(p, GATEWAY, GUEST + 1), 'string', 'wrong pseudo-header is bad-checksum');
});

test('corpus_dhcp', () => {
  // BOOTREPLY, Ethernet, xid 1, zeros, chaddr 52:54:00:12:34:56, magic cookie; options follow.
  const fixed = `02010600 00000001 ${'00'.repeat(20)} 525400123456 ${'00'.repeat(202)} 63825363`;
  const msg = (options: string) => `${fixed} ${options}`;
  corpus(parseDhcp, [
    ['options without END', msg('350105 3604 0a000202'), null],
    ['no options at all', msg(''), null],
    ['only PAD', msg('000000'), null],
    ['option length past the end', msg('350105 0304 0a00'), null],
    ['option code as the last byte', msg('350105 03'), null],
    ['message type of length 2', msg('35020501 ff'), null],
    ['no message type', msg('ff'), (r) => assert.ok(r === null || r.messageType === 0)],
    ['bad cookie', msg('350105ff').replace('63825363', '63825364'), null],
    ['239 bytes', fixed.replace(/\s+/g, '').slice(0, 478), null],
    ['ACK with server id and END', msg('350105 3604 0a000202 ff'), (r) => {
      assert.ok(r);
      assert.equal(r.messageType, 5);
      assert.equal(r.serverId, GATEWAY);
      assert.equal(r.clientMac, 0x5254_0012_3456);
    }],
    ['router list of 5 bytes ignored', msg('350105 0305 0a0002020a ff'), (r) => assert.equal(r?.routers, undefined)],
  ]);
});

test('corpus_fuse_replies', () => {
  // fuse_out_header: len u32, error i32, unique u64 (little-endian).
  corpus(F.OUT_HEADER.decode, [
    ['empty', '', null],
    ['15 bytes (shorter than the header)', '10000000 00000000 01000000000000', null],
    ['header only', '10000000 00000000 0100000000000000', { len: 16, error: 0, unique: 1 }],
    ['negative errno', '10000000 feffffff 0100000000000000', { len: 16, error: -2, unique: 1 }],
    ['unique past 2^53', '10000000 00000000 ffffffffffffffff', { len: 16, error: 0, unique: F.U64_UNSAFE }],
  ]);
  corpus((b) => F.ATTR_OUT.decode(b), [['attr_out 1 byte short', '00'.repeat(F.ATTR_OUT.size - 1), null]]);
  corpus((b) => F.parseDirents(b, false), [
    ['23 bytes', '00'.repeat(23), { entries: [], malformed: true }],
    ['namelen 0', `0100000000000000 0000000000000000 00000000 08000000 ${'00'.repeat(8)}`, { entries: [], malformed: true }],
    ['namelen 256', `0100000000000000 0000000000000000 00010000 08000000 ${'61'.repeat(256)}`, { entries: [], malformed: true }],
    ['namelen past the reply', '0100000000000000 0000000000000000 05000000 08000000 616263', { entries: [], malformed: true }],
    ['namelen 2^32 - 1', `0100000000000000 0000000000000000 ffffffff 08000000 ${'61'.repeat(8)}`, { entries: [], malformed: true }],
    ['one record, padding cut', '0500000000000000 0100000000000000 01000000 08000000 61', { entries: [{ ino: 5, off: 1, type: 8, name: hex('61') }], malformed: false }],
  ]);
  corpus((b) => F.parseDirents(b, true), [['READDIRPLUS shorter than its entry_out', '00'.repeat(F.ENTRY_OUT.size - 1), { entries: [], malformed: true }]]);
});
