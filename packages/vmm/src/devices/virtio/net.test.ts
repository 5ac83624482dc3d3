// virtio-net device tests through the mock driver (mock_driver.ts): config (MAC, MTU, link up),
// transmit (header stripped, frame to the backend, chain returned), receive (header with
// num_buffers = 1, frame in the chain), frames buffered until the driver posts buffers and the
// bounded backlog, small buffers, oversize frames, budgeted draining, passt argument building,
// a backend with the vnet header (TAP's IFF_VNET_HDR): transmit gives it an all-zero header
// whatever the guest wrote, receive gives the guest the backend's with num_buffers 1, no DATA_VALID.
// Spec: virtio 1.2 §5.1.

import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'node:test';
import * as V from '@kiln/common/virtio/index.ts';
import { VirtioMmio } from './mmio.ts';
import { QUEUE_TURN_BUDGET } from './device.ts';
import { RX_BACKLOG_MAX, VirtioNet, defaultMac, formatMac, type NetBackend } from './net.ts';
import { ETHERNET_MAX_OVERHEAD } from '@kiln/common/wire/ethernet.ts';
import { PasstBackend, guestAnnouncement, tcpListening } from './net_backend.ts';
import { ARP_OP_REQUEST, parseArp } from '@kiln/common/wire/arp.ts';
import { ETHERNET_HEADER_LEN, ETHERTYPE_ARP, MAC_BROADCAST, formatMac as formatEthernetMac, parseEthernet } from '@kiln/common/wire/ethernet.ts';
import { parseIpv4Addr } from '@kiln/common/wire/ipv4.ts';
import { freeLoopbackPort } from '@kiln/common/testing/free_port.ts';
import { FEATURES_BASE, MockDriver, guardedRam, guardsIntact } from './mock_driver.ts';

export class LoopBackend implements NetBackend {
  readonly name = 'test';
  sent: Uint8Array[] = [];
  cb: ((f: Uint8Array) => void) | undefined;
  closed = false;
  send(frame: Uint8Array): void {
    this.sent.push(frame);
  }
  onFrame(cb: (f: Uint8Array) => void): void {
    this.cb = cb;
  }
  inject(f: Uint8Array): void {
    this.cb!(f);
  }
  close(): void {
    this.closed = true;
  }
}

const NET_FEATURES = FEATURES_BASE | V.featureBit(V.VIRTIO_NET_F_MAC) | V.featureBit(V.VIRTIO_NET_F_MTU) | V.featureBit(V.VIRTIO_NET_F_STATUS);
const RX = V.VIRTIO_NET_RECEIVEQ;
const TX = V.VIRTIO_NET_TRANSMITQ;

class VnetHdrBackend extends LoopBackend {
  readonly vnetHdr = true;
}

function setup(size = 16, be: LoopBackend = new LoopBackend()): { d: MockDriver; t: VirtioMmio; be: LoopBackend; net: VirtioNet; irqs: () => number } {
  const ram = guardedRam(1 << 20);
  const net = new VirtioNet(be, { mac: defaultMac(7) });
  let irqs = 0;
  const t = new VirtioMmio(net, { mem: ram, interrupt: () => irqs++ });
  const d = new MockDriver(ram, t);
  d.init(NET_FEATURES, size);
  return { d, t, be, net, irqs: () => irqs };
}

const frame = (n: number, fill = 0xab): Uint8Array => new Uint8Array(n).fill(fill);

test('net: config space has the MAC, link up, one queue pair and the MTU', () => {
  const { d } = setup();
  assert.equal(d.rd(V.VIRTIO_MMIO_DEVICE_ID), V.VIRTIO_ID_NET);
  const cfg = new Uint8Array(V.VIRTIO_NET_CONFIG_SIZE);
  d.t.read(V.VIRTIO_MMIO_CONFIG, cfg);
  assert.equal(formatMac(cfg.subarray(0, 6)), '02:4b:4c:4e:00:07');
  assert.ok(cfg[0]! & 2, 'locally administered');
  assert.equal(cfg[0]! & 1, 0, 'unicast');
  const v = new DataView(cfg.buffer);
  assert.equal(v.getUint16(V.VIRTIO_NET_CFG_STATUS, true), V.VIRTIO_NET_S_LINK_UP);
  assert.equal(v.getUint16(V.VIRTIO_NET_CFG_MAX_VIRTQUEUE_PAIRS, true), 1);
  assert.equal(v.getUint16(V.VIRTIO_NET_CFG_MTU, true), 1500);
  // No offloads are offered.
  assert.equal(d.deviceFeatures() & V.featureBit(V.VIRTIO_NET_F_CSUM), 0n);
  assert.equal(d.deviceFeatures() & V.featureBit(V.VIRTIO_NET_F_GUEST_TSO4), 0n);
  assert.equal(d.deviceFeatures() & V.featureBit(V.VIRTIO_NET_F_MRG_RXBUF), 0n);
});

test('net: transmit strips the 12-byte header, hands the frame to the backend, returns the chain', () => {
  const { d, be, net, irqs } = setup();
  const f1 = frame(60, 1);
  const f2 = frame(1514, 2);
  // header and frame in one buffer, and split over three buffers
  d.add(TX, [{ data: new Uint8Array([...new Uint8Array(12), ...f1]) }]);
  d.add(TX, [{ data: new Uint8Array(12) }, { data: f2.subarray(0, 100) }, { data: f2.subarray(100) }]);
  d.notify(TX);
  assert.deepEqual(be.sent, [f1, f2]);
  assert.deepEqual(d.used(TX).map((u) => u.len), [0, 0]);
  assert.ok(irqs() >= 1);
  assert.equal(net.stats.txFrames, 2);
  assert.equal(net.stats.txBytes, 60 + 1514);
  // too short (header only) and oversize frames are dropped, the chains still returned
  d.add(TX, [{ data: new Uint8Array(12) }]);
  d.add(TX, [{ data: new Uint8Array(12 + 1500 + ETHERNET_MAX_OVERHEAD + 1) }]);
  d.notify(TX);
  assert.equal(be.sent.length, 2);
  assert.equal(d.used(TX).length, 2);
  assert.equal(net.stats.txDropped, 2);
});

test('net: receive writes the header (num_buffers 1) and the frame into a posted buffer', () => {
  const { d, be, net, irqs } = setup();
  const { writable } = d.add(RX, [{ writeLen: 1526 }]);
  d.notify(RX);
  const f = frame(98, 0x42);
  be.inject(f);
  const u = d.used(RX);
  assert.deepEqual(u.map((x) => x.len), [12 + 98]);
  const got = d.read(writable[0]!.addr, 12 + 98);
  assert.deepEqual([...got.subarray(0, 12)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
  assert.deepEqual(got.subarray(12), f);
  assert.equal(net.stats.rxFrames, 1);
  assert.ok(irqs() >= 1);
});

test('net: a vnet-header backend gets a zeroed header with the frame and gives its own to the guest', () => {
  const { d, be, net } = setup(16, new VnetHdrBackend());
  // flags NEEDS_CSUM, gso_type TCPV4, hdr_len, gso_size, csum_start/offset: none negotiated
  const hdr = new Uint8Array([1, 1, 54, 0, 0xb4, 0x05, 34, 0, 16, 0, 0, 0]);
  const f = frame(60, 5);
  d.add(TX, [{ data: hdr }, { data: f }]);
  d.notify(TX);
  assert.deepEqual(be.sent, [new Uint8Array([...new Uint8Array(12), ...f])]);
  assert.equal(net.stats.txBytes, 60);
  // header only, and oversize: dropped
  d.add(TX, [{ data: new Uint8Array(12) }]);
  d.add(TX, [{ data: new Uint8Array(12 + 1500 + ETHERNET_MAX_OVERHEAD + 1) }]);
  d.notify(TX);
  assert.equal(be.sent.length, 1);
  assert.equal(net.stats.txDropped, 2);
  // receive: TAP leaves num_buffers unwritten (garbage here) and may set DATA_VALID; the guest
  // sees num_buffers 1 and no DATA_VALID, the rest of the header and the frame unchanged
  const { writable } = d.add(RX, [{ writeLen: 1526 }]);
  d.notify(RX);
  const rxHdr = [V.VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xee, 0xee];
  const g = frame(98, 0x42);
  be.inject(new Uint8Array([...rxHdr, ...g]));
  assert.deepEqual(d.used(RX).map((x) => x.len), [12 + 98]);
  const got = d.read(writable[0]!.addr, 12 + 98);
  assert.deepEqual([...got.subarray(0, 12)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
  assert.deepEqual(got.subarray(12), g);
  assert.equal(net.stats.rxBytes, 98);
  // a header without a frame, and an oversize frame, are dropped
  be.inject(new Uint8Array(12));
  be.inject(new Uint8Array(12 + 1500 + ETHERNET_MAX_OVERHEAD + 1));
  assert.equal(net.stats.rxDropped, 2);
});

test('net: frames wait for receive buffers; the backlog is bounded; small buffers drop the frame', () => {
  const { d, be, net } = setup(16);
  for (let i = 0; i < RX_BACKLOG_MAX + 10; i++) be.inject(frame(60, i & 0xff));
  assert.equal(net.backlog, RX_BACKLOG_MAX);
  assert.equal(net.stats.rxDropped, 10);
  // oversize and empty frames from the backend are dropped too
  be.inject(frame(1500 + ETHERNET_MAX_OVERHEAD + 1));
  be.inject(new Uint8Array(0));
  assert.equal(net.stats.rxDropped, 12);
  // post 4 buffers: the 4 oldest frames go in, in order
  const bufs = [0, 1, 2, 3].map(() => d.add(RX, [{ writeLen: 1526 }]).writable[0]!.addr);
  d.notify(RX);
  assert.equal(d.used(RX).length, 4);
  bufs.forEach((a, i) => assert.equal(d.read(a + 12, 1)[0], i));
  assert.equal(net.backlog, RX_BACKLOG_MAX - 4);
  // a buffer too small for the next frame: returned with length 0, frame dropped
  d.add(RX, [{ writeLen: 40 }]);
  d.notify(RX);
  assert.deepEqual(d.used(RX).map((u) => u.len), [0]);
  assert.equal(net.stats.rxDropped, 13);
  assert.ok(guardsIntact(d.ram));
});

test('net: a reset (the first step of a driver) drops the backlog', () => {
  const ram = guardedRam(1 << 20);
  const be = new LoopBackend();
  const net = new VirtioNet(be);
  const t = new VirtioMmio(net, { mem: ram, interrupt: () => {} });
  be.inject(frame(60));
  assert.equal(net.backlog, 1);
  const d = new MockDriver(ram, t);
  d.init(NET_FEATURES, 8);
  assert.equal(net.backlog, 0);
  be.inject(frame(60));
  d.add(RX, [{ writeLen: 1526 }]);
  d.notify(RX);
  assert.equal(d.used(RX).length, 1);
  be.inject(frame(60));
  d.wr(V.VIRTIO_MMIO_STATUS, 0);
  assert.equal(net.backlog, 0);
});

test('net: a driver that refills the transmit ring as fast as it drains gets QUEUE_TURN_BUDGET chains per turn; timers still run', async () => {
  const be = new LoopBackend();
  const { d } = setup(16, be);
  // A second vCPU's worth of driver: every frame the device sends, the driver reaps the used
  // entries and publishes a new frame, so the ring never empties.
  let refills = 10 * QUEUE_TURN_BUDGET;
  be.send = (f) => {
    be.sent.push(f);
    d.used(TX);
    if (refills-- > 0) d.add(TX, [{ data: frame(12 + 60) }]);
  };
  for (let i = 0; i < 8; i++) d.add(TX, [{ data: frame(12 + 60) }]);
  let timerRanAt = -1;
  setTimeout(() => (timerRanAt = be.sent.length), 0);
  d.notify(TX);
  assert.equal(be.sent.length, QUEUE_TURN_BUDGET, 'one notification serves one budget');
  while (refills > 0) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(be.sent.length, 10 * QUEUE_TURN_BUDGET + 8);
  assert.ok(timerRanAt >= 0 && timerRanAt < 10 * QUEUE_TURN_BUDGET, `a timer waited for the whole ring (ran at ${timerRanAt})`);
});

test('net: a broken transmit ring sets DEVICE_NEEDS_RESET', () => {
  const { d, t } = setup();
  d.writeDesc(TX, 0, 0xffff_ffff_0000n, 100, 0, 0);
  d.publish(TX, 0);
  d.notify(TX);
  assert.ok(t.failure);
  assert.ok(d.status & V.VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET);
});

test('passt: arguments forward loopback ports and fix the guest addresses', () => {
  assert.deepEqual(PasstBackend.args([{ hostAddr: '127.0.0.1', hostPort: 8080, guestPort: 80 }]).slice(-2), ['-t', '127.0.0.1/8080:80']);
  const a = PasstBackend.args([]);
  assert.ok(a.includes('-F') && a.includes('-1') && a.includes('10.0.2.15'));
  assert.deepEqual(a.slice(-2), ['-t', 'none']);
});

test('passt: tcpListening reads /proc/net/tcp for one address and port in LISTEN', async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  try {
    const table = readFileSync('/proc/net/tcp', 'utf8');
    assert.equal(tcpListening('127.0.0.1', port, table), true);
    assert.equal(tcpListening('0.0.0.0', port, table), false, 'another address');
    assert.equal(tcpListening('localhost', port, table), false, 'not an IPv4 address');
    // a connected socket on that port is not a listener
    const connected = '  sl  local_address rem_address   st\n   0: 0100007F:1F90 0100007F:A000 01 00000000:00000000\n';
    assert.equal(tcpListening('127.0.0.1', 0x1f90, connected), false);
    assert.equal(tcpListening('127.0.0.1', 0x1f90, connected.replace(' 01 ', ' 0A ')), true);
  } finally {
    srv.close();
  }
  assert.equal(tcpListening('127.0.0.1', port, readFileSync('/proc/net/tcp', 'utf8')), false, 'closed');
});

const noPasst = existsSync('/usr/bin/passt') ? false : 'passt is not installed (apt-get install passt)';

test('passt: ready() resolves only once the forwarded port accepts connections', { skip: noPasst }, async () => {
  const port = await freeLoopbackPort();
  const backend = await PasstBackend.start([{ hostAddr: '127.0.0.1', hostPort: port, guestPort: 7 }]);
  try {
    await backend.ready();
    assert.equal(tcpListening('127.0.0.1', port, readFileSync('/proc/net/tcp', 'utf8')), true);
  } finally {
    await backend.close();
  }
});

test('passt: the guest is announced to passt with its MAC before the guest sends anything', () => {
  const frame = guestAnnouncement(defaultMac());
  const eth = parseEthernet(frame)!;
  assert.equal(eth.dst, MAC_BROADCAST);
  assert.equal(formatEthernetMac(eth.src), formatMac(defaultMac()));
  assert.equal(eth.ethertype, ETHERTYPE_ARP);
  const arp = parseArp(frame.subarray(ETHERNET_HEADER_LEN))!;
  assert.deepEqual(arp, { operation: ARP_OP_REQUEST, senderMac: eth.src, senderIp: parseIpv4Addr('10.0.2.15'), targetMac: 0, targetIp: parseIpv4Addr('10.0.2.15') });
});
