// E2E: filesystems seen from a real guest. examples/fs-tour built with --assets lists and reads
// the files baked into the image (bootfs at "/") and, with --mount /tmp=tmpfs, writes, appends,
// renames and reads back files there; a 1 MiB asset arrives byte for byte (checked in the
// guest), mounted at a path of the build's choosing; process.exit after writes waits for the
// filesystems' write-back; a FAT disk made by mkfs.fat (`--mount /data=0`) is read, written
// through the block cache and ends up consistent (fsck.fat) with the guest's files (mtools) after
// process.exit, an uncaught error and the end of the event loop; a host directory shared with
// --share is mounted by tag (Kiln's VMM only: on KVM and on the process platform); a mount the
// guest cannot make stops it before the app's first line.
// On Kiln's VMM, QEMU/TCG and QEMU/KVM; skipped targets say why.

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { commandExists, coreSkip, kiln, kilnTargets, targets } from './helpers.ts';

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

// Reads a host file from a FAT disk and writes a tree of its own, then ends as args[0] says.
const FAT_APP = `
import { appendFile, mkdir, mounts, readFile, readdir, writeFile } from 'kiln:fs';
import { args, exit } from 'kiln:process';
async function main(): Promise<void> {
  console.log(mounts().map((m) => m.path + ':' + m.type).join(' '));
  console.log((await readdir('/data')).join(','), JSON.stringify(await readFile('/data/HOST.TXT', 'utf8')));
  await mkdir('/data/out/deep', { recursive: true });
  await writeFile('/data/out/deep/guest file.txt', 'written by the guest\\n'.repeat(1000));
  await appendFile('/data/out/deep/guest file.txt', 'end\\n');
  if (args[0] === 'exit') exit(4);
  if (args[0] === 'throw') throw new Error('after writing');
}
main();
`;
// Lists a virtio-fs share mounted at /host and writes a file into it.
const SHARE_APP = `
import { mounts, readFile, readdir, writeFile } from 'kiln:fs';
async function main(): Promise<void> {
  console.log(mounts().map((m) => m.path + ' ' + m.type + ' ' + m.source).join(', '));
  console.log((await readdir('/host')).sort().join(','), await readFile('/host/s.txt', 'utf8'));
  await writeFile('/host/sub/from-guest.txt', 'hi host');
}
main();
`;

const fatSkip = (): string | undefined =>
  ['mkfs.fat', 'mcopy', 'mtype', 'fsck.fat'].find((c) => !commandExists(c) && !commandExists(`/usr/sbin/${c}`)) ? 'dosfstools or mtools missing (bash scripts/setup.sh)' : undefined;

describe('filesystems', { skip: coreSkip() }, () => {
  before(async () => {
    const assets = join(dir, 'assets');
    mkdirSync(join(assets, 'data'), { recursive: true });
    writeFileSync(join(assets, 'data', 'big.bin'), Uint8Array.from({ length: BIG }, (_, i) => (i * 31) % 251));
    writeFileSync(join(dir, 'big.ts'), BIG_APP);
    writeFileSync(join(dir, 'exit.ts'), EXIT_APP);
    writeFileSync(join(dir, 'fat.ts'), FAT_APP);
    writeFileSync(join(dir, 'share.ts'), SHARE_APP);
    const builds: string[][] = [
      ['examples/fs-tour/main.ts', '--assets', 'examples/fs-tour/assets', '-o', elf('tour')],
      [join(dir, 'big.ts'), '--assets', `${assets}:/srv`, '-o', elf('big')],
      [join(dir, 'exit.ts'), '-o', elf('exit')],
      [join(dir, 'fat.ts'), '-o', elf('fat')],
      [join(dir, 'share.ts'), '-o', elf('share')],
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

      test('a FAT disk: host files read, guest files written back at every kind of exit', { skip: fatSkip() }, async () => {
        const blank = join(dir, 'fat-blank.img');
        rmSync(blank, { force: true }); // mkfs.fat -C refuses an existing file
        execFileSync(sbin('mkfs.fat'), ['-C', blank, '8192'], { stdio: 'ignore' });
        writeFileSync(join(dir, 'h.txt'), 'from the host\n');
        execFileSync('mcopy', ['-i', blank, join(dir, 'h.txt'), '::/HOST.TXT']);
        const head = '/data:vfat\nHOST.TXT "from the host\\n"\n';
        for (const [mode, code, out] of [['exit', 4, head], ['throw', 1, head], ['drain', 0, head]] as const) {
          const disk = join(dir, `fat-${mode}.img`);
          copyFileSync(blank, disk);
          const r = await kiln(['run', elf('fat'), ...t.flags, '--disk', disk, '--mount', '/data=0', '--', mode]);
          assert.equal(r.code, code, `${mode}: ${r.stdout}${r.stderr}`);
          assert.ok(r.stdout.startsWith(out), `${mode}: ${r.stdout}`);
          const text = execFileSync('mtype', ['-i', disk, '::/out/deep/guest file.txt'], { encoding: 'utf8' });
          assert.equal(text, 'written by the guest\n'.repeat(1000) + 'end\n', mode);
          execFileSync(sbin('fsck.fat'), ['-n', disk], { stdio: 'ignore' }); // throws unless clean
        }
      });
    });
  }

  // virtio-fs is Kiln's VMM's only (QEMU needs an external virtiofsd): on KVM and the process platform.
  for (const t of kilnTargets()) {
    test(`a --share directory mounted by its tag (${t.name})`, { skip: t.skip }, async (c) => {
      c.diagnostic(t.name);
      // One directory per target: the from-guest.txt check must not see an earlier target's file.
      const host = join(dir, `share-${t.name.replace(/\W/g, '_')}`);
      mkdirSync(join(host, 'sub'), { recursive: true });
      writeFileSync(join(host, 's.txt'), 'from the host');
      const r = await kiln(['run', elf('share'), ...t.flags, '--share', `${host}:hostdir`, '--mount', '/host=hostdir']);
      assert.deepEqual({ code: r.code, stdout: r.stdout }, { code: 0, stdout: '/host virtiofs virtiofs:hostdir\ns.txt,sub from the host\n' }, r.stderr);
      assert.equal(readFileSync(join(host, 'sub', 'from-guest.txt'), 'utf8'), 'hi host');
    });
  }

  test('a mount the guest cannot make stops it before the app runs', async () => {
    const t = targets().find((x) => !x.skip);
    if (!t) return;
    const disk = join(dir, 'blank.img');
    writeFileSync(disk, Buffer.alloc(1 << 20));
    const r = await kiln(['run', elf('exit'), ...t.flags, '--disk', disk, '--mount', '/scratch=0']);
    assert.deepEqual({ code: r.code, stdout: r.stdout }, {
      code: 1,
      stdout: "kiln: cannot mount /scratch (disk:0): ENODEV: disk 0 holds no filesystem Kiln knows (FAT12, FAT16, FAT32), mount '/scratch'\n",
    }, r.stderr);
  });
});

/** dosfstools lives in /usr/sbin, which an unprivileged PATH may lack. */
function sbin(name: string): string {
  return commandExists(name) ? name : `/usr/sbin/${name}`;
}
