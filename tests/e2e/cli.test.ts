// E2E of `kiln run` itself: nothing the guest prints is lost on any VMM whatever stdout is (a
// burst of MBs, far past any pipe buffer, to a pipe read slowly and to a file); a QEMU ended by a
// signal is a failure with its reason; --net tap= names an existing TAP; --env reaches the guest.
// Skipped configurations say why. Needs arch/build (make -C arch).

import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { coreSkip, KILN, kiln, ROOT, targets } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-e2e-cli-'));
const burstElf = join(dir, 'burst.elf');
const envElf = join(dir, 'env.elf');
const helloElf = join(dir, 'hello.elf');
const WIDTH = 165;

/** Lines of the burst per target: QEMU's serial on nested KVM moves ~20 KB/s, TCG ~0.7 MB/s. */
function burstLines(name: string): number {
  if (name.startsWith('vmm=kiln')) return 50_000; // 8.2 MB
  return name.includes('tcg') ? 12_000 : 1_200; // 2 MB; 200 KB (3x a 64 KiB pipe)
}

function expected(n: number): string {
  const pad = 'x'.repeat(WIDTH - 12);
  let s = '';
  for (let i = 0; i < n; i++) s += `${String(i).padStart(8, '0')} ${pad}\n`;
  return `${s}END\n`;
}

/** First difference, for a short failure message instead of MBs of diff. */
function firstDiff(got: string, want: string): string {
  let i = 0;
  while (i < got.length && got[i] === want[i]) i++;
  return `${got.length} of ${want.length} bytes; first difference at byte ${i}: ${JSON.stringify(got.slice(i, i + 40))}`;
}

/** `kiln ARGS` with stdout to a pipe that is not read for 1 s, then one chunk per 2 ms. */
function kilnSlowPipe(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [KILN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = new Promise<number | null>((done, fail) => {
    child.on('error', fail);
    child.on('close', done);
  });
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const read = (async () => {
    const out: Buffer[] = [];
    await sleep(1000);
    for await (const c of child.stdout) {
      out.push(c as Buffer);
      await sleep(2);
    }
    return Buffer.concat(out).toString();
  })();
  return Promise.all([read, code]).then(([stdout, c]) => ({ code: c, stdout, stderr }));
}

/** `kiln ARGS` with stdout to a regular file. */
function kilnToFile(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const path = join(dir, `out-${Math.random().toString(36).slice(2)}.txt`);
  const fd = openSync(path, 'w');
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [KILN, ...args], { cwd: ROOT, stdio: ['ignore', fd, 'pipe'] });
    closeSync(fd);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      const stdout = readFileSync(path, 'utf8');
      rmSync(path, { force: true });
      done({ code, stdout, stderr });
    });
  });
}

describe('kiln run', { skip: coreSkip() }, () => {
  before(async () => {
    writeFileSync(join(dir, 'burst.ts'), [
      "import process, { args } from 'kiln:process';",
      `const pad = 'x'.repeat(${WIDTH - 12});`,
      'const n = Number(args[0]);',
      "for (let i = 0; i < n; i++) console.log(`${String(i).padStart(8, '0')} ${pad}`);",
      "console.log('END');",
      'process.exit(3);',
      '',
    ].join('\n'));
    for (const [src, out] of [[join(dir, 'burst.ts'), burstElf], ['examples/env/main.ts', envElf], ['examples/hello/main.ts', helloElf]] as const) {
      const r = await kiln(['build', src, '-o', out]);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const t of targets()) {
    describe(t.name, { skip: t.skip }, () => {
      const n = burstLines(t.name);
      const flags = [...t.flags.filter((f, i, a) => f !== '--timeout' && a[i - 1] !== '--timeout'), '--timeout', '120'];
      test('--env reaches the guest\'s kiln:process env', async () => {
        const r = await kiln(['run', envElf, ...t.flags, '--env', 'GREETING=hello there', '--env', 'EMPTY=', '--env', 'U=é€', '--', 'GREETING', 'EMPTY', 'U', 'NOPE']);
        assert.equal(r.stdout.replace(/\r/g, ''), 'GREETING=hello there\nEMPTY=\nU=é€\nNOPE is not set\n', r.stderr);
        assert.equal(r.code, 0, r.stderr);
      });
      test('--mem below the image and its heap is refused on the host; the minimum boots', async () => {
        for (const mem of ['2', '3']) {
          const r = await kiln(['run', helloElf, ...t.flags, '--mem', mem]);
          assert.equal(r.code, 2, r.stderr);
          assert.match(r.stderr, new RegExp(`^kiln: --mem ${mem}: too small for this image, whose segments end at [0-9.]+ MiB and whose core needs 1 MiB of heap after them \\(at least --mem 4\\)\\n$`));
          assert.equal(r.stdout, '');
        }
        const r = await kiln(['run', helloElf, ...t.flags, '--mem', '4']);
        assert.equal(r.stdout.replace(/\r/g, ''), 'Hello from Kiln\n', r.stderr);
        assert.equal(r.code, 0, r.stderr);
      });
      for (const [how, run] of [['a pipe read slowly', kilnSlowPipe], ['a file', kilnToFile]] as const) {
        test(`a ${((n * (WIDTH - 2)) / 1e6).toFixed(1)} MB burst reaches ${how} whole`, { timeout: 200_000 }, async (c) => {
          c.diagnostic(`${t.name}: ${n} lines of ${WIDTH - 2} characters`);
          const r = await run(['run', burstElf, ...flags, '--', String(n)]);
          const got = r.stdout.replace(/\r/g, '');
          const want = expected(n);
          assert.ok(got === want, firstDiff(got, want));
          assert.equal(r.code, 3, r.stderr);
        });
      }
    });
  }

  const qemu = targets().find((t) => t.name === 'vmm=qemu accel=tcg')!;
  test('a QEMU ended by SIGTERM is a failure with its reason (exit 123)', { skip: qemu.skip }, async () => {
    const child = spawn(process.execPath, [KILN, 'run', burstElf, '--vmm', 'qemu', '--accel', 'tcg', '--', '100000000'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = new Promise<number | null>((r) => child.on('close', r));
    let pid = '';
    for (let i = 0; i < 100 && pid === ''; i++) {
      await new Promise((r) => setTimeout(r, 100));
      pid = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.trim();
    }
    assert.notEqual(pid, '', 'QEMU did not start');
    await new Promise((r) => setTimeout(r, 500)); // past QEMU's start, where it installs its handler
    process.kill(Number(pid), 'SIGTERM');
    assert.equal(await code, 123, stderr);
    assert.match(stderr, /^kiln: the guest died: QEMU was (terminated by signal 15 \(SIGTERM\) from pid \d+|killed by SIGTERM)/);
  });
});
