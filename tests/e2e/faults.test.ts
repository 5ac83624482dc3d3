// E2E: the guest's CPU-exception report on every platform. `kiln.fault=pf|ud|de` on the kernel
// command line makes the core raise that exception on purpose (arch/main.c); the report must name
// the vector, the faulting RIP with its symbol, CR2 for a page fault, and end the VM with 99.
// `kiln.fault=op` faults in the first console write, under the app's JavaScript: Kiln's VMM then
// adds the JavaScript stack, read from guest RAM, in TypeScript lines (QEMU's report has none).
// Boots hello on Kiln's VMM (KVM, here PVM, and the process platform), QEMU/TCG (ring 0) and
// QEMU/KVM; skips say why.

import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runQemu } from '@kiln/cli';
import { runVm } from '@kiln/vmm';
import { coreSkip, kilnBuild, targets } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-faults-'));
const image = join(dir, 'hello.elf');

async function boot(target: string, cmdline: string): Promise<{ out: string; code: number }> {
  let out = '';
  const stdout = (b: Uint8Array): void => void (out += Buffer.from(b).toString());
  if (target.startsWith('vmm=kiln')) {
    const r = await runVm({ image: readFileSync(image), memMiB: 16, cmdline, platform: target.includes('accel=process') ? 'process' : 'kvm', timeoutMs: 30_000, stdout: { write: stdout } });
    return { out, code: r.exitCode };
  }
  const accel = target.includes('tcg') ? 'tcg' : 'kvm';
  const r = await runQemu({ image, memMiB: 16, cpus: 1, cmdline, accel, timeoutMs: 30_000, stdout });
  return { out, code: r.exitCode };
}

describe('CPU exception reports', { skip: coreSkip() }, () => {
  before(async () => {
    await kilnBuild('examples/hello/main.ts', image);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const t of targets()) {
    describe(t.name, { skip: t.skip }, () => {
      test('page fault: vector, cr2, registers, symbolized rip, exit 99', async (c) => {
        c.diagnostic(t.name);
        const r = await boot(t.name, 'kiln.fault=pf');
        // on the process platform the guest runs in user mode: the error code's bit 2 says so
        const user = t.name.includes('accel=process');
        assert.match(r.out, user ? /kiln: CPU exception 14 \(#PF page fault\), error code 0x4, platform process\n/ : /kiln: CPU exception 14 \(#PF page fault\), error code 0x0, platform (pvm|ring0)\n/);
        assert.match(r.out, /  rip 0x[0-9a-f]{16} <fault_selftest\+0x[0-9a-f]+>\n/);
        assert.match(r.out, user ? /  cr2 0x0000000000000008 \(not present read, user\)\n/ : /  cr2 0x0000000000000008 \(not present read, kernel\)\n/);
        assert.match(r.out, /  rax [0-9a-f]{16} rbx [0-9a-f]{16} rcx [0-9a-f]{16} rdx [0-9a-f]{16}\n/);
        assert.doesNotMatch(r.out, /Hello from Kiln/);
        assert.equal(r.code, 99);
      });
      test('a fault under JavaScript: the JavaScript stack in TypeScript lines (Kiln\'s VMM)', async (c) => {
        c.diagnostic(t.name);
        const r = await boot(t.name, 'kiln.fault=op');
        assert.equal(r.code, 99);
        assert.match(r.out, /  rip 0x[0-9a-f]{16} <op_console_write_faulting\+0x[0-9a-f]+>\n/);
        if (t.name.startsWith('vmm=qemu')) {
          assert.doesNotMatch(r.out, /JavaScript stack/, 'QEMU: nobody reads the guest RAM');
          return;
        }
        const js = r.out.slice(r.out.indexOf('  JavaScript stack, innermost first'));
        assert.ok(js.length < r.out.length, `a JavaScript stack after the report:\n${r.out}`);
        assert.match(js, /^    at op_console_write_faulting \(native\)$/m);
        assert.match(js, /^    at consoleWrite \(kiln:units\/console_out\.ts:\d+\)$/m);
        assert.match(js, /^    at <anonymous> \(main\.ts:4\)$/m, 'the app\'s console.log line');
      });
      test('invalid opcode and divide error', async (c) => {
        c.diagnostic(t.name);
        const ud = await boot(t.name, 'kiln.fault=ud');
        assert.match(ud.out, /kiln: CPU exception 6 \(#UD invalid opcode\)/);
        assert.equal(ud.code, 99);
        const de = await boot(t.name, 'kiln.fault=de');
        assert.match(de.out, /kiln: CPU exception 0 \(#DE divide error\)/);
        assert.equal(de.code, 99);
      });
    });
  }
});
