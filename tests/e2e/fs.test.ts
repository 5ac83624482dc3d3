// E2E: filesystems seen from a real guest. examples/fs-tour built with --assets lists and reads
// the files baked into the image (bootfs at "/") and, with --mount /tmp=tmpfs, writes, appends,
// renames and reads back files there; a 1 MiB asset arrives byte for byte (checked in the
// guest), mounted at a path of the build's choosing; process.exit after writes waits for the
// filesystems' write-back; a mount the guest cannot make stops it before the app's first line.
// On Kiln's VMM, QEMU/TCG and QEMU/KVM; skipped targets say why.

import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { coreSkip, kiln, targets } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-fs-'));
const elf = (name: string): string => join(dir, `${name}.elf`);
const BIG = 1 << 20;

const TOUR = [
  'mount / bootfs ro',
  'mount /tmp tmpfs',
  'docs/',
  '  readme.md (30 bytes)',
  'hello.txt (34 bytes)',
  'tmp/',
  'hello.txt says: Hello from the image, ünïcödé',
  "writing the image's files: EROFS",
  'positional read: second',
  'tmp: notes notes/2024 notes/b.txt',
  'b.txt: "first line\\nsecond line\\n"',
  '',
].join('\n');

// Reads the big asset through a stream and checks every byte against the pattern the test wrote.
const BIG_APP = `
import { createReadStream, mounts, stat } from 'kiln:fs';
import { exit } from 'kiln:process';
console.log('first line sees', mounts().map((m) => m.path + ':' + m.type).join(' '));
async function main(): Promise<void> {
  let at = 0;
  let bad = -1;
  for await (const chunk of createReadStream('/srv/data/big.bin')) {
    for (let i = 0; i < chunk.length && bad < 0; i++) if (chunk[i] !== ((at + i) * 31) % 251) bad = at + i;
    at += chunk.length;
  }
  console.log('big.bin', at, (await stat('/srv/data/big.bin')).size, bad < 0 ? 'intact' : 'differs at ' + bad);
  exit(0);
}
main();
`;

// Writes on a tmpfs, then ends with process.exit(3): the exit waits for the (nested-loop) write-back.
const EXIT_APP = `
import { writeFile, readFile } from 'kiln:fs';
import { exit } from 'kiln:process';
async function main(): Promise<void> {
  await writeFile('/scratch/f', 'kept');
  console.log('wrote', await readFile('/scratch/f', 'utf8'));
  exit(3);
}
main();
`;

describe('filesystems', { skip: coreSkip() }, () => {
  before(async () => {
    const assets = join(dir, 'assets');
    mkdirSync(join(assets, 'data'), { recursive: true });
    writeFileSync(join(assets, 'data', 'big.bin'), Uint8Array.from({ length: BIG }, (_, i) => (i * 31) % 251));
    writeFileSync(join(dir, 'big.ts'), BIG_APP);
    writeFileSync(join(dir, 'exit.ts'), EXIT_APP);
    const builds: string[][] = [
      ['examples/fs-tour/main.ts', '--assets', 'examples/fs-tour/assets', '-o', elf('tour')],
      [join(dir, 'big.ts'), '--assets', `${assets}:/srv`, '-o', elf('big')],
      [join(dir, 'exit.ts'), '-o', elf('exit')],
    ];
    for (const b of builds) {
      const r = await kiln(['build', ...b]);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const t of targets()) {
    describe(t.name, { skip: t.skip }, () => {
      test('fs-tour lists and reads the bootfs and works on a tmpfs', async (c) => {
        c.diagnostic(t.name);
        const r = await kiln(['run', elf('tour'), ...t.flags, '--mount', '/tmp=tmpfs']);
        assert.deepEqual({ code: r.code, stdout: r.stdout }, { code: 0, stdout: TOUR }, r.stderr);
        const ro = await kiln(['run', elf('tour'), ...t.flags]);
        assert.equal(ro.code, 0, ro.stderr);
        assert.equal(ro.stdout, TOUR.split('\n').filter((l) => l !== 'mount /tmp tmpfs' && l !== 'tmp/').slice(0, 6).join('\n') + '\n');
      });

      test('a 1 MiB asset mounted at /srv streams back intact, mounts ready on the first line', async () => {
        const r = await kiln(['run', elf('big'), ...t.flags]);
        assert.deepEqual({ code: r.code, stdout: r.stdout }, { code: 0, stdout: `first line sees /srv:bootfs\nbig.bin ${BIG} ${BIG} intact\n` }, r.stderr);
      });

      test('process.exit after writes ends with its code once write-back is done', async () => {
        const r = await kiln(['run', elf('exit'), ...t.flags, '--mount', '/scratch=tmpfs']);
        assert.deepEqual({ code: r.code, stdout: r.stdout }, { code: 3, stdout: 'wrote kept\n' }, r.stderr);
      });
    });
  }

  test('a mount the guest cannot make stops it before the app runs', async () => {
    const t = targets().find((x) => !x.skip);
    if (!t) return;
    const disk = join(dir, 'blank.img');
    writeFileSync(disk, Buffer.alloc(1 << 20));
    const r = await kiln(['run', elf('exit'), ...t.flags, '--disk', disk, '--mount', '/scratch=0']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^kiln: cannot mount \/scratch \(disk:0\): .*\n$/);
  });
});
