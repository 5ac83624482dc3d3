// E2E: a guest whose JavaScript runs out of memory ends with a clear report and exit 98 on every
// platform (docs/ARCHITECTURE.md "Exit codes"), not a bare "Uncaught InternalError" and exit 1.
// The guest keeps 1 MiB arrays until QuickJS's allocator fails in a 16 MiB VM: once at the top
// level (the core reports it) and once in a timer (the kernel's runtime hands it to the core).

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { coreSkip, kiln, targets } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-memory-'));
const SOURCES = {
  'top level': "const keep: Uint8Array[] = [];\nconsole.log('allocating');\nfor (;;) keep.push(new Uint8Array(1 << 20).fill(1));\n",
  'a timer': "const keep: Uint8Array[] = [];\nsetTimeout(() => {\n  console.log('allocating');\n  for (;;) keep.push(new Uint8Array(1 << 20).fill(1));\n}, 1);\n",
};
const image = (where: string): string => join(dir, `${where.replace(' ', '-')}.elf`);

describe('out of memory', { skip: coreSkip() }, () => {
  before(async () => {
    for (const [where, code] of Object.entries(SOURCES)) {
      const src = join(dir, `${where.replace(' ', '-')}.ts`);
      writeFileSync(src, code);
      const r = await kiln(['build', src, '-o', image(where)]);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const t of targets()) for (const where of Object.keys(SOURCES)) {
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
