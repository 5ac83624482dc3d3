// DHCP: a golden DISCOVER written field by field from RFC 2131 §2 / RFC 2132, a golden ACK
// parsed, round trips of every option Kiln reads or writes, refusals (no cookie, no message
// type, an option running past the end, no END), and any bytes never throw.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { runs } from '../testing/property.ts';
import {
  BOOTREPLY, BOOTREQUEST, DHCPACK, DHCPDISCOVER, DHCPNAK, DHCP_MIN_LEN, DHCP_OPTIONS_AT, DhcpOption, dhcpBufferLen, emitDhcp, parseDhcp,
  type DhcpRepr,
} from './dhcp.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function fixed(op: number, xid: string, ciaddr: string, yiaddr: string, siaddr: string, mac: string): string {
  return `${op === 1 ? '01' : '02'} 01 06 00 ${xid} 0000 0000 ${ciaddr} ${yiaddr} ${siaddr} 00000000 ${mac}00000000000000000000 ${'00'.repeat(64)} ${'00'.repeat(128)} 63825363`;
}

function padTo300(s: string): Uint8Array {
  const b = hex(s);
  const out = new Uint8Array(Math.max(300, b.length));
  out.set(b);
  return out;
}

// DISCOVER from 02:4b:4c:4e:00:01, xid 0x11223344: message type 1, parameter request list
// (1 subnet mask, 3 router, 6 DNS, 51 lease, 58 T1, 59 T2), max message size 1500, END.
const DISCOVER = padTo300(`${fixed(1, '11223344', '00000000', '00000000', '00000000', '024b4c4e0001')} 3501 01 3706 0103063a3b33 3902 05dc ff`);
const DISCOVER_REPR: DhcpRepr = {
  op: BOOTREQUEST, messageType: DHCPDISCOVER, xid: 0x11223344, secs: 0, broadcast: false, clientIp: 0, yourIp: 0, serverIp: 0, relayIp: 0,
  clientMac: 0x024b4c4e0001, parameterRequestList: [1, 3, 6, 58, 59, 51], maxMessageSize: 1500,
};

// ACK for 10.0.2.15 from server 10.0.2.2: mask /24, router, DNS, lease 3600 s, pad bytes, END.
const ACK = padTo300(`${fixed(2, '11223344', '00000000', '0a00020f', '0a000202', '024b4c4e0001')} 3501 05 3604 0a000202 0104 ffffff00 0304 0a000202 0608 0a000203 08080808 3304 00000e10 00 00 ff`);

test('dhcp_construct_golden_discover', () => {
  const b = new Uint8Array(dhcpBufferLen(DISCOVER_REPR));
  assert.equal(b.length, DHCP_MIN_LEN);
  emitDhcp(DISCOVER_REPR, b);
  assert.deepEqual(b, DISCOVER);
});

test('dhcp_deconstruct_golden', () => {
  assert.deepEqual(parseDhcp(DISCOVER), DISCOVER_REPR);
  assert.deepEqual(parseDhcp(ACK), {
    op: BOOTREPLY, messageType: DHCPACK, xid: 0x11223344, secs: 0, broadcast: false, clientIp: 0, yourIp: 0x0a00020f, serverIp: 0x0a000202,
    relayIp: 0, clientMac: 0x024b4c4e0001, serverId: 0x0a000202, subnetMask: 0xffffff00, routers: [0x0a000202], dnsServers: [0x0a000203, 0x08080808],
    leaseTime: 3600,
  });
});

test('dhcp_refusals', () => {
  const noCookie = ACK.slice();
  noCookie[236] = 0;
  assert.equal(parseDhcp(noCookie), null);
  const bootp = ACK.slice();
  bootp.fill(0, DHCP_OPTIONS_AT);
  bootp[DHCP_OPTIONS_AT] = 255;
  assert.equal(parseDhcp(bootp), null, 'no message type: plain BOOTP');
  const overrun = ACK.slice();
  overrun.fill(0, DHCP_OPTIONS_AT);
  overrun.set([53, 1, 5, 12, 200], DHCP_OPTIONS_AT);
  assert.equal(parseDhcp(overrun.subarray(0, 260)), null, 'option past the end');
  const noEnd = ACK.subarray(0, DHCP_OPTIONS_AT + 3);
  assert.equal(parseDhcp(noEnd), null, 'no END');
  const badType = ACK.slice();
  badType[DHCP_OPTIONS_AT + 2] = 9;
  assert.equal(parseDhcp(badType), null, 'unknown message type');
  const ethOnly = ACK.slice();
  ethOnly[1] = 6;
  assert.equal(parseDhcp(ethOnly), null, 'htype 6');
  assert.equal(parseDhcp(ACK.subarray(0, 239)), null);
});

test('dhcp_all_options_round_trip', () => {
  const r: DhcpRepr = {
    op: BOOTREPLY, messageType: DHCPNAK, xid: 0xfffffffe, secs: 65535, broadcast: true, clientIp: 1, yourIp: 2, serverIp: 3, relayIp: 4,
    clientMac: 0xfeedfacecafe, serverId: 5, requestedIp: 6, subnetMask: 0xffff0000, routers: [7, 8], dnsServers: [9], leaseTime: 0xffffffff,
    renewalTime: 100, rebindingTime: 175, hostname: 'kiln-guest', parameterRequestList: [1, 3], maxMessageSize: 576, message: 'wrong network',
    clientId: Uint8Array.of(1, 2, 4, 0x4c, 0x4e, 0, 1),
  };
  const b = new Uint8Array(dhcpBufferLen(r));
  emitDhcp(r, b);
  assert.deepEqual(parseDhcp(b), r);
  assert.throws(() => emitDhcp({ ...r, hostname: 'x'.repeat(256) }, new Uint8Array(600)), RangeError);
});

test('dhcp_round_trip_property', () => {
  const a32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
  fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), a32, a32, fc.option(a32, { nil: undefined }), fc.option(fc.array(a32, { minLength: 1, maxLength: 5 }), { nil: undefined }), fc.option(fc.stringMatching(/^[a-z0-9-]{0,30}$/), { nil: undefined }), (messageType, xid, yourIp, leaseTime, routers, hostname) => {
    const r: DhcpRepr = { op: BOOTREQUEST, messageType, xid, secs: 0, broadcast: false, clientIp: 0, yourIp, serverIp: 0, relayIp: 0, clientMac: 1 };
    if (leaseTime !== undefined) r.leaseTime = leaseTime;
    if (routers !== undefined) r.routers = routers;
    if (hostname !== undefined) r.hostname = hostname;
    const b = new Uint8Array(dhcpBufferLen(r));
    emitDhcp(r, b);
    assert.deepEqual(parseDhcp(b), r);
  }));
});

test('dhcp_parse_any_bytes_never_throws', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
    const r = parseDhcp(b);
    if (r) assert.ok(b.length >= DHCP_OPTIONS_AT && r.messageType >= 1 && r.messageType <= 8);
  }), { numRuns: runs(100) });
  // valid fixed part and cookie, arbitrary options
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (opts) => {
    const b = new Uint8Array(DHCP_OPTIONS_AT + opts.length);
    b.set(ACK.subarray(0, DHCP_OPTIONS_AT));
    b.set(opts, DHCP_OPTIONS_AT);
    const r = parseDhcp(b);
    if (r) assert.ok(r.messageType >= 1 && r.messageType <= 8);
  }), { numRuns: runs(100) });
  assert.equal(DhcpOption.END, 255);
});
