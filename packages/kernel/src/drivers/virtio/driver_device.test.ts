// Driver ↔ device in one Node process, no VM: the kernel's real virtio drivers (mmio.ts,
// virtqueue.ts, rng.ts, block.ts, console.ts) against the VMM's real transport and device models
// on the fake machine of testing/node_virtio_bench.ts.

import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { VirtioRng as RngDevice } from '@kiln/vmm/devices/virtio/rng.ts';
import { VirtioBlock as BlockDevice, openDiskFile, type BlockFile } from '@kiln/vmm/devices/virtio/block.ts';
import { VirtioConsole as ConsoleDevice } from '@kiln/vmm/devices/virtio/console.ts';
import { VirtioBench } from '../../testing/node_virtio_bench.ts';
import { activeRefs } from '../../lib/handles.ts';
import { createRuntime } from '../../units/runtime.ts';
import { BlockError, VirtioBlk } from './block.ts';
import { CONSOLE_BUF_SIZE, VirtioConsoleOut } from './console.ts';
import { VirtioRng } from './rng.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-drvdev-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function tempDisk(bytes: Uint8Array, name = `d${Math.random().toString(36).slice(2)}.img`): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

test('rng_bytes_arrive_through_the_real_device', async () => {
  const b = new VirtioBench();
  const dev = new RngDevice();
  const s = b.add(dev);
  const rng = new VirtioRng(s.dev);
  const outs = await b.run(Promise.all([rng.read(64), rng.read(64), rng.read(1000)]));
  assert.deepEqual(outs.map((o) => o.length), [64, 64, 1000]);
  assert.ok(outs[0]!.some((x) => x !== 0));
  assert.notDeepEqual(outs[0], outs[1]);
  assert.equal(dev.bytesServed, 1128);
  assert.equal(activeRefs(), 0, 'every request released its ref');
  assert.equal(s.t.failure, undefined);
  // readSync polls the used ring: the device answers on its own (here: during the notify write)
  b.syncNotify = true;
  const sync = rng.readSync(32, () => false);
  assert.equal(sync?.length, 32);
});

test('block_read_write_flush_get_id_against_a_temp_file', async () => {
  const b = new VirtioBench();
  const data = randomBytes(256 * 1024);
  const path = tempDisk(data);
  const s = b.add(BlockDevice.open({ path, id: 'kiln-test-disk' }));
  const blk = new VirtioBlk(s.dev);
  assert.equal(blk.size, data.length);
  assert.equal(blk.readOnly, false);
  assert.deepEqual(await b.run(blk.read(0, 4096)), new Uint8Array(data.subarray(0, 4096)));
  assert.deepEqual(await b.run(blk.read(data.length - 512, 512)), new Uint8Array(data.subarray(data.length - 512)));
  // more than MAX_REQUEST (1 MiB)? no: the disk is 256 KiB; a whole-disk read is one request
  assert.deepEqual(await b.run(blk.read(0, data.length)), new Uint8Array(data));
  const w = new Uint8Array(8192).map((_, i) => (i * 13) & 0xff);
  await b.run(blk.write(4096, w));
  await b.run(blk.flush());
  assert.deepEqual(new Uint8Array(readFileSync(path).subarray(4096, 4096 + 8192)), w);
  assert.deepEqual(await b.run(blk.read(4096, 8192)), w);
  assert.equal(await b.run(blk.id()), 'kiln-test-disk');
  assert.equal(activeRefs(), 0);
  assert.equal(s.t.failure, undefined);
  assert.equal(b.m.dmaLive() > 0, true, 'the rings stay allocated');
});

test('block_read_only_and_out_of_range_are_refused', async () => {
  const b = new VirtioBench();
  const data = randomBytes(64 * 1024);
  const path = tempDisk(data);
  const s = b.add(BlockDevice.open({ path, readOnly: true }));
  const blk = new VirtioBlk(s.dev);
  assert.equal(blk.readOnly, true);
  await assert.rejects(b.run(blk.write(0, new Uint8Array(512))), (e: BlockError) => e.code === 'EROFS');
  await assert.rejects(b.run(blk.read(data.length, 512)), (e: BlockError) => e.code === 'EINVAL');
  await assert.rejects(b.run(blk.read(1, 512)), (e: BlockError) => e.code === 'EINVAL');
  await b.run(blk.flush()); // nothing to flush on a read-only disk: OK
  assert.deepEqual(readFileSync(path), data);
  // Past the end as the device sees it: a device whose file is shorter than the capacity it
  // announces gets short reads from the host and answers S_IOERR → EIO in the guest.
  const b2 = new VirtioBench();
  const { file } = openDiskFile(tempDisk(new Uint8Array(4096)), true);
  const s2 = b2.add(new BlockDevice(file, 8192, { readOnly: true }));
  const blk2 = new VirtioBlk(s2.dev);
  await assert.rejects(b2.run(blk2.read(4096, 512)), (e: BlockError) => e.code === 'EIO');
  assert.equal((await b2.run(blk2.read(0, 512))).length, 512, 'the queue still works after an error');
  assert.equal(activeRefs(), 0);
});

test('block_host_io_errors_become_EIO', async () => {
  const b = new VirtioBench();
  const failing: BlockFile = {
    read: (_b, _p, cb) => setImmediate(() => cb(new Error('EIO'), 0)),
    write: (_b, _p, cb) => setImmediate(() => cb(new Error('EIO'), 0)),
    sync: (cb) => setImmediate(() => cb(new Error('EIO'))),
    close() {},
  };
  const s = b.add(new BlockDevice(failing, 1 << 20));
  const blk = new VirtioBlk(s.dev);
  await assert.rejects(b.run(blk.read(0, 512)), (e: BlockError) => e.code === 'EIO');
  await assert.rejects(b.run(blk.write(0, new Uint8Array(512))), (e: BlockError) => e.code === 'EIO');
  await assert.rejects(b.run(blk.flush()), (e: BlockError) => e.code === 'EIO');
  assert.equal(s.t.failure, undefined, 'an I/O error is not a broken device');
});

test('block_many_concurrent_requests_batch_notifies_and_interrupts', async () => {
  const b = new VirtioBench(64 << 20);
  const data = randomBytes(4 << 20);
  const path = tempDisk(data);
  const dev = BlockDevice.open({ path });
  const s = b.add(dev);
  const blk = new VirtioBlk(s.dev);
  // 600 requests: more than the 128-entry queue holds, so most wait in the driver and are added
  // as completions free descriptors (several per kick).
  const offsets = Array.from({ length: 600 }, (_, i) => ((i * 7919) % 1024) * 4096);
  const reads = offsets.map((o) => blk.read(o, 4096));
  // Event index, driver side: the first 128 chains went out with one kick (one notify).
  assert.equal(s.dev.queues[0]!.notifications, 1);
  const outs = await b.run(Promise.all(reads));
  outs.forEach((o, i) => assert.deepEqual(o, new Uint8Array(data.subarray(offsets[i]!, offsets[i]! + 4096)), `request ${i}`));
  assert.equal(dev.stats.requests, 600);
  const st = s.t.stats;
  // Event index: the driver notifies only when the device asked (avail_event), the device
  // interrupts only when the driver asked (used_event). This device serves one request at a
  // time and asks again once it has taken all, so a refill per completion costs a notify:
  // at most one per request, never one per chain added.
  assert.ok(st.notifies <= 600, `notifies ${st.notifies}`);
  assert.ok(st.interrupts <= 600, `interrupts ${st.interrupts}`);
  // Concurrent writes, then read everything back through the guest and from the host file.
  const chunk = (i: number): Uint8Array => new Uint8Array(4096).fill(i & 0xff);
  await b.run(Promise.all(Array.from({ length: 300 }, (_, i) => blk.write(i * 4096, chunk(i)))));
  await b.run(blk.flush());
  const host = readFileSync(path);
  for (let i = 0; i < 300; i++) assert.equal(host[i * 4096 + 17], i & 0xff);
  const back = await b.run(blk.read(0, 300 * 4096));
  assert.deepEqual(back, new Uint8Array(host.subarray(0, 300 * 4096)));
  // A read larger than one request (MAX_REQUEST = 1 MiB) is split and reassembled in order.
  const big = await b.run(blk.read(0, 3 << 20));
  assert.deepEqual(big, new Uint8Array(host.subarray(0, 3 << 20)));
  assert.equal(activeRefs(), 0);
  assert.equal(s.t.failure, undefined);
});

test('block_event_index_wraps_past_65536', async () => {
  const b = new VirtioBench();
  const data = randomBytes(64 * 1024);
  // An in-memory file answering on the next macrotask: 70,000 requests without thread-pool timing.
  const mem: BlockFile = {
    read: (buf, pos, cb) => setImmediate(() => { buf.set(data.subarray(pos, pos + buf.length)); cb(null, buf.length); }),
    write: (buf, pos, cb) => setImmediate(() => { data.set(buf, pos); cb(null, buf.length); }),
    sync: (cb) => setImmediate(() => cb(null)),
    close() {},
  };
  const s = b.add(new BlockDevice(mem, data.length));
  const blk = new VirtioBlk(s.dev);
  // 16-bit ring indices wrap after 65536 requests: run a few batches past that point.
  for (let batch = 0; batch < 70; batch++) {
    const ps = Array.from({ length: 1000 }, (_, i) => blk.read(((batch + i) % 128) * 512, 512));
    const outs = await b.run(Promise.all(ps));
    if (batch % 23 === 0 || batch === 69) {
      const i = 999;
      const o = ((batch + i) % 128) * 512;
      assert.deepEqual(outs[i], new Uint8Array(data.subarray(o, o + 512)));
    }
  }
  assert.ok(s.dev.queues[0]!.freeDescriptors > 0);
  assert.equal(s.t.failure, undefined);
  assert.equal(activeRefs(), 0);
});

test('console_output_reaches_the_sink_with_one_notify_per_flush', async () => {
  const b = new VirtioBench();
  const chunks: Uint8Array[] = [];
  const dev = new ConsoleDevice({ write: (d) => chunks.push(d.slice()) });
  const s = b.add(dev);
  const out = new VirtioConsoleOut(s.dev, () => b.m.now);
  for (let i = 0; i < 1000; i++) out.write(`line ${i} ✓ 𝄞\n`);
  out.flush();
  assert.equal(s.dev.queues[1]!.notifications, 1, 'one kick for the whole turn');
  await b.turn();
  const text = Buffer.concat(chunks).toString('utf8');
  assert.equal(text, Array.from({ length: 1000 }, (_, i) => `line ${i} ✓ 𝄞\n`).join(''));
  assert.equal(s.t.stats.notifies, 1);
  assert.equal(s.t.stats.interrupts, 0, 'no interrupts while output flows (used ring is polled)');
  // busy(): reaps the buffers; nothing in flight → false, no interrupt armed
  assert.equal(out.busy(), false);
  // Output larger than every buffer together (32 × 16 KiB) waits for the device (back-pressure):
  // with the device answering during the notify, flush() completes.
  b.syncNotify = true;
  const big = 'x'.repeat(CONSOLE_BUF_SIZE * 40);
  chunks.length = 0;
  out.write(big);
  out.flush();
  assert.equal(Buffer.concat(chunks).length, big.length);
});

test('console_busy_arms_the_interrupt_and_the_runtime_waits_for_it', async () => {
  const b = new VirtioBench();
  const chunks: Uint8Array[] = [];
  const s = b.add(new ConsoleDevice({ write: (d) => chunks.push(d.slice()) }));
  const out = new VirtioConsoleOut(s.dev, () => b.m.now);
  const uncaught: unknown[] = [];
  const rt = createRuntime(b.m.ops, (e) => uncaught.push(e), {
    write: (t) => out.write(t),
    endTurn: () => out.flush(),
    busy: () => out.busy(),
    flushSync: () => out.drainSync(1e9),
  });
  rt.console.log('hello %s', 'virtio');
  rt.console.log('bye');
  // The loop's tick: output is flushed (one notify), still with the device → Infinity (halt).
  assert.equal(rt.tick(0), Infinity);
  assert.equal(s.t.stats.notifies, 0, 'the notify is queued (ioeventfd), not yet seen');
  await b.turn(); // the device drains and, asked by busy(), interrupts; the irq handler reaps
  assert.equal(s.t.stats.interrupts, 1);
  assert.equal(rt.tick(0), -1, 'nothing left once the device took the output');
  assert.equal(Buffer.concat(chunks).toString(), 'hello virtio\nbye\n');
  assert.deepEqual(uncaught, []);
});

test('console_drainSync_waits_for_the_device_and_gives_up_after_its_timeout', () => {
  const b = new VirtioBench();
  const chunks: Uint8Array[] = [];
  const s = b.add(new ConsoleDevice({ write: (d) => chunks.push(d.slice()) }));
  const out = new VirtioConsoleOut(s.dev, () => b.m.now);
  b.syncNotify = true; // the device runs on another host thread in a VM: it answers while we spin
  out.write('last words\n');
  assert.equal(out.drainSync(1e9), true);
  assert.equal(Buffer.concat(chunks).toString(), 'last words\n');
  b.syncNotify = false; // a device that never answers: the spin ends at the deadline
  let t = 0;
  const out2 = new VirtioConsoleOut(s.dev, () => (t += 1e6));
  out2.write('lost\n');
  assert.equal(out2.drainSync(5e6), false);
});
