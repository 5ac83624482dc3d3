// virtio-fs driver ↔ device in one Node process (a script, not a test): the guest FileSystem and
// driver (fs/virtiofs/, drivers/virtio/fs.ts) against the VMM's real virtio-mmio transport,
// device and FUSE server over a temp directory, on the fake machine of the kernel's
// testing/node_virtio_bench.ts — no VM, so it measures the JS on both sides of the ring and the
// host file I/O, not exits or interrupts (bench/virtio.ts and bench/fs.ts time real VMs).
// Large: a LARGE_MIB MiB file written in 8 MiB writes (1 MiB requests), read back in 8 MiB reads;
// small: SMALL_N files created, written, closed, then opened, read, closed and unlinked.
// Medians of RUNS runs; prints a markdown block for bench/RESULTS.md. Needs the addon built.
// Run: npm run bench:driver-device [-- --runs 5]

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtioFsDriver } from '@kiln/kernel/drivers/virtio/fs.ts';
import { mountVirtioFsOn } from '@kiln/kernel/fs/virtiofs/mount.ts';
import { VirtioBench } from '@kiln/kernel/testing/node_virtio_bench.ts';
import { VirtioFs } from '@kiln/vmm/devices/virtio/fs/device.ts';
import { arg, fmt, machine, median } from './common.ts';

const RUNS = arg('--runs', 5);
const LARGE_MIB = 64;
const CHUNK = 8 << 20;
const SMALL_N = 300;
const RDWR_CREATE = { read: true, write: true, create: true, exclusive: false, truncate: false };
const READ = { read: true, write: false, create: false, exclusive: false, truncate: false };

interface Result {
  writeMiBs: number;
  readMiBs: number;
  smallOpsPerS: number;
}

async function once(top: string, run: number): Promise<Result> {
  const dir = join(top, `r${run}`);
  mkdirSync(dir);
  const b = new VirtioBench(64 << 20);
  const dev = VirtioFs.open({ hostDir: dir, tag: 'bench', readOnly: false });
  const fs = await b.run(mountVirtioFsOn(new VirtioFsDriver(b.add(dev, { announce: true }).dev), { readOnly: false }, () => 0));
  const size = LARGE_MIB << 20;
  const chunk = new Uint8Array(CHUNK).map((_, i) => i & 0xff);
  const f = await b.run(fs.open('/large.bin', RDWR_CREATE));
  let t = performance.now();
  for (let at = 0; at < size; at += chunk.length) await b.run(f.write(at, chunk));
  const writeMiBs = LARGE_MIB / ((performance.now() - t) / 1000);
  const back = new Uint8Array(CHUNK);
  t = performance.now();
  for (let at = 0; at < size; at += back.length) {
    if ((await b.run(f.read(at, back, 0, back.length))) !== back.length) throw new Error(`short read at ${at}`);
  }
  const readMiBs = LARGE_MIB / ((performance.now() - t) / 1000);
  if (!back.every((x, i) => x === (i & 0xff))) throw new Error('read back other bytes than were written');
  await b.run(f.close());
  const small = new TextEncoder().encode('small file');
  t = performance.now();
  for (let i = 0; i < SMALL_N; i++) {
    const s = await b.run(fs.open(`/s${i}`, RDWR_CREATE));
    await b.run(s.write(0, small));
    await b.run(s.close());
  }
  for (let i = 0; i < SMALL_N; i++) {
    const s = await b.run(fs.open(`/s${i}`, READ));
    await b.run(s.read(0, back, 0, 64));
    await b.run(s.close());
    await b.run(fs.unlink(`/s${i}`));
  }
  const smallOpsPerS = (SMALL_N * 2) / ((performance.now() - t) / 1000);
  await b.run(fs.unmount());
  dev.close();
  rmSync(dir, { recursive: true, force: true });
  return { writeMiBs, readMiBs, smallOpsPerS };
}

const top = mkdtempSync(join(tmpdir(), 'kiln-bench-drvdev-'));
try {
  const results: Result[] = [];
  for (let r = 0; r < RUNS; r++) results.push(await once(top, r));
  const med = (k: keyof Result): string => fmt(median(results.map((x) => x[k])), 0);
  console.log(`### virtio-fs driver ↔ device in one Node process (${new Date().toISOString().slice(0, 10)})\n`);
  console.log(`Machine: ${machine()}. Command: \`npm run bench:driver-device -- --runs ${RUNS}\`; medians of ${RUNS} runs.\n`);
  console.log('| workload | result |');
  console.log('|---|---|');
  console.log(`| write ${LARGE_MIB} MiB in ${CHUNK >> 20} MiB writes (1 MiB requests), MiB/s | ${med('writeMiBs')} |`);
  console.log(`| read it back, MiB/s | ${med('readMiBs')} |`);
  console.log(`| ${SMALL_N} small files: create+write+close, then open+read+close+unlink, per s | ${med('smallOpsPerS')} |`);
} finally {
  rmSync(top, { recursive: true, force: true });
}
