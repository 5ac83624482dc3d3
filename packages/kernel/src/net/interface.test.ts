// The interface with a fake clock and a recording link: ARP (answers, resolution with a
// bounded queue, retries and giving up, expiry with unicast re-validation, gratuitous ARP,
// conflicts), IPv4 (checksum, header checks, fragment drops, TTL, not-for-us, routing to the
// gateway, no route), ICMP (echo reply, port/protocol unreachable with rate limiting, none for
// broadcasts) and UDP (bindings, ephemeral ports, EMSGSIZE, loopback at the next poll).

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ARP_OP_REPLY, ARP_OP_REQUEST } from '@kiln/common/wire/arp.ts';
import { ETHERTYPE_IPV4, MAC_BROADCAST } from '@kiln/common/wire/ethernet.ts';
import { ICMP_UNREACH_PORT, ICMP_UNREACH_PROTOCOL } from '@kiln/common/wire/icmp.ts';
import { IP_PROTO_ICMP, IP_PROTO_UDP } from '@kiln/common/wire/ipv4.ts';
import { arpFrame, decode, ethFrame, icmp, ip, ipv4, udp, type Decoded } from '../testing/net_frames.ts';
import { ENTRY_LIFETIME_MS, FAILED_HOLD_MS, QUEUE_PER_ADDR, REQUEST_INTERVAL_MS, REQUEST_TRIES } from './arp_cache.ts';
import { ICMP_ERROR_BURST, Interface } from './interface.ts';
import { NetError } from './types.ts';

const MAC = 0x024b4c4e0001;
const PEER_MAC = 0x02aaaaaaaa01;
const GW_MAC = 0x02aaaaaaaa02;
const ME = ip('10.0.2.15');
const PEER = ip('10.0.2.1');
const GW = ip('10.0.2.2');

function setup(o: { configure?: boolean; gateway?: number; mtu?: number } = {}) {
  const clock = { t: 1000 };
  const sent: Uint8Array[] = [];
  const iface = new Interface({ mac: MAC, mtu: o.mtu ?? 1500, now: () => clock.t, random: (b) => b.fill(7), transmit: (f) => sent.push(f.slice()) });
  if (o.configure !== false) iface.configure({ address: ME, netmask: 0xffffff00, gateway: o.gateway ?? GW });
  const take = (): Decoded[] => sent.splice(0).map(decode);
  take();
  const fromPeer = (packet: Uint8Array, srcMac = PEER_MAC, dstMac = MAC): void => iface.receive(ethFrame(dstMac, srcMac, ETHERTYPE_IPV4, packet));
  const peerIsAt = (ipAddr: number, mac: number): void => {
    iface.receive(arpFrame(MAC, { operation: ARP_OP_REPLY, senderMac: mac, senderIp: ipAddr, targetMac: MAC, targetIp: ME }));
  };
  return { clock, iface, take, fromPeer, peerIsAt };
}

const bytes = (...v: number[]): Uint8Array => Uint8Array.from(v);

test('arp_request_for_our_address_is_answered_and_sender_learned', () => {
  const { iface, take, clock } = setup();
  iface.receive(arpFrame(MAC_BROADCAST, { operation: ARP_OP_REQUEST, senderMac: PEER_MAC, senderIp: PEER, targetMac: 0, targetIp: ME }));
  const [r] = take();
  assert.deepEqual(r, {
    ethDst: PEER_MAC, ethSrc: MAC, ethertype: 0x0806,
    arp: { operation: ARP_OP_REPLY, senderMac: MAC, senderIp: ME, targetMac: PEER_MAC, targetIp: PEER },
  });
  // the sender was learned: a datagram to it goes out at once
  const b = iface.bindUdp(0, 5000);
  assert.equal(b.send(bytes(1), PEER, 53), undefined);
  const [d] = take();
  assert.equal(d!.ethDst, PEER_MAC);
  assert.equal(clock.t, 1000);
});

test('arp_request_for_another_address_is_ignored_and_not_learned', () => {
  const { iface, take } = setup();
  iface.receive(arpFrame(MAC_BROADCAST, { operation: ARP_OP_REQUEST, senderMac: PEER_MAC, senderIp: PEER, targetMac: 0, targetIp: ip('10.0.2.99') }));
  assert.deepEqual(take(), []);
  iface.bindUdp(0, 5000).send(bytes(1), PEER, 53);
  assert.equal(take()[0]!.arp?.operation, ARP_OP_REQUEST, 'still has to ask');
});

test('gratuitous_arp_on_configure_and_conflicts_counted', () => {
  const { iface, take } = setup({ configure: false });
  iface.configure({ address: ME, netmask: 0xffffff00, gateway: GW });
  assert.deepEqual(take(), [{
    ethDst: MAC_BROADCAST, ethSrc: MAC, ethertype: 0x0806, arp: { operation: ARP_OP_REQUEST, senderMac: MAC, senderIp: ME, targetMac: 0, targetIp: ME },
  }]);
  iface.configure({ address: ME, netmask: 0xffffff00, gateway: GW });
  assert.deepEqual(take(), [], 'same address: no new announcement');
  iface.receive(arpFrame(MAC_BROADCAST, { operation: ARP_OP_REQUEST, senderMac: PEER_MAC, senderIp: ME, targetMac: 0, targetIp: ME }));
  assert.equal(iface.stats.arpConflicts, 1);
});

test('arp_resolve_queues_packets_then_sends_them_in_order', () => {
  const { iface, take, peerIsAt } = setup();
  const b = iface.bindUdp(0, 5000);
  for (let i = 0; i < 3; i++) assert.equal(b.send(bytes(i), PEER, 53), undefined);
  const asked = take();
  assert.equal(asked.length, 1, 'one request for three packets');
  assert.deepEqual(asked[0]!.arp, { operation: ARP_OP_REQUEST, senderMac: MAC, senderIp: ME, targetMac: 0, targetIp: PEER });
  assert.equal(asked[0]!.ethDst, MAC_BROADCAST);
  peerIsAt(PEER, PEER_MAC);
  const out = take();
  assert.deepEqual(out.map((d) => [d.ethDst, d.udp!.payload[0]]), [[PEER_MAC, 0], [PEER_MAC, 1], [PEER_MAC, 2]]);
});

test('arp_queue_keeps_the_newest_packets_per_address', () => {
  const { iface, take, peerIsAt } = setup();
  const b = iface.bindUdp(0, 5000);
  for (let i = 0; i < QUEUE_PER_ADDR + 3; i++) b.send(bytes(i), PEER, 53);
  take();
  assert.equal(iface.stats.arpDrops, 3);
  peerIsAt(PEER, PEER_MAC);
  const out = take();
  assert.equal(out.length, QUEUE_PER_ADDR);
  assert.equal(out[0]!.udp!.payload[0], 3);
});

test('arp_retries_then_gives_up_and_holds_off', () => {
  const { iface, take, clock } = setup();
  const b = iface.bindUdp(0, 5000);
  b.send(bytes(1), PEER, 53);
  assert.equal(take().length, 1);
  assert.equal(iface.nextDeadline(), clock.t + REQUEST_INTERVAL_MS);
  for (let i = 1; i < REQUEST_TRIES; i++) {
    clock.t += REQUEST_INTERVAL_MS;
    iface.poll();
    assert.equal(take()[0]!.arp!.targetIp, PEER, `retry ${i}`);
  }
  clock.t += REQUEST_INTERVAL_MS;
  iface.poll();
  assert.deepEqual(take(), []);
  assert.equal(iface.stats.arpDrops, 1, 'the queued packet is dropped');
  b.send(bytes(2), PEER, 53);
  assert.deepEqual(take(), [], 'not asked again during the hold');
  assert.equal(iface.stats.arpDrops, 2);
  clock.t += FAILED_HOLD_MS;
  iface.poll();
  assert.equal(iface.nextDeadline(), undefined);
  b.send(bytes(3), PEER, 53);
  assert.equal(take()[0]!.arp!.operation, ARP_OP_REQUEST);
});

test('arp_expired_entry_is_used_while_revalidated_by_unicast', () => {
  const { iface, take, clock, peerIsAt } = setup();
  peerIsAt(PEER, PEER_MAC);
  const b = iface.bindUdp(0, 5000);
  clock.t += ENTRY_LIFETIME_MS;
  b.send(bytes(1), PEER, 53);
  const [d] = take();
  assert.equal(d!.udp!.payload[0], 1, 'sent at once with the stale MAC');
  assert.equal(iface.nextDeadline(), clock.t);
  iface.poll();
  const [probe] = take();
  assert.equal(probe!.ethDst, PEER_MAC, 'unicast re-validation');
  assert.equal(probe!.arp!.targetIp, PEER);
  peerIsAt(PEER, PEER_MAC);
  assert.equal(iface.nextDeadline(), undefined);
  // expired again, and this time nobody answers
  clock.t += ENTRY_LIFETIME_MS;
  b.send(bytes(2), PEER, 53);
  take();
  for (let i = 0; i <= REQUEST_TRIES; i++) {
    iface.poll();
    clock.t += REQUEST_INTERVAL_MS;
  }
  assert.equal(take().length, REQUEST_TRIES);
  b.send(bytes(3), PEER, 53);
  const [ask] = take();
  assert.equal(ask!.ethDst, MAC_BROADCAST, 'forgotten: broadcast request, packet queued');
});

test('off_link_destinations_go_to_the_gateway_and_need_one', () => {
  const { iface, take, peerIsAt } = setup();
  const b = iface.bindUdp(0, 5000);
  b.send(bytes(1), ip('8.8.8.8'), 53);
  assert.equal(take()[0]!.arp!.targetIp, GW);
  peerIsAt(GW, GW_MAC);
  const [d] = take();
  assert.equal(d!.ethDst, GW_MAC);
  assert.equal(d!.ip!.dst, ip('8.8.8.8'));
  assert.equal(d!.ip!.ttl, 64);
  assert.ok(d!.ip!.dontFragment && d!.ip!.checksumOk);

  const alone = setup({ gateway: 0 });
  const c = alone.iface.bindUdp(0, 5000);
  assert.equal(c.send(bytes(1), ip('8.8.8.8'), 53), 'ENETUNREACH');
  assert.equal(alone.iface.routeError(ip('8.8.8.8')), 'ENETUNREACH');
  assert.equal(alone.iface.routeError(PEER), undefined);
  assert.deepEqual(alone.take(), []);
});

test('broadcasts_need_no_arp', () => {
  const { iface, take } = setup();
  const b = iface.bindUdp(0, 5000);
  b.send(bytes(1), ip('255.255.255.255'), 67);
  b.send(bytes(2), ip('10.0.2.255'), 67);
  assert.deepEqual(take().map((d) => [d.ethDst, d.ip!.dst]), [[MAC_BROADCAST, ip('255.255.255.255')], [MAC_BROADCAST, ip('10.0.2.255')]]);
});

test('icmp_echo_request_is_answered', () => {
  const { iface, take, fromPeer, peerIsAt } = setup();
  peerIsAt(PEER, PEER_MAC);
  const data = Uint8Array.from({ length: 56 }, (_, i) => i);
  fromPeer(ipv4(PEER, ME, IP_PROTO_ICMP, icmp({ type: 'echoRequest', ident: 0x4242, seq: 7, data }), { ttl: 1 }));
  const [r] = take();
  assert.equal(r!.ethDst, PEER_MAC);
  assert.deepEqual({ src: r!.ip!.src, dst: r!.ip!.dst, ttl: r!.ip!.ttl, ok: r!.ip!.checksumOk }, { src: ME, dst: PEER, ttl: 64, ok: true });
  assert.deepEqual(r!.icmp, { type: 'echoReply', ident: 0x4242, seq: 7, data });
  assert.equal(iface.stats.icmpEchoRepliesSent, 1);
});

test('ipv4_bad_checksum_bad_header_fragments_and_other_hosts_are_dropped_and_counted', () => {
  const { iface, take, fromPeer, peerIsAt } = setup();
  peerIsAt(PEER, PEER_MAC);
  const ping = (): Uint8Array => ipv4(PEER, ME, IP_PROTO_ICMP, icmp({ type: 'echoRequest', ident: 1, seq: 1, data: bytes(1, 2, 3, 4) }));
  const bad = ping();
  bad[10] ^= 0xff;
  fromPeer(bad);
  const v6 = ping();
  v6[0] = 0x65;
  fromPeer(v6);
  fromPeer(ping().subarray(0, 30)); // shorter than its total length
  const icmpMsg = icmp({ type: 'echoRequest', ident: 1, seq: 1, data: bytes(1, 2, 3, 4) });
  fromPeer(ipv4(PEER, ME, IP_PROTO_ICMP, icmpMsg, { flagsFrag: 0x2000 })); // MF
  fromPeer(ipv4(PEER, ME, IP_PROTO_ICMP, icmpMsg, { flagsFrag: 0x0010 })); // offset 128
  fromPeer(ipv4(PEER, ip('10.0.2.77'), IP_PROTO_ICMP, icmpMsg));
  iface.receive(ethFrame(0x02bbbbbbbbbb, PEER_MAC, ETHERTYPE_IPV4, ping())); // another MAC
  assert.deepEqual(take(), []);
  const s = iface.stats;
  assert.deepEqual([s.ipBadChecksum, s.ipBadHeader, s.ipFragmentsDropped, s.ipNotForUs, s.rxFramesDropped], [1, 2, 2, 1, 1]);
  fromPeer(ipv4(PEER, ME, IP_PROTO_ICMP, icmpMsg, { flagsFrag: 0x4000 })); // DF only: whole
  assert.equal(take().length, 1);
});

test('ethernet_padding_after_the_ip_packet_is_ignored', () => {
  const { iface, take, fromPeer, peerIsAt } = setup();
  peerIsAt(PEER, PEER_MAC);
  const p = ipv4(PEER, ME, IP_PROTO_ICMP, icmp({ type: 'echoRequest', ident: 1, seq: 2, data: new Uint8Array(0) }));
  const padded = new Uint8Array(46);
  padded.set(p);
  padded.fill(0xee, p.length);
  fromPeer(padded);
  const [r] = take();
  assert.deepEqual(r!.icmp, { type: 'echoReply', ident: 1, seq: 2, data: new Uint8Array(0) });
});

test('udp_to_a_closed_port_gets_port_unreachable_quoting_the_datagram', () => {
  const { iface, take, fromPeer, peerIsAt } = setup();
  peerIsAt(PEER, PEER_MAC);
  const packet = ipv4(PEER, ME, IP_PROTO_UDP, udp(PEER, 4000, ME, 9999, Uint8Array.from({ length: 100 }, () => 0x55)));
  fromPeer(packet);
  const [r] = take();
  assert.equal(r!.icmp!.type, 'destUnreachable');
  assert.ok(r!.icmp!.type === 'destUnreachable' && r!.icmp!.code === ICMP_UNREACH_PORT);
  assert.deepEqual(r!.icmp!.data, packet.subarray(0, 28), 'IP header and the first 8 bytes');
  assert.equal(iface.stats.udpNoPort, 1);
});

test('icmp_errors_are_rate_limited_and_tokens_refill', () => {
  const { iface, take, fromPeer, peerIsAt, clock } = setup();
  peerIsAt(PEER, PEER_MAC);
  const packet = ipv4(PEER, ME, 99, bytes(1, 2, 3));
  for (let i = 0; i < 30; i++) fromPeer(packet);
  const out = take();
  assert.equal(out.length, ICMP_ERROR_BURST);
  assert.ok(out.every((d) => d.icmp?.type === 'destUnreachable' && d.icmp.code === ICMP_UNREACH_PROTOCOL));
  assert.equal(iface.stats.icmpRateLimited, 30 - ICMP_ERROR_BURST);
  assert.equal(iface.stats.ipUnknownProtocol, 30);
  clock.t += 500;
  for (let i = 0; i < 30; i++) fromPeer(packet);
  assert.equal(take().length, 5, '10 per second');
});

test('no_icmp_errors_for_broadcasts_or_about_icmp_errors', () => {
  const { iface, take, fromPeer, peerIsAt } = setup();
  peerIsAt(PEER, PEER_MAC);
  fromPeer(ipv4(PEER, ip('10.0.2.255'), IP_PROTO_UDP, udp(PEER, 1, ip('10.0.2.255'), 9, bytes(1))));
  fromPeer(ipv4(PEER, ME, IP_PROTO_UDP, udp(PEER, 1, ME, 9, bytes(1))), PEER_MAC, MAC_BROADCAST);
  const err = icmp({ type: 'destUnreachable', code: 3, nextHopMtu: 0, data: new Uint8Array(28) });
  fromPeer(ipv4(PEER, ME, IP_PROTO_ICMP, err));
  assert.deepEqual(take(), []);
  assert.equal(iface.stats.icmpErrorsReceived, 1);
  assert.equal(iface.stats.udpNoPort, 2);
});

test('without_a_tcp_layer_tcp_gets_protocol_unreachable', () => {
  const { take, fromPeer, peerIsAt } = setup();
  peerIsAt(PEER, PEER_MAC);
  fromPeer(ipv4(PEER, ME, 6, new Uint8Array(20)));
  const [r] = take();
  assert.ok(r!.icmp?.type === 'destUnreachable' && r!.icmp.code === ICMP_UNREACH_PROTOCOL);
});

test('tcp_segments_go_to_the_tcp_layer_and_out_through_sendSegment', () => {
  const { iface, take, fromPeer, peerIsAt } = setup();
  peerIsAt(PEER, PEER_MAC);
  const got: [number, number, number[]][] = [];
  iface.tcp = {
    input: (src, dst, seg) => got.push([src, dst, [...seg]]),
    listen: () => assert.fail(), connect: () => assert.fail(), poll() {}, nextDeadline: () => undefined,
  };
  fromPeer(ipv4(PEER, ME, 6, bytes(1, 2, 3, 4)));
  fromPeer(ipv4(PEER, ip('10.0.2.255'), 6, bytes(5)));
  assert.deepEqual(got, [[PEER, ME, [1, 2, 3, 4]]], 'broadcast TCP is dropped');
  iface.sendSegment(ME, PEER, bytes(9, 8, 7));
  const [d] = take();
  assert.deepEqual([d!.ip!.protocol, [...d!.ip!.payload]], [6, [9, 8, 7]]);
  assert.equal(iface.mssFor(PEER), 1460);
  assert.ok(iface.isLocalAddr(ME) && iface.isLocalAddr(ip('127.0.0.1')) && !iface.isLocalAddr(PEER));
});

test('udp_bindings_deliver_and_refuse', () => {
  const { iface, take, fromPeer, peerIsAt } = setup({ mtu: 576 });
  peerIsAt(PEER, PEER_MAC);
  const b = iface.bindUdp(0, 7);
  const got: unknown[] = [];
  b.onDatagram = (p, src, sport, dst) => got.push([[...p], src, sport, dst]);
  fromPeer(ipv4(PEER, ME, IP_PROTO_UDP, udp(PEER, 1234, ME, 7, bytes(1, 2))));
  assert.deepEqual(got, [[[1, 2], PEER, 1234, ME]]);
  const corrupt = udp(PEER, 1234, ME, 7, bytes(1, 2));
  corrupt[9] ^= 1;
  fromPeer(ipv4(PEER, ME, IP_PROTO_UDP, corrupt));
  assert.equal(got.length, 1);
  assert.equal(iface.stats.udpBadChecksum, 1);
  assert.throws(() => iface.bindUdp(0, 7), (e: unknown) => e instanceof NetError && e.code === 'EADDRINUSE');
  assert.throws(() => iface.bindUdp(0, 70000), (e: unknown) => e instanceof NetError && e.code === 'EINVAL');
  const eph = iface.bindUdp(0, 0);
  assert.ok(eph.port >= 49152);
  assert.equal(eph.send(new Uint8Array(576 - 28 + 1), PEER, 9), 'EMSGSIZE');
  assert.equal(eph.send(new Uint8Array(576 - 28), PEER, 9), undefined);
  assert.equal(take().length, 1);
  b.close();
  assert.equal(b.send(bytes(1), PEER, 9), 'EBADF');
  iface.bindUdp(0, 7).close();
});

test('packets_to_ourselves_loop_back_at_the_next_poll', () => {
  const { iface, take, clock } = setup();
  const a = iface.bindUdp(0, 1000);
  const b = iface.bindUdp(0, 2000);
  const got: unknown[] = [];
  b.onDatagram = (p, src, sport, dst) => got.push([[...p], src, sport, dst]);
  a.send(bytes(5), ME, 2000);
  a.send(bytes(6), ip('127.0.0.1'), 2000);
  assert.deepEqual(got, [], 'not delivered inside send');
  assert.equal(iface.nextDeadline(), clock.t);
  iface.poll();
  assert.deepEqual(got, [[[5], ME, 1000, ME], [[6], ip('127.0.0.1'), 1000, ip('127.0.0.1')]]);
  assert.deepEqual(take(), [], 'nothing on the wire');
});

test('unconfigured_interface_accepts_udp_to_any_address_and_sends_from_0', () => {
  const { iface, take, fromPeer } = setup({ configure: false });
  const b = iface.bindUdp(0, 68);
  const got: number[] = [];
  b.onDatagram = (_p, _s, _sp, dst) => got.push(dst);
  fromPeer(ipv4(GW, ip('10.0.2.15'), IP_PROTO_UDP, udp(GW, 67, ip('10.0.2.15'), 68, bytes(1))));
  assert.deepEqual(got, [ip('10.0.2.15')]);
  fromPeer(ipv4(GW, ip('10.0.2.15'), IP_PROTO_ICMP, icmp({ type: 'echoRequest', ident: 1, seq: 1, data: bytes() })));
  assert.equal(iface.stats.ipNotForUs, 1);
  b.send(bytes(1), ip('255.255.255.255'), 67);
  const [d] = take();
  assert.deepEqual([d!.ethDst, d!.ip!.src, d!.ip!.dst], [MAC_BROADCAST, 0, ip('255.255.255.255')]);
  assert.equal(b.send(bytes(1), GW, 67), 'ENETUNREACH');
});
