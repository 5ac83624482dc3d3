// E2E: a guest whose JavaScript runs out of memory ends with a clear report and exit 98 on every
// platform (docs/ARCHITECTURE.md "Exit codes"), not a bare "Uncaught InternalError" and exit 1;
// and a kiln:http server on a 64 MiB guest that buffers uploads (`await req.arrayBuffer()`)
// answers 8 parallel 10 MB uploads with 200 or 503 and goes on serving (its body budget is a
// quarter of the heap), where it used to run out of memory and end.
// The guest keeps 1 MiB arrays until QuickJS's allocator fails in a 16 MiB VM: once at the top
// level (the core reports it) and once in a timer (the kernel's runtime hands it to the core).

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execFile } from 'node:child_process';
import { commandExists, coreSkip, kiln, kilnBackground, kilnBuild, kilnTargets, targets, until } from './helpers.ts';
import { freeLoopbackPort } from '@kiln/common/testing/free_port.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-memory-'));
const SOURCES = {
  'top level': "const keep: Uint8Array[] = [];\nconsole.log('allocating');\nfor (;;) keep.push(new Uint8Array(1 << 20).fill(1));\n",
  uploads: "import { serve } from 'kiln:http';\nserve({ port: 8080 }, async (req) => new Response(String((await req.arrayBuffer()).byteLength)));\n",
  'a timer': "const keep: Uint8Array[] = [];\nsetTimeout(() => {\n  console.log('allocating');\n  for (;;) keep.push(new Uint8Array(1 << 20).fill(1));\n}, 1);\n",
};
const image = (where: string): string => join(dir, `${where.replace(' ', '-')}.elf`);

describe('out of memory', { skip: coreSkip() }, () => {
  before(async () => {
    for (const [where, code] of Object.entries(SOURCES)) {
      const src = join(dir, `${where.replace(' ', '-')}.ts`);
      writeFileSync(src, code);
      await kilnBuild(src, image(where));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const t of kilnTargets()) {
    test(`8 parallel 10 MB uploads to a buffering handler: 200 or 503, the server lives (${t.name})`, { skip: t.skip ?? (commandExists('passt') && commandExists('curl') ? undefined : 'needs passt and curl') }, async (c) => {
      c.diagnostic(t.name);
      const port = await freeLoopbackPort();
      const vm = kilnBackground(['run', image('uploads'), ...t.flags, '--mem', '64', '--net', `user,hostfwd=tcp:127.0.0.1:${port}-:8080`, '--timeout', '120']);
      try {
        await until(() => vm.stdout().includes('Listening'), 20_000);
        const upload = join(dir, 'upload.bin');
        writeFileSync(upload, Buffer.alloc(10_000_000, 0x61));
        const post = (): Promise<number> => new Promise((resolve) => {
          execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '60', '--data-binary', `@${upload}`, `http://127.0.0.1:${port}/`], (_e, out) => resolve(Number(out) || -1));
        });
        const statuses = await Promise.all(Array.from({ length: 8 }, post));
        assert.ok(statuses.every((s) => s === 200 || s === 503 || s === -1), `statuses ${statuses}\n${vm.stdout()}`);
        assert.ok(statuses.includes(200), `statuses ${statuses}\n${vm.stdout()}`);
        assert.equal(await post(), 200, `the server still serves\n${vm.stdout()}`);
        assert.doesNotMatch(vm.stdout(), /out of memory|Uncaught/);
      } finally {
        vm.kill();
      }
    });
  }

  for (const t of targets()) for (const where of Object.keys(SOURCES).filter((w) => w !== 'uploads')) {
    test(`a full JavaScript heap in ${where} is reported and exits 98 (${t.name})`, { skip: t.skip }, async (c) => {
      c.diagnostic(t.name);
      const r = await kiln(['run', image(where), ...t.flags, '--mem', '16']);
      assert.match(r.stdout, /allocating\n/);
      assert.match(r.stdout, /Uncaught InternalError: out of memory\n/, r.stdout + r.stderr);
      assert.match(r.stdout, /kiln: out of memory: the guest's JavaScript heap is full \(\d+ of \d+ KiB in use\); give it more with kiln run --mem\n/, r.stdout + r.stderr);
      assert.equal(r.code, 98, r.stdout + r.stderr);
    });
  }
});
