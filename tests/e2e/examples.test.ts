// E2E: builds every example with `kiln build` and boots it on each available VMM/accelerator
// (Kiln's VMM on KVM and on the process platform, QEMU with TCG, QEMU with KVM), checking console
// output (stack frames in the app's TypeScript lines) and exit codes; and checks that `kiln run`
// refuses malformed images with exit 126 and one `kiln:` line (on each of Kiln's VMM's platforms
// and on QEMU).
// Skipped configurations say why. Needs arch/build (make -C arch).

import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PF_R, PF_X, PT_LOAD, writeElf } from '@kiln/common';
import { MMIO_GAP_START } from '@kiln/common/layout.ts';
import { coreSkip, kiln, kilnTargets, type Target, targets } from './helpers.ts';

const skipAll = coreSkip();
const dir = mkdtempSync(join(tmpdir(), 'kiln-e2e-'));
const img = (name: string): string => join(dir, `${name}.elf`);

describe('examples', { skip: skipAll }, () => {
  before(async () => {
    for (const name of ['hello', 'exit-code', 'crash']) {
      const r = await kiln(['build', `examples/${name}/main.ts`, '-o', img(name)]);
      assert.equal(r.code, 0, `kiln build ${name} failed: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^${img(name).replace(/[.]/g, '\\.')} \\d+ bytes \\(\\d+\\.\\d KiB\\)\\n$`));
    }
    // console.error of an Error, then an unhandled rejection from a timer (both in TypeScript lines).
    writeFileSync(join(dir, 'reject.ts'), [
      'function make(): Error {',
      "  return new RangeError('logged');",
      '}',
      'console.error(make());',
      'setTimeout(() => {',
      "  void Promise.reject(new TypeError('later'));",
      '}, 1);',
      '',
    ].join('\n'));
    const r = await kiln(['build', join(dir, 'reject.ts'), '-o', img('reject')]);
    assert.equal(r.code, 0, `kiln build reject.ts failed: ${r.stderr}`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const t of targets()) {
    describe(t.name, { skip: t.skip }, () => {
      test('hello prints and exits 0 when the loop drains', async (c) => {
        c.diagnostic(t.name);
        const r = await kiln(['run', img('hello'), ...t.flags]);
        assert.equal(r.stdout.replace(/\r/g, ''), 'Hello from Kiln\n', r.stderr);
        assert.equal(r.code, 0, r.stderr);
      });
      test('exit-code exits with its argument', async (c) => {
        c.diagnostic(t.name);
        for (const code of [42, 0, 7]) {
          const r = await kiln(['run', img('exit-code'), ...t.flags, '--', String(code)]);
          assert.match(r.stdout, new RegExp(`exiting with ${code}`));
          assert.equal(r.code, code, r.stderr);
        }
      });
      test('exit-code without an argument prints usage and exits 2', async (c) => {
        c.diagnostic(t.name);
        const r = await kiln(['run', img('exit-code'), ...t.flags]);
        assert.match(r.stdout, /usage: exit-code/);
        assert.equal(r.code, 2, r.stderr);
      });
      test('crash prints the error with its stack in TypeScript lines and exits 1', async (c) => {
        c.diagnostic(t.name);
        const r = await kiln(['run', img('crash'), ...t.flags]);
        assert.match(r.stdout, /starting/);
        assert.match(r.stdout, /Error: bad port: "eighty"/);
        assert.match(r.stdout, /at parseConfig[\s\S]*at loadConfig[\s\S]*at main/);
        // In the app's TypeScript lines (the image's line map), not the bundle's: the throw, the calls.
        assert.match(r.stdout, /\n {4}at parseConfig \(main\.ts:6\)\r?\n {4}at loadConfig \(main\.ts:11\)\r?\n {4}at main \(main\.ts:16\)\r?\n/);
        assert.doesNotMatch(r.stdout, /at (parseConfig|loadConfig|main) \(main\.js:/);
        assert.equal(r.code, 1, r.stderr);
      });
      test('console.error(err) and an unhandled rejection print TypeScript lines too', async (c) => {
        c.diagnostic(t.name);
        const r = await kiln(['run', img('reject'), ...t.flags]);
        const out = r.stdout.replace(/\r/g, '');
        assert.match(out, /^RangeError: logged\n {4}at make \(reject\.ts:2\)\n {4}at <anonymous> \(reject\.ts:4\)\n/);
        assert.match(out, /\nUncaught \(in promise\) TypeError: later\n {4}at <anonymous> \(reject\.ts:6\)\n/);
        assert.equal(r.code, 1, r.stderr);
      });
    });
  }

  // A bad image is refused before any platform is chosen; checked on each of Kiln's VMM's
  // platforms (kilnTargets()) and on QEMU (no --accel: whichever it picks).
  const refusers: Target[] = [...kilnTargets(), { name: 'vmm=qemu', flags: ['--vmm', 'qemu'], skip: undefined }];

  describe('bad images are refused with exit 126', () => {
    for (const t of refusers) {
      const slug = t.name.replace(/\W/g, '_');
      describe(t.name, { skip: t.skip }, () => {
        const refused = async (file: string, extra: string[] = []): Promise<void> => {
          const r = await kiln(['run', file, ...t.flags, ...extra]);
          assert.equal(r.code, 126, `${t.name}: ${r.stdout}${r.stderr}`);
          assert.match(r.stderr, /^kiln: bad image .*\n$/);
          assert.equal(r.stdout, '');
        };
        test(`truncated image (${t.name})`, async (c) => {
          c.diagnostic(t.name);
          const file = join(dir, `truncated-${slug}.elf`);
          writeFileSync(file, readFileSync(img('hello')).subarray(0, 5000));
          await refused(file);
        });
        test(`random bytes (${t.name})`, async (c) => {
          c.diagnostic(t.name);
          const file = join(dir, `random-${slug}.elf`);
          writeFileSync(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff)));
          await refused(file);
        });
        test(`segment in the MMIO gap, where no --mem puts RAM (${t.name})`, async (c) => {
          c.diagnostic(t.name);
          const file = join(dir, `gap-${slug}.elf`);
          writeFileSync(file, writeElf({
            entry: MMIO_GAP_START,
            segments: [{ type: PT_LOAD, flags: PF_R | PF_X, vaddr: MMIO_GAP_START, data: new Uint8Array([0xf4]), memsz: 4096 }],
          }));
          await refused(file);
        });
      });
    }
  });

  for (const t of refusers) {
    test(`an image larger than --mem is a --mem error (exit 2) naming the size it needs (${t.name})`, { skip: t.skip }, async (c) => {
      c.diagnostic(t.name);
      const file = join(dir, `beyond-${t.name.replace(/\W/g, '_')}.elf`);
      writeFileSync(file, writeElf({
        entry: 0x100000,
        segments: [{ type: PT_LOAD, flags: PF_R | PF_X, vaddr: 0x100000, data: new Uint8Array([0xf4]), memsz: 64 << 20 }],
      }));
      const r = await kiln(['run', file, ...t.flags, '--mem', '16']);
      assert.equal(r.code, 2, `${t.name}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr, 'kiln: --mem 16: too small for this image, whose segments end at 65.0 MiB (at least --mem 65)\n');
      assert.equal(r.stdout, '');
    });
  }
});
