// kiln:net's UDP sockets, interfaces() and configured() on two stacks joined by a simulated
// link (testing/sim_net.ts), through NetApi and StackDriver: datagrams both ways (ARP
// resolved on the way), queue bound, send errors, argument errors, and the keep-alive rule
// (the driver listens to the device and arms timers only while something is open), configured()
// waiting for DHCP from a scripted server, and a connect timeout while DHCP never answers.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { BOOTREPLY, DHCPACK, DHCPDISCOVER, DHCPOFFER } from '@kiln/common/wire/dhcp.ts';
import { ETHERTYPE_IPV4, MAC_BROADCAST } from '@kiln/common/wire/ethernet.ts';
import { IP_PROTO_UDP } from '@kiln/common/wire/ipv4.ts';
import { decode, dhcp, ethFrame, ip, ipv4, udp } from '../testing/net_frames.ts';
import { SimClock, SimLink, runUntil } from '../testing/sim_net.ts';
import { NetApi } from './api.ts';
import { StackDriver } from './driver.ts';
import type { IpConfig } from './ip_config.ts';
import { NetError, type TcpLayerApi } from './types.ts';
import { UDP_QUEUE_MAX } from './udp_conn.ts';

const noTcp = (): TcpLayerApi => ({
  input() {}, listen: () => assert.fail('no TCP here'), connect: () => assert.fail('no TCP here'), poll() {}, nextDeadline: () => undefined,
});

const staticCfg = (address: number, gateway = 0): IpConfig => ({ method: 'static', address, netmask: 0xffffff00, gateway, hostname: 'sim', dns: [0x08080808] });

function pair(o: { loss?: number } = {}) {
  const clock = new SimClock();
  const link = new SimLink(clock, { seed: 7, loss: o.loss ?? 0, delayMs: 1 });
  const da = new StackDriver(link.a, clock.env(1), staticCfg(0x0a00020f, 0x0a000202), noTcp);
  const db = new StackDriver(link.b, clock.env(2), staticCfg(0x0a000202), noTcp);
  return { clock, link, a: new NetApi(() => da), b: new NetApi(() => db), da, db };
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

test('udp_datagrams_both_ways_over_a_link', async () => {
  const { clock, a, b } = pair();
  const sa = a.listenDatagram({ port: 0 });
  const sb = b.listenDatagram({ port: 53, hostname: '10.0.2.2' });
  assert.deepEqual(sb.addr, { transport: 'udp', hostname: '10.0.2.2', port: 53 });
  assert.ok(sa.addr.port >= 49152);
  assert.equal(await sa.send(enc('query'), { hostname: '10.0.2.2', port: 53 }), 5);
  let got: { data: Uint8Array; remoteAddr: unknown } | undefined;
  void sb.receive().then((d) => (got = d));
  await runUntil(clock, () => got !== undefined);
  assert.equal(dec(got!.data), 'query');
  assert.deepEqual(got!.remoteAddr, { transport: 'udp', hostname: '10.0.2.15', port: sa.addr.port });
  await sb.send(enc('answer'), { hostname: '10.0.2.15', port: sa.addr.port });
  let back: { data: Uint8Array } | undefined;
  void sa.receive().then((d) => (back = d));
  await runUntil(clock, () => back !== undefined);
  assert.equal(dec(back!.data), 'answer');
  sa.close();
  sb.close();
  await assert.rejects(sa.receive(), (e: unknown) => e instanceof NetError && e.code === 'EBADF');
});

test('udp_receive_queue_is_bounded_and_iteration_ends_at_close', async () => {
  const { clock, a, b } = pair();
  const sa = a.listenDatagram({ port: 1000 });
  const sb = b.listenDatagram({ port: 2000 });
  await sa.send(Uint8Array.of(255), { hostname: '10.0.2.2', port: 2000 }); // resolves ARP (its queue holds 16 packets)
  let first: Uint8Array | undefined;
  void sb.receive().then((d) => (first = d.data));
  await runUntil(clock, () => first !== undefined);
  for (let i = 0; i < UDP_QUEUE_MAX + 5; i++) await sa.send(Uint8Array.of(i), { hostname: '10.0.2.2', port: 2000 });
  await runUntil(clock, () => clock.pending === 0);
  assert.equal(sb.dropped, 5);
  const seen: number[] = [];
  const iter = (async () => {
    for await (const d of sb) {
      seen.push(d.data[0]!);
      if (seen.length === UDP_QUEUE_MAX) break;
    }
  })();
  await iter;
  assert.deepEqual(seen, Array.from({ length: UDP_QUEUE_MAX }, (_, i) => i));
  sa.close();
});

test('udp_send_and_argument_errors', async () => {
  const { a } = pair();
  const s = a.listenDatagram({ port: 0 });
  const code = (c: string) => (e: unknown) => e instanceof NetError && e.code === c;
  await assert.rejects(s.send(new Uint8Array(1473), { hostname: '10.0.2.2', port: 9 }), code('EMSGSIZE'));
  await assert.rejects(s.send(new Uint8Array(1), { hostname: 'example.com', port: 9 }), code('EINVAL'));
  await assert.rejects(s.send(new Uint8Array(1), { hostname: '10.0.2.2', port: 0 }), code('EINVAL'));
  assert.throws(() => a.listenDatagram({ port: s.addr.port }), code('EADDRINUSE'));
  assert.throws(() => a.listenDatagram({ port: 1, hostname: '10.0.2.99' }), code('EADDRNOTAVAIL'));
  assert.throws(() => a.listenDatagram({ port: -1 }), code('EINVAL'));
  s.close();
});

test('interfaces_and_configured', async () => {
  const { a } = pair();
  const [i] = a.interfaces();
  assert.deepEqual(i, {
    name: 'eth0', mac: '02:4b:4c:4e:0a:01', mtu: 1500, method: 'static', address: '10.0.2.15', netmask: '255.255.255.0', prefixLength: 24,
    gateway: '10.0.2.2', dns: ['8.8.8.8'], hostname: 'sim',
  });
  assert.deepEqual(await a.configured(), i);
  const clock = new SimClock();
  const link = new SimLink(clock, { seed: 1 });
  const off = new NetApi(() => new StackDriver(link.a, clock.env(1), { method: 'off' }, noTcp));
  await assert.rejects(off.configured(), (e: unknown) => e instanceof NetError && e.code === 'ENETUNREACH');
  const none = new NetApi(() => {
    throw new NetError('ENODEV', 'no network device 0');
  });
  assert.deepEqual(none.interfaces(), []);
  await assert.rejects(none.configured(), (e: unknown) => e instanceof NetError && e.code === 'ENODEV');
});

test('the_driver_listens_and_keeps_timers_only_while_held', async () => {
  const { clock, a, da } = pair();
  assert.equal(da.held, false);
  const s = a.listenDatagram({ port: 0 });
  assert.equal(da.held, true);
  await s.send(Uint8Array.of(1), { hostname: '10.0.2.77', port: 9 }); // nobody answers ARP: a retry timer
  await runUntil(clock, () => clock.pending > 0);
  s.close();
  assert.equal(da.held, false);
  await runUntil(clock, () => clock.pending === 0, 10_000);
  assert.equal(clock.pending, 0, 'no timer left once everything is closed');
});

test('configured_waits_for_dhcp_and_a_connect_timeout_lets_go_without_it', async () => {
  const clock = new SimClock();
  const link = new SimLink(clock, { seed: 3 });
  const d = new StackDriver(link.a, clock.env(1), { method: 'dhcp', hostname: '' }, noTcp);
  const api = new NetApi(() => d);
  // nobody answers DHCP: a connect with a timeout fails and holds nothing afterwards
  let failed: unknown;
  api.connect({ hostname: '10.0.2.2', port: 80, timeoutMs: 1500 }).catch((e: unknown) => (failed = e));
  await runUntil(clock, () => failed !== undefined);
  assert.ok(failed instanceof NetError && failed.code === 'ETIMEDOUT');
  assert.equal(d.held, false);
  // a scripted server on the other end of the link answers the next exchange
  const server = link.b;
  server.listen((f) => {
    const m = decode(f).dhcp;
    if (!m) return;
    const type = m.messageType === DHCPDISCOVER ? DHCPOFFER : DHCPACK;
    const reply = dhcp({
      op: BOOTREPLY, messageType: type, xid: m.xid, secs: 0, broadcast: false, clientIp: 0, yourIp: ip('10.0.2.15'), serverIp: ip('10.0.2.2'), relayIp: 0,
      clientMac: m.clientMac, serverId: ip('10.0.2.2'), subnetMask: 0xffffff00, routers: [ip('10.0.2.2')], leaseTime: 600,
    });
    server.send(ethFrame(MAC_BROADCAST, 0x024b4c4e0b02, ETHERTYPE_IPV4, ipv4(ip('10.0.2.2'), 0xffffffff, IP_PROTO_UDP, udp(ip('10.0.2.2'), 67, 0xffffffff, 68, reply))));
  });
  let info: { address: string | undefined; method: string } | undefined;
  void api.configured().then((i) => (info = i));
  await runUntil(clock, () => info !== undefined);
  assert.deepEqual([info!.address, info!.method], ['10.0.2.15', 'dhcp']);
  assert.equal(d.held, false, 'configured() lets go once it resolved');
});
