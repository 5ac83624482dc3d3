// virtio-vsock: the guest driver (vsock.ts) against the VMM's real device model in one Node
// process over shared memory, interrupts delivered asynchronously as on KVM, with real Unix
// sockets in a temp dir on the host side: host → guest through CONNECT, guest → host, credit
// and backpressure both ways, EOF, refs released.

import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { GuestRam } from '@kiln/vmm/boot/guest_ram.ts';
import { VirtioMmio } from '@kiln/vmm/devices/virtio/mmio.ts';
import { guardedRam, guardsIntact } from '@kiln/vmm/devices/virtio/mock_driver.ts';
import { VSOCK_HOST_PORT_FIRST, VirtioVsock } from '@kiln/vmm/devices/virtio/vsock.ts';
import { collect, hostConnect, tick, until } from '@kiln/vmm/testing/uds.ts';
import { activeRefs } from '../../lib/handles.ts';
import type { Platform } from '../platform.ts';
import { VirtioMmioDevice } from './mmio.ts';
import { VirtioVsockDriver, VsockError, type VsockConn } from './vsock.ts';

const CID = 3;
const dir = mkdtempSync(join(tmpdir(), 'kiln-vsock-drv-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const udsPath = (): string => join(dir, `v${n++}.sock`);

const BASE = 0xc0001000;

/** Guest RAM + transport + a Platform for the kernel's driver, interrupts delivered asynchronously as on KVM. */
function machine(dev: VirtioVsock): { platform: Platform; t: VirtioMmio; ram: GuestRam } {
  const ram = guardedRam(16 << 20);
  let handler: (() => void) | undefined;
  let queued = false;
  const t = new VirtioMmio(dev, {
    mem: ram,
    interrupt: () => {
      if (queued) return;
      queued = true;
      setImmediate(() => {
        queued = false;
        handler?.();
      });
    },
  });
  let brk = 1 << 20;
  const live = new Set<number>();
  const platform: Platform = {
    mmioRead(addr, width) {
      const d = new Uint8Array(width);
      t.read(addr - BASE, d);
      return width === 4 ? new DataView(d.buffer).getUint32(0, true) : width === 2 ? new DataView(d.buffer).getUint16(0, true) : d[0]!;
    },
    mmioWrite(addr, width, value) {
      const d = new Uint8Array(width);
      if (width === 4) new DataView(d.buffer).setUint32(0, value >>> 0, true);
      else if (width === 2) new DataView(d.buffer).setUint16(0, value, true);
      else d[0] = value;
      t.write(addr - BASE, d);
    },
    dmaAlloc(size, align) {
      const a = Math.ceil(brk / align) * align;
      brk = a + size;
      if (brk > 16 << 20) throw new RangeError('out of DMA memory');
      ram.bytes.fill(0, ram.hostOffset(a, size)!, ram.hostOffset(a, size)! + size);
      live.add(a);
      return a;
    },
    dmaFree(a) {
      if (!live.delete(a)) throw new Error('bad dmaFree');
    },
    bytes: (a, s) => ram.bytes.subarray(ram.hostOffset(a, s)!, ram.hostOffset(a, s)! + s),
    fence: () => {},
    subscribeIrq: (_irq, h) => (handler = h),
    warn: () => {},
  };
  return { platform, t, ram };
}

async function guest(path: string): Promise<{ drv: VirtioVsockDriver; dev: VirtioVsock; t: VirtioMmio; ram: GuestRam }> {
  const dev = new VirtioVsock({ cid: CID, udsPath: path });
  await dev.listen();
  const { platform, t, ram } = machine(dev);
  const mdev = VirtioMmioDevice.probe(platform, { base: BASE, size: 0x1000, irq: 5, id: undefined })!;
  return { drv: new VirtioVsockDriver(mdev), dev, t, ram };
}

async function readAll(c: VsockConn, max = 1 << 24): Promise<Buffer> {
  const parts: Buffer[] = [];
  const buf = new Uint8Array(8192);
  let total = 0;
  for (;;) {
    const k = await c.read(buf);
    if (k === null) break;
    parts.push(Buffer.from(buf.subarray(0, k)));
    total += k;
    if (total > max) throw new Error('too much');
  }
  return Buffer.concat(parts);
}

async function readLine(s: Socket): Promise<string> {
  let acc = '';
  for (;;) {
    const nl = acc.indexOf('\n');
    if (nl >= 0) {
      const rest = acc.slice(nl + 1);
      if (rest) s.unshift(Buffer.from(rest, 'latin1'));
      return acc.slice(0, nl + 1);
    }
    const d = await new Promise<Buffer>((r, j) => {
      s.once('data', r);
      s.once('close', () => j(new Error('closed before a line')));
    });
    acc += d.toString('latin1');
  }
}

describe('virtio-vsock guest driver ↔ device (one process)', () => {
  test('host → guest echo through CONNECT, 3 MiB both ways with credit, EOF, then the listener closes', async () => {
    const path = udsPath();
    const { drv, dev, t, ram } = await guest(path);
    assert.equal(drv.cid, CID);
    const refs0 = activeRefs();
    const l = drv.listen(5000);
    assert.throws(() => drv.listen(5000), (e: unknown) => e instanceof VsockError && e.code === 'EADDRINUSE');
    const echo = (async () => {
      for await (const c of l) {
        const buf = new Uint8Array(10000);
        for (;;) {
          const k = await c.read(buf);
          if (k === null) break;
          await c.write(buf.subarray(0, k));
        }
        await c.closeWrite();
        break;
      }
    })();
    const s = await hostConnect(path);
    s.write('CONNECT 5000\n');
    assert.equal(await readLine(s), `OK ${VSOCK_HOST_PORT_FIRST}\n`);
    const data = randomBytes(3 << 20);
    const seen = collect(s);
    s.end(data);
    await until(() => seen.ended(), 'echo EOF', 20000);
    assert.ok(seen.data().equals(data), `echoed ${seen.data().length} of ${data.length}`);
    await echo;
    assert.ok(drv.stats.txPackets > 0 && dev.stats.bytesToGuest === data.length && dev.stats.bytesFromGuest === data.length);
    assert.equal(t.failure, undefined);
    assert.ok(guardsIntact(ram));
    await until(() => activeRefs() === refs0, 'refs released (listener closed by break, connection closed by the host)', 3000).catch(() => {});
    s.destroy();
    await dev.close();
  });

  test('guest → host: connect to <uds>_6000, request/reply, closeWrite, EOF; ECONNREFUSED without a listener', async () => {
    const path = udsPath();
    const server = createServer({ allowHalfOpen: true }, (s) => {
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString()));
      s.on('end', () => s.end(`reply to ${got}`));
    });
    await new Promise<void>((r) => server.listen(`${path}_6000`, r));
    const { drv, dev } = await guest(path);
    const c = await drv.connect(2, 6000);
    assert.equal(c.remotePort, 6000);
    assert.ok(c.localPort >= 49152);
    await c.write(new TextEncoder().encode('ping\n'));
    await c.closeWrite();
    assert.equal((await readAll(c)).toString(), 'reply to ping\n');
    c.close();
    await assert.rejects(drv.connect(2, 6001), (e: unknown) => e instanceof VsockError && e.code === 'ECONNREFUSED');
    await assert.rejects(drv.connect(9, 6000), (e: unknown) => e instanceof VsockError && e.code === 'ECONNREFUSED');
    await until(() => dev.connectionCount === 0 && drv.connectionCount === 0, 'both tables empty');
    server.close();
    await dev.close();
  });

  test('backpressure: write() waits for the host to read; the guest is sent no more than its buffer', async () => {
    const path = udsPath();
    let host: Socket | undefined;
    const server = createServer({ allowHalfOpen: true }, (s) => {
      s.pause();
      host = s;
    });
    await new Promise<void>((r) => server.listen(`${path}_7000`, r));
    const { drv, dev } = await guest(path);
    const c = await drv.connect(2, 7000);
    await until(() => host !== undefined, 'accept');
    const big = randomBytes(4 << 20);
    let done = false;
    const w = c.write(big).then((k) => ((done = true), k));
    await tick(200);
    assert.equal(done, false, 'the write cannot finish while the host reads nothing');
    // host → guest without reads in the guest: the device stops at the guest's credit
    host!.write(randomBytes(1 << 20));
    await tick(200);
    assert.ok(dev.stats.bytesToGuest <= 256 * 1024, `sent ${dev.stats.bytesToGuest}`);
    const got: Buffer[] = [];
    host!.on('data', (d: Buffer) => got.push(d));
    host!.resume();
    assert.equal(await w, big.length);
    await until(() => Buffer.concat(got).length === big.length, 'host got everything', 10000);
    assert.ok(Buffer.concat(got).equals(big));
    let read = 0;
    const buf = new Uint8Array(65536);
    while (read < 1 << 20) read += (await c.read(buf)) ?? 0;
    assert.equal(read, 1 << 20);
    host!.destroy();
    await assert.rejects(async () => {
      for (;;) if ((await c.read(buf)) === null) throw new VsockError('ECONNRESET', 'eof instead');
    }, (e: unknown) => e instanceof VsockError);
    server.close();
    await dev.close();
  });
});
