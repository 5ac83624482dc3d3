// runVm on the process platform with the test guests of arch/test/process_guest.S: a friendly
// one (console, boot timer, exit code), and hostile ones — a `syscall` that tries to read a host
// file, garbage and floods on the register channel, half a request then death, a spinner,
// garbage over the control page, a privileged instruction. Each ends with a clear outcome; the
// VMM never throws or hangs, leaves no process or fd behind, and another VM in the same process
// keeps running. Bad setups (W+X image, missing or stale tender) are typed errors.
// Skipped, with the reason printed, when arch/build has no tender (make -C arch).

import { spawn } from 'node:child_process';
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageError } from '@kiln/common';
import { PT_LOAD } from '@kiln/common/elf/constants.ts';
import { runVm, type RunVmOptions } from '../vm.ts';
import { VmmError } from '../errors.ts';
import { helloGuest } from '../testing/guests.ts';
import { TENDER_PATH } from './machine.ts';

const GUESTS = fileURLToPath(new URL('../../../../arch/build/test/', import.meta.url));
const guest = (name: string): Uint8Array => readFileSync(join(GUESTS, `process-${name}.elf`));
const skip = !existsSync(TENDER_PATH) ? `${TENDER_PATH} is missing (make -C arch)` : !existsSync(join(GUESTS, 'process-hello.elf')) ? 'the process test guests are not built (make -C arch)' : false;
if (skip) console.log(`# skipping process platform tests: ${skip}`);

async function run(opts: Omit<RunVmOptions, 'stdout' | 'stderr'>): Promise<Awaited<ReturnType<typeof runVm>> & { out: string; err: string }> {
  const out: Uint8Array[] = [];
  let err = '';
  const r = await runVm({ memMiB: 8, timeoutMs: 10_000, platform: 'process', ...opts, stdout: { write: (d) => out.push(d) }, stderr: { write: (s) => (err += s) } });
  return { ...r, out: Buffer.concat(out).toString('latin1'), err };
}

/** Processes whose command line names the tender (and holds `also`): a stray one would be left by a leak. */
function tenders(also = ''): number {
  let n = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      if (cmd.includes('kiln-tender') && cmd.includes(also)) n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}
const fds = (): number => readdirSync('/proc/self/fd').length;

describe('runVm on the process platform', { skip }, () => {
  test('a friendly guest prints, signals the boot timer and exits 7; nothing is left behind', async () => {
    const before = { tenders: tenders(), fds: fds() };
    const r = await run({ image: guest('hello'), bootTimer: true });
    assert.equal(r.out, 'hello from a process guest\n');
    assert.equal(r.reason, 'exit');
    assert.equal(r.exitCode, 7);
    assert.match(r.err, /^Guest-boot-time = +\d+ us \d+ ms/m);
    assert.ok(r.bootTime);
    assert.ok(r.timings.some((t) => t.step === 'start_tender'));
    assert.equal(tenders(), before.tenders);
    assert.equal(fds(), before.fds);
  });

  test('a guest that executes `syscall` to read a host file is stopped with exit 99 and reads nothing', async () => {
    const r = await run({ image: guest('syscall') });
    assert.equal(r.exitCode, 99);
    assert.match(r.out, /signal 31 \(system call 2 refused\) at rip 0x0000000000100/);
    const hostname = readFileSync('/etc/hostname', 'latin1').trim();
    if (hostname) assert.ok(!r.out.includes(hostname), 'the host file reached the console');
  });

  test('garbage on the register channel kills the guest with the reason', async () => {
    const r = await run({ image: guest('garbage') });
    assert.equal(r.reason, 'error');
    assert.equal(r.exitCode, 123);
    assert.match(r.message!, /malformed request \(reserved field is 65535\)/);
  });

  test('a flood of requests whose replies are never read is cut off at the unread-reply bound', async () => {
    const t0 = Date.now();
    const r = await run({ image: guest('flood') });
    assert.equal(r.exitCode, 123);
    assert.match(r.message!, /replies left unread/);
    assert.ok(Date.now() - t0 < 5000);
  });

  test('half a request, then death: the guest died without an exit request', async () => {
    const r = await run({ image: guest('half') });
    assert.equal(r.exitCode, 123);
    assert.match(r.message!, /ended with status 0 without an exit request/);
  });

  test('a spinning guest is stopped by the timeout', async () => {
    const before = tenders();
    const r = await run({ image: guest('spin'), timeoutMs: 300 });
    assert.equal(r.reason, 'timeout');
    assert.equal(r.exitCode, 124);
    assert.equal(tenders(), before);
  });

  test('garbage over the control page and a notify: the VMM carries on, the guest exits 3', async () => {
    const r = await run({ image: guest('control'), disks: [] });
    assert.equal(r.reason, 'exit');
    assert.equal(r.exitCode, 3);
  });

  test('a privileged instruction is a fault report and exit 99', async () => {
    const r = await run({ image: guest('privileged') });
    assert.equal(r.exitCode, 99);
    assert.match(r.out, /signal 11 \(trap 13\)/);
  });

  test('hostile guests and a friendly one in one VMM process: the friendly one runs to its end', async () => {
    const [flood, spin, hello] = await Promise.all([run({ image: guest('flood') }), run({ image: guest('spin'), timeoutMs: 1000 }), run({ image: guest('hello') })]);
    assert.equal(flood.exitCode, 123);
    assert.equal(spin.exitCode, 124);
    assert.equal(hello.exitCode, 7);
    assert.equal(hello.out, 'hello from a process guest\n');
  });

  test('an image without a process entry note, or with a writable and executable segment, is refused', async () => {
    await assert.rejects(run({ image: helloGuest('x', 0) }), (e: unknown) => e instanceof ImageError && /no process entry note/.test((e as Error).message));
    const wx = new Uint8Array(guest('hello'));
    const v = new DataView(wx.buffer);
    const phoff = Number(v.getBigUint64(32, true));
    assert.equal(v.getUint32(phoff, true), PT_LOAD);
    v.setUint32(phoff + 4, 7, true); // text: PF_R | PF_W | PF_X
    const before = { tenders: tenders(), fds: fds() };
    await assert.rejects(run({ image: wx }), (e: unknown) => e instanceof VmmError && e.code === 'ETENDER' && /writable and executable/.test(e.message));
    assert.equal(tenders(), before.tenders);
    assert.equal(fds(), before.fds);
  });

  test('a missing or stale tender is ETENDER with what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-tender-'));
    try {
      await assert.rejects(run({ image: guest('hello'), tenderPath: join(dir, 'none') }), (e: unknown) => e instanceof VmmError && e.code === 'ETENDER' && /missing/.test(e.message) && /make -C arch/.test(e.message));
      const stale = join(dir, 'stale');
      writeFileSync(stale, '#!/bin/sh\necho "kiln-tender: this tender speaks process ABI 0, the VMM asked for 1: rebuild it with \\`make -C arch\\`" >&2\nexit 3\n');
      chmodSync(stale, 0o755);
      await assert.rejects(run({ image: guest('hello'), tenderPath: stale }), (e: unknown) => e instanceof VmmError && e.code === 'ETENDER' && /ABI 0/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a VMM killed with SIGKILL leaves no guest process behind', async () => {
    const vmm = spawn(process.execPath, ['--import', 'tsx', '-e', `import { runVm } from ${JSON.stringify(fileURLToPath(new URL('../vm.ts', import.meta.url)))}; import { readFileSync } from 'node:fs'; await runVm({ image: readFileSync(${JSON.stringify(join(GUESTS, 'process-spin.elf'))}), memMiB: 8, platform: 'process', timeoutMs: 60_000 });`], { stdio: 'ignore' });
    const mine = (): number => tenders(`--parent\0${vmm.pid}\0`);
    try {
      for (let i = 0; i < 200 && mine() === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(mine() > 0, 'the guest started');
      vmm.kill('SIGKILL');
      for (let i = 0; i < 40 && mine() > 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(mine(), 0);
    } finally {
      vmm.kill('SIGKILL');
    }
  });

  test('more than one vCPU or the PVH entry is refused before anything starts', async () => {
    await assert.rejects(run({ image: guest('hello'), cpus: 2 }), (e: unknown) => e instanceof VmmError && e.code === 'EBADCONFIG' && /one vCPU/.test(e.message));
    await assert.rejects(run({ image: guest('hello'), boot: 'pvh' }), (e: unknown) => e instanceof VmmError && e.code === 'EBADCONFIG');
  });
});
