// `kiln mkfs fat`: golden help and error lines (spawning the real CLI, bin/kiln.js), and images
// it makes from a host tree pass `fsck.fat -n` and read back through mtools byte for byte, for
// each FAT type. The image checks need dosfstools and mtools (scripts/setup.sh).

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { MKFS_HELP } from './help.ts';
import { parseSize } from './mkfs.ts';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const KILN = join(ROOT, 'packages/cli/bin/kiln.js');
const ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
const missing = ['fsck.fat', 'mdir', 'mtype'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { env: ENV }).status !== 0);
const skip = missing.length ? `needs ${missing.join(', ')} (dosfstools, mtools: bash scripts/setup.sh)` : false;

const dir = mkdtempSync(join(tmpdir(), 'kiln-mkfs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function kiln(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [KILN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tool(cmd: string, ...args: string[]): { code: number | null; out: Buffer } {
  const r = spawnSync(cmd, args, { env: ENV });
  return { code: r.status, out: Buffer.concat([r.stdout, r.stderr]) };
}

test('mkfs_help_golden', () => {
  assert.deepEqual(kiln('help', 'mkfs'), { code: 0, stdout: MKFS_HELP, stderr: '' });
  assert.deepEqual(kiln('mkfs', '--help'), { code: 0, stdout: MKFS_HELP, stderr: '' });
});

test('parse_size_units', () => {
  assert.equal(parseSize('64M'), 64 * 1024 * 1024);
  assert.equal(parseSize('1G'), 1024 ** 3);
  assert.equal(parseSize('512KiB'), 512 * 1024);
  assert.equal(parseSize('1048576'), 1048576);
});

test('mkfs_errors_golden', () => {
  const img = join(dir, 'err.img');
  const cases: Array<[string[], string]> = [
    [['mkfs', 'ext4', '-o', img, '--size', '8M'], 'kiln: mkfs: unknown filesystem type "ext4" (only fat)\n'],
    [['mkfs', 'fat', '--size', '8M'], 'kiln: mkfs: missing -o <disk.img> (where to write the image)\n'],
    [['mkfs', 'fat', '-o', img], 'kiln: mkfs: missing --size <size> (for example --size 64M)\n'],
    [['mkfs', 'fat', '-o', img, '--size', 'big'], 'kiln: --size: expected a size such as 64M, 1G or 1048576, got "big"\n'],
    [['mkfs', 'fat', '-o', img, '--size', '1000'], 'kiln: --size: 1000 is not a multiple of 512 bytes\n'],
    [['mkfs', 'fat', '-o', img, '--size', '8M', '--fat', '64'], 'kiln: --fat: expected one of 12, 16, 32, got "64"\n'],
    [['mkfs', 'fat', '-o', img, '--size', '1M', '--fat', '32'], 'kiln: --size: 1 MiB is too small for FAT32 (it needs about 33 MiB); use a larger size or another --fat\n'],
    [['mkfs', 'fat', '-o', img, '--size', '1G', '--fat', '12'], 'kiln: --size: 1 GiB is too large for FAT12 (16382 clusters of 64 KiB; FAT12 allows 4084); use a smaller size or another --fat\n'],
    [['mkfs', 'fat', '-o', img, '--size', '8M', '--label', 'way too long a label'], 'kiln: --label: label "way too long a label" must be 1 to 11 characters\n'],
    [['mkfs', 'fat', '-o', img, '--size', '8M', '--from', join(dir, 'nope')], `kiln: --from ${join(dir, 'nope')}: no such directory\n`],
  ];
  for (const [args, stderr] of cases) assert.deepEqual(kiln(...args), { code: 2, stdout: '', stderr }, args.join(' '));
  assert.equal(existsSync(img), false);
});

test('mkfs_from_errors_remove_the_image', () => {
  const img = join(dir, 'bad.img');
  const clash = join(dir, 'clash');
  mkdirSync(clash);
  writeFileSync(join(clash, 'a.txt'), 'x');
  writeFileSync(join(clash, 'A.TXT'), 'y');
  assert.deepEqual(kiln('mkfs', 'fat', '-o', img, '--size', '4M', '--from', clash), {
    code: 2, stdout: '', stderr: `kiln: --from: cannot copy ${join(clash, 'a.txt')}: a name that differs only in case is already there (FAT names are case-insensitive)\n`,
  });
  assert.equal(existsSync(img), false);
  const big = join(dir, 'big');
  mkdirSync(big);
  writeFileSync(join(big, 'huge.bin'), new Uint8Array(3 * 1024 * 1024));
  assert.deepEqual(kiln('mkfs', 'fat', '-o', img, '--size', '2M', '--from', big), {
    code: 2, stdout: '', stderr: `kiln: --from: cannot copy ${join(big, 'huge.bin')}: out of space (use a larger --size)\n`,
  });
  const odd = join(dir, 'odd');
  mkdirSync(odd);
  writeFileSync(join(odd, 'bad:name'), 'z');
  assert.deepEqual(kiln('mkfs', 'fat', '-o', img, '--size', '2M', '--from', odd), {
    code: 2, stdout: '', stderr: `kiln: --from: cannot copy ${join(odd, 'bad:name')}: the name cannot be stored in FAT (character ":" is not allowed in FAT names)\n`,
  });
  const link = join(dir, 'link');
  mkdirSync(link);
  symlinkSync('/etc/hostname', join(link, 'l'));
  assert.deepEqual(kiln('mkfs', 'fat', '-o', img, '--size', '2M', '--from', link), {
    code: 2, stdout: '', stderr: `kiln: --from: ${join(link, 'l')} is a symbolic link; FAT holds only files and directories\n`,
  });
  assert.equal(existsSync(img), false);
});

for (const [fat, size, clusterSize] of [['12', '4M', 2048], ['16', '16M', 2048], ['32', '40M', 512]] as const) {
  test(`mkfs_fat${fat}_from_tree_passes_fsck_and_mtools_reads_it`, { skip }, () => {
    const tree = join(dir, `tree${fat}`);
    const files: Record<string, Buffer> = {
      'hello.txt': Buffer.from('hello\n'),
      'A Long Name With Spaces.markdown': Buffer.from('# title\n'),
      'sub/deeper/data.bin': Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 13) & 0xff)),
      'sub/ünïcødé.txt': Buffer.from('ü'),
      'sub/empty': Buffer.alloc(0),
    };
    for (const [p, data] of Object.entries(files)) {
      mkdirSync(join(tree, p, '..'), { recursive: true });
      writeFileSync(join(tree, p), data);
    }
    const img = join(dir, `fat${fat}.img`);
    const r = kiln('mkfs', 'fat', '-o', img, '--size', size, '--from', tree, '--fat', fat, '--label', 'kiln disk');
    assert.deepEqual(r, {
      code: 0, stderr: '',
      stdout: `${img}: FAT${fat}, ${parseSize(size)} bytes, ${clusterSize}-byte clusters, 5 files (200016 bytes) in 2 directories from ${tree}\n`,
    });
    const ck = tool('fsck.fat', '-n', img);
    assert.equal(ck.code, 0, ck.out.toString());
    const list = tool('mdir', '-/', '-b', '-i', img, '::/').out.toString().split('\n').filter((l) => l.startsWith('::/')).sort();
    assert.deepEqual(list, ['::/A Long Name With Spaces.markdown', '::/hello.txt', '::/sub/', '::/sub/deeper/', '::/sub/deeper/data.bin', '::/sub/empty', '::/sub/ünïcødé.txt']);
    for (const [p, data] of Object.entries(files)) assert.deepEqual(tool('mtype', '-i', img, `::/${p}`).out, data, p);
    assert.match(tool('mdir', '-i', img, '::/').out.toString(), /Volume in drive : is KILN DISK/);
  });
}

test('mkfs_an_image_inside_from_leaves_itself_out', { skip }, () => {
  const tree = join(dir, 'self');
  mkdirSync(join(tree, 'sub'), { recursive: true });
  writeFileSync(join(tree, 'a.txt'), 'alpha');
  const img = join(tree, 'sub', 'disk.img');
  const r = kiln('mkfs', 'fat', '-o', img, '--size', '4M', '--from', tree);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(tool('fsck.fat', '-n', img).code, 0);
  assert.equal(tool('mtype', '-i', img, '::/a.txt').out.toString(), 'alpha');
  assert.doesNotMatch(tool('mdir', '-i', img, '::/sub').out.toString(), /DISK|disk\.img/i, 'the image is not copied into itself');
});
