// virtio-vsock: the device's protocol state machine driven with raw packets through the mock
// driver (credit both ways, SHUTDOWN, RST for bad/unknown packets), with real Unix sockets in a
// temp dir on the host side. The guest driver against this device: packages/kernel/src/drivers/
// virtio/vsock.test.ts.

import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as V from '@kiln/common/virtio/index.ts';
import { VirtioMmio } from './mmio.ts';
import { FEATURES_BASE, MockDriver, guardedRam, guardsIntact } from './mock_driver.ts';
import { VSOCK_BUF_ALLOC, VSOCK_HOST_PORT_FIRST, VirtioVsock } from './vsock.ts';
import type { GuestRam } from '../../boot/guest_ram.ts';
import { collect, hostConnect, tick, until } from '../../testing/uds.ts';

const CID = 3;
const dir = mkdtempSync(join(tmpdir(), 'kiln-vsock-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const udsPath = (): string => join(dir, `v${n++}.sock`);

// ───────────── raw packets through the mock driver ─────────────

interface Pkt {
  hdr: V.VsockHeader;
  payload: Buffer;
}

class RawGuest {
  readonly ram: GuestRam;
  readonly t: VirtioMmio;
  readonly d: MockDriver;
  readonly rxBufs = new Map<number, number>();
  readonly got: Pkt[] = [];
  irqs = 0;

  constructor(readonly dev: VirtioVsock) {
    this.ram = guardedRam(4 << 20);
    this.t = new VirtioMmio(dev, { mem: this.ram, interrupt: () => this.irqs++ });
    this.d = new MockDriver(this.ram, this.t);
    this.d.init(FEATURES_BASE | V.featureBit(V.VIRTIO_VSOCK_F_STREAM), 16);
    for (let i = 0; i < 8; i++) this.postRx();
    this.d.notify(V.VIRTIO_VSOCK_RX);
  }

  postRx(): void {
    const r = this.d.add(V.VIRTIO_VSOCK_RX, [{ writeLen: 44 + 4096 }]);
    this.rxBufs.set(r.head, r.writable[0]!.addr);
  }

  send(h: Partial<V.VsockHeader>, payload = Buffer.alloc(0)): void {
    const hdr: V.VsockHeader = { srcCid: CID, dstCid: 2, srcPort: 1000, dstPort: 6000, len: payload.length, type: V.VIRTIO_VSOCK_TYPE_STREAM, op: V.VIRTIO_VSOCK_OP_RW, flags: 0, bufAlloc: 65536, fwdCnt: 0, ...h };
    const b = new Uint8Array(44 + payload.length);
    V.writeVsockHeader(b, hdr);
    b.set(payload, 44);
    this.d.add(V.VIRTIO_VSOCK_TX, [{ data: b }]);
    this.d.notify(V.VIRTIO_VSOCK_TX);
  }

  /** Collects the rx packets the device has put in the used ring and reposts the buffers. */
  poll(): Pkt[] {
    const fresh: Pkt[] = [];
    for (const u of this.d.used(V.VIRTIO_VSOCK_RX)) {
      const addr = this.rxBufs.get(u.id)!;
      const bytes = this.d.read(addr, u.len);
      const hdr = V.readVsockHeader(bytes);
      fresh.push({ hdr, payload: Buffer.from(bytes.subarray(44)) });
      this.rxBufs.delete(u.id);
      this.postRx();
    }
    if (fresh.length) this.d.notify(V.VIRTIO_VSOCK_RX);
    this.d.used(V.VIRTIO_VSOCK_TX);
    this.got.push(...fresh);
    return fresh;
  }

  async waitFor(pred: (p: Pkt) => boolean, what: string): Promise<Pkt> {
    let found: Pkt | undefined;
    await until(() => {
      this.poll();
      found = this.got.find(pred);
      return found !== undefined;
    }, what);
    this.got.splice(this.got.indexOf(found!), 1);
    return found!;
  }
}

describe('virtio-vsock device protocol (mock driver)', () => {
  let server: Server;
  let hostSocks: Socket[] = [];
  let path: string;
  before(async () => {
    path = udsPath();
    server = createServer({ allowHalfOpen: true }, (s) => hostSocks.push(s));
    await new Promise<void>((r) => server.listen(`${path}_6000`, r));
  });
  after(() => {
    for (const s of hostSocks) s.destroy();
    server.close();
  });

  test('config space holds the guest CID; only STREAM is offered', async () => {
    const dev = new VirtioVsock({ cid: 0x89abcdef, udsPath: udsPath() });
    const cfg = new Uint8Array(8);
    dev.readConfig(0, cfg);
    assert.deepEqual([...cfg], [0xef, 0xcd, 0xab, 0x89, 0, 0, 0, 0]);
    assert.equal(dev.deviceFeatures, V.featureBit(V.VIRTIO_VSOCK_F_STREAM));
    assert.throws(() => new VirtioVsock({ cid: 2, udsPath: 'x' }), /cid 2 must be/);
  });

  test('guest connect: RESPONSE when <uds>_P accepts, RST when nothing listens; bad packets get RST', async () => {
    const dev = new VirtioVsock({ cid: CID, udsPath: path });
    const g = new RawGuest(dev);
    g.send({ op: V.VIRTIO_VSOCK_OP_REQUEST, srcPort: 1000, dstPort: 6000 });
    const resp = await g.waitFor((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_RESPONSE, 'RESPONSE');
    assert.deepEqual([resp.hdr.srcCid, resp.hdr.dstCid, resp.hdr.srcPort, resp.hdr.dstPort, resp.hdr.bufAlloc], [2, CID, 6000, 1000, VSOCK_BUF_ALLOC]);
    g.send({ op: V.VIRTIO_VSOCK_OP_REQUEST, srcPort: 1001, dstPort: 6999 });
    const rst = await g.waitFor((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_RST, 'RST for a refused connect');
    assert.deepEqual([rst.hdr.srcPort, rst.hdr.dstPort], [6999, 1001]);
    // Unknown op, wrong type, wrong CIDs, a packet for no connection, a length past the buffer: RST each; RST itself: nothing.
    g.send({ op: 99, srcPort: 1000, dstPort: 6000 });
    await g.waitFor((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_RST && p.hdr.dstPort === 1000, 'RST for unknown op');
    assert.equal(dev.connectionCount, 0, 'the connection was reset');
    g.send({ op: V.VIRTIO_VSOCK_OP_REQUEST, type: 2, srcPort: 1002 });
    await g.waitFor((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_RST && p.hdr.dstPort === 1002, 'RST for seqpacket');
    g.send({ op: V.VIRTIO_VSOCK_OP_REQUEST, srcCid: 7, srcPort: 1003 });
    await g.waitFor((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_RST && p.hdr.dstPort === 1003, 'RST for a spoofed CID');
    g.send({ op: V.VIRTIO_VSOCK_OP_RW, srcPort: 1004 }, Buffer.from('x'));
    await g.waitFor((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_RST && p.hdr.dstPort === 1004, 'RST for no connection');
    const b = new Uint8Array(44);
    V.writeVsockHeader(b, { srcCid: CID, dstCid: 2, srcPort: 1005, dstPort: 6000, len: 1000, type: 1, op: V.VIRTIO_VSOCK_OP_REQUEST, flags: 0, bufAlloc: 0, fwdCnt: 0 });
    g.d.add(V.VIRTIO_VSOCK_TX, [{ data: b }]);
    g.d.notify(V.VIRTIO_VSOCK_TX);
    await g.waitFor((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_RST && p.hdr.dstPort === 1005, 'RST for len past the buffer');
    g.send({ op: V.VIRTIO_VSOCK_OP_RST, srcPort: 1006 });
    await tick(20);
    assert.equal(g.poll().length, 0);
    assert.equal(g.t.failure, undefined);
    assert.ok(guardsIntact(g.ram));
    await dev.close();
  });

  test('credit: the device sends at most the guest credit, asks with CREDIT_REQUEST, resumes on CREDIT_UPDATE; overrunning our credit is RST', async () => {
    const dev = new VirtioVsock({ cid: CID, udsPath: path });
    const g = new RawGuest(dev);
    hostSocks = [];
    g.send({ op: V.VIRTIO_VSOCK_OP_REQUEST, srcPort: 2000, bufAlloc: 100 });
    await g.waitFor((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_RESPONSE, 'RESPONSE');
    await until(() => hostSocks.length === 1, 'host accept');
    const host = hostSocks[0]!;
    const seen = collect(host);
    host.write(Buffer.alloc(1000, 7));
    const first = await g.waitFor((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_RW, 'data');
    await g.waitFor((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_CREDIT_REQUEST, 'CREDIT_REQUEST');
    let got = first.payload.length + g.got.filter((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_RW).reduce((a, p) => a + p.payload.length, 0);
    assert.equal(got, 100, 'exactly the credit');
    g.got.length = 0;
    g.send({ op: V.VIRTIO_VSOCK_OP_CREDIT_UPDATE, srcPort: 2000, bufAlloc: 100, fwdCnt: 100 });
    await until(() => {
      g.poll();
      return g.got.filter((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_RW).reduce((a, p) => a + p.payload.length, 0) === 100;
    }, 'second window');
    got += 100;
    // Guest → host within our credit arrives; past it the connection is reset.
    g.send({ op: V.VIRTIO_VSOCK_OP_RW, srcPort: 2000, bufAlloc: 100, fwdCnt: got }, Buffer.from('hello'));
    await until(() => seen.data().toString() === 'hello', 'host got hello');
    // A packet larger than any credit we give (and than the largest packet) resets the connection.
    g.send({ op: V.VIRTIO_VSOCK_OP_RW, srcPort: 2000 }, Buffer.alloc(VSOCK_BUF_ALLOC + 1));
    await g.waitFor((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_RST && p.hdr.dstPort === 2000, 'RST after overrun');
    await until(() => seen.ended(), 'host socket closed');
    assert.equal(dev.connectionCount, 0);
    await dev.close();
  });

  test('shutdown: guest SHUTDOWN SEND ends the host socket; host end → SHUTDOWN SEND; full SHUTDOWN → RST', async () => {
    const dev = new VirtioVsock({ cid: CID, udsPath: path });
    const g = new RawGuest(dev);
    hostSocks = [];
    g.send({ op: V.VIRTIO_VSOCK_OP_REQUEST, srcPort: 3000 });
    await g.waitFor((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_RESPONSE, 'RESPONSE');
    await until(() => hostSocks.length === 1, 'host accept');
    const host = hostSocks[0]!;
    const seen = collect(host);
    g.send({ op: V.VIRTIO_VSOCK_OP_RW, srcPort: 3000 }, Buffer.from('bye'));
    g.send({ op: V.VIRTIO_VSOCK_OP_SHUTDOWN, srcPort: 3000, flags: V.VIRTIO_VSOCK_SHUTDOWN_F_SEND });
    await until(() => seen.ended(), 'host end');
    assert.equal(seen.data().toString(), 'bye');
    host.end('last');
    const d = await g.waitFor((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_RW, 'last data');
    assert.equal(d.payload.toString(), 'last');
    const sd = await g.waitFor((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_SHUTDOWN, 'SHUTDOWN');
    assert.ok(sd.hdr.flags & V.VIRTIO_VSOCK_SHUTDOWN_F_SEND);
    g.send({ op: V.VIRTIO_VSOCK_OP_SHUTDOWN, srcPort: 3000, flags: 3 });
    await g.waitFor((p) => p.hdr.op === V.VIRTIO_VSOCK_OP_RST, 'RST closing handshake');
    assert.equal(dev.connectionCount, 0);
    await dev.close();
  });

  test('host connect: CONNECT <port> → REQUEST to the guest; RESPONSE → OK <hostport>; RST or junk → socket closed', async () => {
    const p = udsPath();
    const dev = new VirtioVsock({ cid: CID, udsPath: p });
    await dev.listen();
    const g = new RawGuest(dev);
    const s = await hostConnect(p);
    const seen = collect(s);
    s.write('CONNECT 5000\nearly');
    const req = await g.waitFor((x) => x.hdr.op === V.VIRTIO_VSOCK_OP_REQUEST, 'REQUEST');
    assert.deepEqual([req.hdr.srcCid, req.hdr.dstCid, req.hdr.srcPort, req.hdr.dstPort], [2, CID, VSOCK_HOST_PORT_FIRST, 5000]);
    g.send({ op: V.VIRTIO_VSOCK_OP_RESPONSE, srcPort: 5000, dstPort: VSOCK_HOST_PORT_FIRST });
    await until(() => seen.data().toString() === `OK ${VSOCK_HOST_PORT_FIRST}\n`, 'OK line');
    const early = await g.waitFor((x) => x.hdr.op === V.VIRTIO_VSOCK_OP_RW, 'bytes sent after CONNECT');
    assert.equal(early.payload.toString(), 'early');
    const s2 = await hostConnect(p);
    const seen2 = collect(s2);
    s2.write('CONNECT 5001\n');
    const req2 = await g.waitFor((x) => x.hdr.op === V.VIRTIO_VSOCK_OP_REQUEST, 'REQUEST 2');
    g.send({ op: V.VIRTIO_VSOCK_OP_RST, srcPort: 5001, dstPort: req2.hdr.srcPort });
    await until(() => seen2.ended(), 'refused socket closed');
    assert.equal(seen2.data().length, 0);
    const s3 = await hostConnect(p);
    const seen3 = collect(s3);
    s3.write('HELLO\n');
    await until(() => seen3.ended(), 'junk line closes');
    await dev.close();
    s.destroy();
  });
});
