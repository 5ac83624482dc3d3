// runVm tests. Without KVM: option and image validation fail with typed errors before any KVM
// call. With /dev/kvm (skipped with the reason printed otherwise): hand-made guests boot and
// print, signal the boot timer and exit with a code; spin into a timeout; triple-fault; reset;
// boot through PVH; run with 2 vCPUs in 8 MiB; and many VMs run one after another.

import { test, describe } from 'node:test';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { probeKvm } from '@kiln/kvm';
import { ImageError } from '@kiln/common';
import { runVm, type RunVmOptions } from './vm.ts';
import { VmmError } from './errors.ts';
import { helloGuest, spinGuest, tripleFaultGuest, resetGuest, pvhGuest, int3Guest, mmioReadGuest } from './testing/guests.ts';
import { writeFileSync, rmSync } from 'node:fs';

const probe = probeKvm();
if (!probe.ok) console.log(`# skipping KVM VM tests: ${probe.reason}`);
const skip = probe.ok ? false : `KVM not usable: ${probe.reason}`;

async function run(opts: Omit<RunVmOptions, 'stdout' | 'stderr'>): Promise<Awaited<ReturnType<typeof runVm>> & { out: string; err: string }> {
  const out: Uint8Array[] = [];
  let err = '';
  const r = await runVm({ memMiB: 8, timeoutMs: 10_000, ...opts, stdout: { write: (d) => out.push(d) }, stderr: { write: (s) => (err += s) } });
  return { ...r, out: Buffer.concat(out).toString('latin1'), err };
}

describe('runVm validation (no KVM needed)', () => {
  test('bad options are EBADCONFIG', async () => {
    await assert.rejects(runVm({ image: helloGuest('', 0), memMiB: 1 }), (e: unknown) => e instanceof VmmError && e.code === 'EBADCONFIG');
    await assert.rejects(runVm({ image: helloGuest('', 0), cpus: 0 }), (e: unknown) => e instanceof VmmError && e.code === 'EBADCONFIG');
    await assert.rejects(runVm({ image: helloGuest('', 0), memMiB: 8.5 }), (e: unknown) => e instanceof VmmError && e.code === 'EBADCONFIG');
  });
  test('a bad image is an ImageError', async () => {
    await assert.rejects(runVm({ image: new Uint8Array(100) }), (e: unknown) => e instanceof ImageError && e.code === 'EBADIMAGE');
    await assert.rejects(runVm({ image: helloGuest('', 0), boot: 'pvh' }), (e: unknown) => e instanceof ImageError && /PVH/.test((e as Error).message));
  });
  test('a command line over 4095 bytes is ECMDLINE', async () => {
    await assert.rejects(runVm({ image: helloGuest('', 0), cmdline: 'x'.repeat(5000) }), (e: unknown) => e instanceof VmmError && e.code === 'ECMDLINE');
  });
});

describe('runVm virtio options (no KVM needed)', () => {
  test('a missing or odd-sized disk is EDISK before KVM is touched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-vm-'));
    try {
      await assert.rejects(runVm({ image: helloGuest('', 0), disks: [{ path: join(dir, 'none.img') }] }), (e: unknown) => e instanceof VmmError && e.code === 'EDISK' && /none\.img: no such file/.test(e.message));
      writeFileSync(join(dir, 'odd.img'), Buffer.alloc(1000));
      await assert.rejects(runVm({ image: helloGuest('', 0), disks: [{ path: join(dir, 'odd.img'), readOnly: true }] }), (e: unknown) => e instanceof VmmError && e.code === 'EDISK' && /multiple of 512/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a missing share directory, a bad or repeated tag is ESHARE before KVM is touched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-vm-'));
    const isShare = (re: RegExp) => (e: unknown) => e instanceof VmmError && e.code === 'ESHARE' && re.test(e.message);
    try {
      await assert.rejects(runVm({ image: helloGuest('', 0), shares: [{ hostDir: join(dir, 'none'), tag: 't' }] }), isShare(/none: no such directory/));
      writeFileSync(join(dir, 'f'), '');
      await assert.rejects(runVm({ image: helloGuest('', 0), shares: [{ hostDir: join(dir, 'f'), tag: 't' }] }), isShare(/not a directory/));
      await assert.rejects(runVm({ image: helloGuest('', 0), shares: [{ hostDir: dir, tag: 'x'.repeat(37) }] }), isShare(/1 to 36 bytes/));
      await assert.rejects(runVm({ image: helloGuest('', 0), shares: [{ hostDir: dir, tag: 'a' }, { hostDir: dir, tag: 'a' }] }), isShare(/used twice/));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('runVm on KVM', { skip }, () => {
  test('virtio slots: rng at 0xc0001000, disk at 0xc0002000 (device ids through MMIO exits), tokens before --', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-vm-'));
    try {
      const disk = join(dir, 'd.img');
      writeFileSync(disk, Buffer.alloc(4096));
      const lines: string[] = [];
      const magic = await run({ image: mmioReadGuest(0xc0001000), disks: [{ path: disk, readOnly: true }], cmdline: 'A=1 -- x', debug: (l) => lines.push(l) });
      assert.equal(magic.exitCode, 0x76, 'low byte of "virt"');
      assert.equal((await run({ image: mmioReadGuest(0xc0001008) })).exitCode, 4, 'rng device id');
      assert.equal((await run({ image: mmioReadGuest(0xc0002008), disks: [{ path: disk }] })).exitCode, 2, 'block device id');
      assert.equal((await run({ image: mmioReadGuest(0xc0001008), rng: false, virtioConsole: true })).exitCode, 3, 'console device id');
      assert.equal((await run({ image: mmioReadGuest(0xc0001000), rng: false })).exitCode, 0xff, 'no device: unclaimed MMIO reads all-ones');
      assert.deepEqual(magic.stats.virtio.map((v) => v.name), ['virtio-rng', 'virtio-blk0']);
      assert.ok(magic.timings.some((t) => t.step === 'virtio'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('hello guest: output, boot-time line, exit code 7, 8 MiB', async () => {
    const r = await run({ image: helloGuest('OK\n', 7), bootTimer: true, cmdline: 'console=ttyS0' });
    assert.equal(r.reason, 'exit', r.message);
    assert.equal(r.exitCode, 7);
    assert.equal(r.out, 'OK\n');
    assert.match(r.err, /^Guest-boot-time = +\d+ us \d+ ms, +\d+ CPU us \d+ CPU ms\n$/);
    assert.ok(r.bootTime && r.bootTime.wallUs > 0);
    const [, us, ms] = /= +(\d+) us (\d+) ms/.exec(r.err)!;
    assert.equal(Math.floor(Number(us) / 1000), Number(ms));
    assert.equal(r.stats.unknownPioWrites, 0);
    assert.deepEqual(
      r.timings.map((t) => t.step),
      ['validate', 'open_kvm', 'create_vm', 'create_memory', 'map_memory', 'create_irqchip', 'set_tss_addr', 'load_image', 'write_boot_structures', 'create_vcpus', 'configure_vcpus', 'virtio', 'start_vcpus', 'run', 'teardown'],
    );
    console.log(`# setup timings (ms): ${r.timings.map((t) => `${t.step}=${t.ms.toFixed(3)}`).join(' ')}`);
  });

  test('stdoutFd: console bytes reach the fd through the vCPU fast path, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-vm-'));
    const fd = openSync(join(dir, 'console'), 'w');
    try {
      const r = await runVm({ image: helloGuest('fast path\n', 5), memMiB: 8, timeoutMs: 10_000, stdoutFd: fd, stderr: { write: () => {} } });
      assert.equal(r.exitCode, 5);
      assert.equal(r.stats.pioExits < 'fast path\n'.length, true, 'the bytes did not go through the exit handler');
    } finally {
      closeSync(fd);
    }
    assert.equal(readFileSync(join(dir, 'console'), 'utf8'), 'fast path\n');
  });

  test('no boot-time line unless asked', async () => {
    const r = await run({ image: helloGuest('x', 0) });
    assert.equal(r.err, '');
    assert.equal(r.exitCode, 0);
    assert.ok(r.bootTime);
  });

  test('a spinning guest ends with reason timeout (exit code 124)', async () => {
    const t0 = Date.now();
    const r = await run({ image: spinGuest(), timeoutMs: 200 });
    assert.equal(r.reason, 'timeout');
    assert.equal(r.exitCode, 124);
    assert.ok(Date.now() - t0 < 5000);
  });

  test('a triple fault ends with reason shutdown (exit code 123)', async () => {
    const r = await run({ image: tripleFaultGuest() });
    assert.equal(r.reason, 'shutdown', r.message);
    assert.equal(r.exitCode, 123);
    assert.match(r.message ?? '', /triple fault/);
  });

  test('int3 with no IDT: shutdown on VT-x, emulation internal error under PVM', async () => {
    const r = await run({ image: int3Guest() });
    assert.ok(r.reason === 'shutdown' || r.reason === 'error', r.reason);
    assert.equal(r.exitCode, 123);
    if (r.reason === 'error') assert.match(r.message ?? '', /suberror 1/);
  });

  test('i8042 reset ends with reason reset (exit code 0)', async () => {
    const r = await run({ image: resetGuest() });
    assert.equal(r.reason, 'reset');
    assert.equal(r.exitCode, 0);
  });

  test('PVH boot: 32-bit entry with EBX = hvm_start_info', async () => {
    const r = await run({ image: pvhGuest(9), boot: 'pvh' });
    assert.equal(r.reason, 'exit', r.message);
    assert.equal(r.exitCode, 9);
    assert.equal(r.out, 'P\x78'); // low byte of 0x336ec578
  });

  test('2 vCPUs: the AP waits for SIPI, the VM still ends cleanly', async () => {
    const r = await run({ image: helloGuest('2\n', 3), cpus: 2 });
    assert.equal(r.exitCode, 3, r.message);
    assert.equal(r.out, '2\n');
    const s = await run({ image: spinGuest(), cpus: 2, timeoutMs: 100 });
    assert.equal(s.reason, 'timeout');
  });

  test('many VMs one after another in one process', async () => {
    for (let i = 0; i < 25; i++) {
      const r = await run({ image: helloGuest('', i), memMiB: 16 });
      assert.equal(r.exitCode, i);
    }
  });
});
