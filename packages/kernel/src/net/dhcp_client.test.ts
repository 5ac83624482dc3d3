// The DHCP client against a scripted server with a fake clock: the DISCOVER/OFFER/REQUEST/ACK
// exchange, what it ignores, retransmission back-off, an unanswered REQUEST, NAKs (with a
// growing pause), renewal at T1 (unicast), rebinding at T2 (broadcast), expiry; then the whole
// exchange through NetStack in frames (unconfigured accept, gratuitous ARP, ARP for the server
// before the unicast renewal).

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ARP_OP_REPLY, ARP_OP_REQUEST } from '@kiln/common/wire/arp.ts';
import { BOOTREPLY, DHCPACK, DHCPDISCOVER, DHCPNAK, DHCPOFFER, DHCPREQUEST, type DhcpRepr } from '@kiln/common/wire/dhcp.ts';
import { ETHERTYPE_IPV4, MAC_BROADCAST } from '@kiln/common/wire/ethernet.ts';
import { IP_PROTO_UDP } from '@kiln/common/wire/ipv4.ts';
import { arpFrame, decode, dhcp, ethFrame, ip, ipv4, udp, type Decoded } from '../testing/net_frames.ts';
import { DhcpClient, NAK_PAUSE_FIRST_MS, REQUEST_TRIES, RENEW_RETRY_MIN_MS, type DhcpLease } from './dhcp_client.ts';
import { NetStack } from './stack.ts';
import type { TcpLayerApi } from './types.ts';

const MAC = 0x024b4c4e0001;
const SERVER = ip('10.0.2.2');
const SERVER_MAC = 0x02aaaaaaaa02;
const OFFERED = ip('10.0.2.15');

function client(hostname?: string) {
  const clock = { t: 10_000 };
  const sent: { m: DhcpRepr; dst: number; at: number }[] = [];
  const events: string[] = [];
  const leases: DhcpLease[] = [];
  let seed = 0;
  const c = new DhcpClient({
    mac: MAC, hostname, now: () => clock.t, random: (b) => b.forEach((_, i) => (b[i] = (seed = (seed * 73 + 41) & 0xff))),
    send: (m, dst) => sent.push({ m, dst, at: clock.t }),
    onBound: (l) => {
      leases.push(l);
      events.push(`bound ${l.address}`);
    },
    onLost: () => events.push('lost'),
  });
  /** Advances to the next deadline (at most `limit` ms ahead) and polls. */
  const step = (limit = Infinity): boolean => {
    const d = c.nextDeadline();
    if (d === undefined || d - clock.t > limit) return false;
    clock.t = Math.max(clock.t, d);
    c.poll();
    return true;
  };
  return { clock, sent, events, leases, c, step };
}

function reply(type: number, xid: number, extra: Partial<DhcpRepr> = {}): DhcpRepr {
  return {
    op: BOOTREPLY, messageType: type, xid, secs: 0, broadcast: false, clientIp: 0, yourIp: type === DHCPNAK ? 0 : OFFERED, serverIp: SERVER, relayIp: 0,
    clientMac: MAC, serverId: SERVER, ...(type === DHCPNAK ? {} : { subnetMask: 0xffffff00, routers: [SERVER], dnsServers: [ip('10.0.2.3')], leaseTime: 3600 }), ...extra,
  };
}

test('dhcp_discover_offer_request_ack', () => {
  const { c, sent, leases, clock } = client('kiln');
  c.start();
  assert.equal(c.state, 'selecting');
  const [d] = sent.splice(0);
  assert.equal(d!.dst, 0xffffffff);
  assert.equal(d!.m.messageType, DHCPDISCOVER);
  assert.equal(d!.m.clientMac, MAC);
  assert.equal(d!.m.hostname, 'kiln');
  assert.deepEqual(d!.m.parameterRequestList, [1, 3, 6, 51, 58, 59]);
  const xid = d!.m.xid;
  clock.t += 5;
  c.input(reply(DHCPOFFER, xid));
  assert.equal(c.state, 'requesting');
  const [r] = sent.splice(0);
  assert.deepEqual([r!.dst, r!.m.messageType, r!.m.xid, r!.m.requestedIp, r!.m.serverId, r!.m.clientIp], [0xffffffff, DHCPREQUEST, xid, OFFERED, SERVER, 0]);
  c.input(reply(DHCPOFFER, xid, { yourIp: ip('10.0.2.99') }));
  assert.equal(sent.length, 0, 'a second offer is ignored');
  clock.t += 5;
  c.input(reply(DHCPACK, xid));
  assert.equal(c.state, 'bound');
  assert.deepEqual(leases, [{
    address: OFFERED, netmask: 0xffffff00, gateway: SERVER, dns: [ip('10.0.2.3')], serverId: SERVER, leaseTime: 3600,
    renewAt: 10_000 + 1_800_000, rebindAt: 10_000 + 3_150_000, expiresAt: 10_000 + 3_600_000,
  }], 'T1 = 0.5, T2 = 0.875 of the lease, from when the exchange began');
  assert.equal(c.nextDeadline(), 10_000 + 1_800_000);
});

test('dhcp_ignores_other_transactions_clients_and_requests', () => {
  const { c, sent } = client();
  c.start();
  const xid = sent.splice(0)[0]!.m.xid;
  c.input(reply(DHCPOFFER, xid + 1));
  c.input(reply(DHCPOFFER, xid, { clientMac: MAC + 1 }));
  c.input({ ...reply(DHCPOFFER, xid), op: 1 });
  c.input(reply(DHCPOFFER, xid, { yourIp: 0 }));
  c.input(reply(DHCPOFFER, xid, { serverId: undefined }));
  c.input(reply(DHCPACK, xid));
  assert.equal(c.state, 'selecting');
  assert.equal(sent.length, 0);
});

test('dhcp_discover_retransmits_with_backoff', () => {
  const { c, sent, step } = client();
  c.start();
  for (let i = 0; i < 7; i++) step();
  const gaps = sent.slice(1).map((s, i) => s.at - sent[i]!.at);
  const expected = [4000, 8000, 16000, 32000, 64000, 64000, 64000];
  assert.equal(gaps.length, expected.length);
  gaps.forEach((g, i) => assert.ok(Math.abs(g - expected[i]!) <= 1000, `gap ${i}: ${g}`));
  assert.ok(sent.every((s) => s.m.messageType === DHCPDISCOVER && s.m.xid === sent[0]!.m.xid));
  assert.ok(sent[3]!.m.secs >= 28, 'secs counts from the first DISCOVER');
});

test('dhcp_unanswered_request_restarts_discovery', () => {
  const { c, sent, step } = client();
  c.start();
  const xid = sent.splice(0)[0]!.m.xid;
  c.input(reply(DHCPOFFER, xid));
  for (let i = 0; i < REQUEST_TRIES; i++) step();
  const types = sent.map((s) => s.m.messageType);
  assert.deepEqual(types, [...Array(REQUEST_TRIES).fill(DHCPREQUEST), DHCPDISCOVER]);
  assert.equal(sent[0]!.m.xid, xid, 'the REQUEST keeps the OFFER\'s xid');
  assert.notEqual(sent.at(-1)!.m.xid, xid, 'a new transaction');
  assert.equal(c.state, 'selecting');
});

test('dhcp_nak_restarts_after_a_growing_pause', () => {
  const { c, sent, clock, step, events } = client();
  c.start();
  for (const pause of [NAK_PAUSE_FIRST_MS, 2 * NAK_PAUSE_FIRST_MS]) {
    const xid = sent.splice(0).at(-1)!.m.xid;
    c.input(reply(DHCPOFFER, xid));
    sent.splice(0);
    c.input(reply(DHCPNAK, xid, { message: 'wrong network' }));
    assert.equal(c.state, 'init');
    assert.equal(c.nextDeadline(), clock.t + pause);
    assert.ok(step());
    assert.equal(sent[0]!.m.messageType, DHCPDISCOVER);
  }
  assert.deepEqual(events, [], 'never bound, nothing lost');
  assert.equal(c.stats.naks, 2);
});

function boundClient(leaseTime: number, extra: Partial<DhcpRepr> = {}) {
  const h = client();
  h.c.start();
  const xid = h.sent.splice(0)[0]!.m.xid;
  h.c.input(reply(DHCPOFFER, xid));
  h.c.input(reply(DHCPACK, xid, { leaseTime, ...extra }));
  h.sent.splice(0);
  return h;
}

test('dhcp_renews_at_t1_unicast_rebinds_at_t2_broadcast_and_expires', () => {
  const { c, sent, events, clock, step } = boundClient(400);
  const t0 = clock.t;
  assert.ok(step());
  assert.equal(clock.t, t0 + 200_000);
  assert.equal(c.state, 'renewing');
  const [renew] = sent.splice(0);
  assert.deepEqual([renew!.dst, renew!.m.messageType, renew!.m.clientIp, renew!.m.requestedIp, renew!.m.serverId], [SERVER, DHCPREQUEST, OFFERED, undefined, undefined]);
  // half of the 150 s left to T2 is 75 s (over the 60 s minimum)
  assert.ok(step());
  assert.equal(clock.t, t0 + 275_000);
  assert.equal(sent.splice(0)[0]!.dst, SERVER);
  // 75 s left: at least 60 s → capped at T2 (350 s)
  assert.ok(step());
  assert.equal(clock.t, t0 + 335_000);
  sent.splice(0);
  assert.ok(step());
  assert.equal(clock.t, t0 + 350_000);
  assert.equal(c.state, 'rebinding');
  const [rebind] = sent.splice(0);
  assert.deepEqual([rebind!.dst, rebind!.m.clientIp], [0xffffffff, OFFERED]);
  while (c.state === 'rebinding') assert.ok(step());
  assert.equal(clock.t, t0 + 400_000);
  assert.deepEqual(events, [`bound ${OFFERED}`, 'lost']);
  assert.equal(sent.at(-1)!.m.messageType, DHCPDISCOVER);
  assert.ok(RENEW_RETRY_MIN_MS === 60_000);
});

test('dhcp_renewal_ack_extends_the_lease_from_the_renewal_start', () => {
  const { c, sent, leases, clock, step } = boundClient(400, { renewalTime: 100, rebindingTime: 300 });
  const t0 = clock.t;
  assert.equal(c.nextDeadline(), t0 + 100_000);
  step();
  const xid = sent.splice(0)[0]!.m.xid;
  clock.t += 10;
  c.input(reply(DHCPACK, xid, { leaseTime: 400, renewalTime: 100, rebindingTime: 300 }));
  assert.equal(c.state, 'bound');
  assert.equal(leases.at(-1)!.renewAt, t0 + 200_000);
  assert.equal(leases.at(-1)!.expiresAt, t0 + 500_000);
});

test('dhcp_nak_while_renewing_drops_the_address', () => {
  const { c, sent, events, step } = boundClient(400);
  step();
  const xid = sent.splice(0)[0]!.m.xid;
  c.input(reply(DHCPNAK, xid));
  assert.deepEqual(events, [`bound ${OFFERED}`, 'lost']);
  assert.equal(c.state, 'init');
  step();
  assert.equal(sent[0]!.m.messageType, DHCPDISCOVER);
});

test('dhcp_infinite_lease_never_renews_and_bad_mask_falls_back', () => {
  const { c, leases } = boundClient(0xffffffff, { subnetMask: 0xff00ff00, routers: [ip('192.168.0.1'), SERVER] });
  assert.equal(c.nextDeadline(), undefined);
  assert.equal(leases[0]!.netmask, 0xff000000, 'class A default for a non-contiguous mask');
  assert.equal(leases[0]!.gateway, SERVER, 'the first router on our network');
});

test('netstack_dhcp_exchange_in_frames', () => {
  const clock = { t: 0 };
  const frames: Uint8Array[] = [];
  const fakeTcp = (): TcpLayerApi => ({ input() {}, listen: () => assert.fail(), connect: () => assert.fail(), poll() {}, nextDeadline: () => undefined });
  const stack = new NetStack({
    mac: MAC, mtu: 1500, now: () => clock.t, random: (b) => b.fill(1), transmit: (f) => frames.push(f.slice()), config: { method: 'dhcp', hostname: '' }, tcp: fakeTcp,
  });
  let changes = 0;
  stack.onAddressChange = () => changes++;
  stack.start();
  const take = (): Decoded[] => frames.splice(0).map(decode);
  const [discover] = take();
  assert.deepEqual([discover!.ethDst, discover!.ip!.src, discover!.ip!.dst, discover!.udp!.srcPort, discover!.udp!.dstPort], [MAC_BROADCAST, 0, 0xffffffff, 68, 67]);
  const xid = discover!.dhcp!.xid;
  const fromServer = (m: DhcpRepr, dst: number, ethDst = MAC): void => {
    stack.receive(ethFrame(ethDst, SERVER_MAC, ETHERTYPE_IPV4, ipv4(SERVER, dst, IP_PROTO_UDP, udp(SERVER, 67, dst, 68, dhcp(m)))));
  };
  fromServer(reply(DHCPOFFER, xid), OFFERED); // unicast to the offered address, before we have it
  const [request] = take();
  assert.equal(request!.dhcp!.messageType, DHCPREQUEST);
  fromServer(reply(DHCPACK, xid, { leaseTime: 100 }), 0xffffffff, MAC_BROADCAST);
  assert.ok(stack.configured);
  assert.equal(stack.iface.address, OFFERED);
  assert.deepEqual(stack.dns, [ip('10.0.2.3')]);
  assert.equal(changes, 1);
  const [announce] = take();
  assert.deepEqual(announce!.arp, { operation: ARP_OP_REQUEST, senderMac: MAC, senderIp: OFFERED, targetMac: 0, targetIp: OFFERED });
  // T1: the unicast REQUEST needs the server's MAC first
  clock.t = stack.nextDeadline()!;
  assert.equal(clock.t, 50_000);
  stack.poll();
  const [arp] = take();
  assert.equal(arp!.arp!.targetIp, SERVER);
  stack.receive(arpFrame(MAC, { operation: ARP_OP_REPLY, senderMac: SERVER_MAC, senderIp: SERVER, targetMac: MAC, targetIp: OFFERED }));
  const [renew] = take();
  assert.deepEqual([renew!.ethDst, renew!.ip!.src, renew!.ip!.dst, renew!.dhcp!.messageType, renew!.dhcp!.clientIp], [SERVER_MAC, OFFERED, SERVER, DHCPREQUEST, OFFERED]);
  fromServer(reply(DHCPNAK, renew!.dhcp!.xid), OFFERED);
  assert.ok(!stack.configured);
  assert.equal(changes, 2);
});
