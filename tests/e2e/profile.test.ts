// E2E: `kiln profile` on every platform of Kiln's VMM (KVM and the process platform) samples a
// real guest: a CPU-bound app's hot function tops the JavaScript table with its TypeScript file
// and line, the native stack runs through QuickJS's interpreter, the folded stacks parse and
// the flame graph is written; a program that ends before the first sample says so; a guest that
// throws mid-run keeps the samples taken so far and the profile says how it ended; --duration
// writes the profile while a long-running guest runs on. QEMU is not sampled yet (kiln says so).

import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { coreSkip, kiln, kilnBuild, kilnTargets } from './helpers.ts';
import { parseFolded } from '@kiln/vmm/profile/folded.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-profile-'));
const SOURCES: Record<string, string> = {
  burn: [
    'function fib(n: number): number {',
    '  return n < 2 ? n : fib(n - 1) + fib(n - 2);',
    '}',
    'const end = Date.now() + 700;',
    'let total = 0;',
    'while (Date.now() < end) total += fib(18);',
    "console.log('burnt', total > 0);",
    "if (process.argv[2] === 'throw') throw new Error('after the burn');",
    '',
  ].join('\n'),
  methods: [
    'class Burner {',
    '  spin(n: number): number {',
    '    let s = 0;',
    '    for (let i = 0; i < n; i++) s = (s + i * 7) % 1000003;',
    '    return s;',
    '  }',
    '}',
    'const b = new Burner();',
    'const end = Date.now() + 500;',
    'let total = 0;',
    'while (Date.now() < end) total += b.spin(20000);',
    "console.log('spun', total > 0);",
    '',
  ].join('\n'),
  quick: "console.log('quick');\n",
  server: "console.log('serving');\nsetInterval(() => {}, 100);\n",
};
const image = (name: string): string => join(dir, `${name}.elf`);

describe('kiln profile', { skip: coreSkip() }, () => {
  before(async () => {
    for (const [name, code] of Object.entries(SOURCES)) {
      writeFileSync(join(dir, `${name}.ts`), code);
      await kilnBuild(join(dir, `${name}.ts`), image(name));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const t of kilnTargets()) {
    test(`a CPU-bound app: its hot function in TypeScript terms, folded stacks, flame graph (${t.name})`, { skip: t.skip }, async (c) => {
      c.diagnostic(t.name);
      const out = join(dir, `burn-${t.flags[3]}`);
      const r = await kiln(['profile', image('burn'), ...t.flags, '--hz', '2000', '-o', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /burnt true/);
      assert.match(r.stderr, /Stopped: the guest exited with code 0/);
      const js = r.stderr.slice(r.stderr.indexOf('JavaScript functions'));
      const first = js.split('\n')[2] ?? '';
      assert.match(first, /fib\s+burn\.ts:2$/, `the JS table's first row is fib at burn.ts:2 (its first line of code):\n${r.stderr}`);
      const samples = Number(/(\d+) samples/.exec(r.stderr)?.[1]);
      assert.ok(samples >= 700, `~2000 Hz over ~0.7 s: ${samples} samples`);
      const stacks = parseFolded(readFileSync(`${out}.folded`, 'utf8'));
      assert.equal(stacks.reduce((n, s) => n + s.count, 0), samples, 'the folded stacks hold every sample');
      assert.ok(stacks.some((s) => s.frames.some((f) => f.name === 'JS_CallInternal') && s.frames.some((f) => f.name === 'kmain')), 'native frames from kmain into the interpreter');
      assert.match(r.stderr, /^\s*\d+\s+\S+\s+\S+\s+JS_CallInternal\s+quickjs\.c:\d+$/m, 'a C function with its file and line (addr2line over the core ELF)');
      assert.ok(stacks.some((s) => s.frames.filter((f) => f.kind === 'js' && f.name === 'fib').length >= 5), 'recursion shows as nested fib frames');
      assert.match(readFileSync(`${out}.svg`, 'utf8'), /^<\?xml[^]*<svg[^]*fib \(burn\.ts:2\)/);
      assert.match(readFileSync(`${out}.txt`, 'utf8'), /Functions by self samples/);
    });

    test(`a class method is named by its class, from the image's function names (${t.name})`, { skip: t.skip }, async () => {
      const r = await kiln(['profile', image('methods'), ...t.flags, '--hz', '2000', '-o', join(dir, `methods-${t.flags[3]}`)]);
      assert.equal(r.code, 0, r.stderr);
      const js = r.stderr.slice(r.stderr.indexOf('JavaScript functions'));
      assert.match(js.split('\n')[2] ?? '', /Burner\.spin\s+methods\.ts:3$/, `the JS table's first row is Burner.spin at methods.ts:3:\n${r.stderr}`);
    });

    test(`a program that exits before the first sample says so (${t.name})`, { skip: t.skip }, async () => {
      const r = await kiln(['profile', image('quick'), ...t.flags, '--hz', '1', '-o', join(dir, `quick-${t.flags[3]}`)]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /No samples were taken before sampling ended \(the guest exited with code 0\)/);
      assert.ok(existsSync(join(dir, `quick-${t.flags[3]}.svg`)));
    });

    test(`a guest that throws mid-run keeps its samples and says how it ended (${t.name})`, { skip: t.skip }, async () => {
      const r = await kiln(['profile', image('burn'), ...t.flags, '-o', join(dir, `throw-${t.flags[3]}`), '--', 'throw']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /Stopped: the guest exited with code 1/);
      assert.ok(Number(/(\d+) samples/.exec(r.stderr)?.[1]) > 300, r.stderr);
    });

    test(`--duration writes the profile while the guest runs on (${t.name})`, { skip: t.skip }, async () => {
      const flags = t.flags.map((f, i) => (t.flags[i - 1] === '--timeout' ? '3' : f));
      const r = await kiln(['profile', image('server'), ...flags, '--duration', '0.5', '-o', join(dir, `server-${t.flags[3]}`)]);
      assert.equal(r.code, 124, r.stderr); // it runs until --timeout
      assert.match(r.stderr, /Stopped: --duration 0\.5 s/);
      assert.ok(r.stderr.indexOf('Stopped: --duration') < r.stderr.indexOf('did not finish within --timeout'), 'the profile came before the timeout');
    });
  }

  test('QEMU is refused with the reason', async () => {
    const r = await kiln(['profile', image('quick'), '--vmm', 'qemu']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /sampling QEMU guests is not built yet/);
  });
});
