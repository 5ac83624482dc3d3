// `kiln build --assets` and `kiln run --mount`: the host directory walk (files, directories,
// symbolic links inside the directory; escapes, loops and special files refused with the
// file named), the flag values, and the CLI's golden errors for --assets and --mount.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { BootfsImage } from '@kiln/common';
import { parseAssets, readAssets } from './assets.ts';
import { CliError } from './errors.ts';
import { parseMounts } from './flags.ts';
import { guestCmdline, mountsParam } from './run.ts';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const KILN = join(ROOT, 'packages/cli/bin/kiln.js');
const dir = mkdtempSync(join(tmpdir(), 'kiln-assets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function kiln(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [KILN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const messageOf = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    return e.message;
  }
};

test('readAssets_walks_files_directories_and_inner_links', () => {
  const a = join(dir, 'site');
  mkdirSync(join(a, 'css'), { recursive: true });
  writeFileSync(join(a, 'index.html'), '<h1>hi</h1>');
  writeFileSync(join(a, 'css', 'a.css'), 'a{}');
  utimesSync(join(a, 'index.html'), 1_600_000_000, 1_600_000_000);
  symlinkSync('css/a.css', join(a, 'alias.css'));
  symlinkSync('css', join(a, 'styles'));
  const img = BootfsImage.parse(readAssets({ dir: a, mountPoint: '/www' }));
  assert.equal(img.mountPoint, '/www');
  const names = (i: number): string[] => img.children(i).map((c) => img.node(c).name);
  assert.deepEqual(names(0), ['alias.css', 'css', 'index.html', 'styles']);
  const index = img.childNamed(0, new TextEncoder().encode('index.html'));
  assert.equal(new TextDecoder().decode(img.data(index)), '<h1>hi</h1>');
  assert.equal(img.node(index).mtimeMs, 1_600_000_000_000);
  const styles = img.childNamed(0, new TextEncoder().encode('styles'));
  assert.deepEqual(names(styles), ['a.css']);
});

test('readAssets_refuses_escapes_loops_and_special_files', () => {
  const out = join(dir, 'outside.txt');
  writeFileSync(out, 'secret');
  const esc = join(dir, 'escape');
  mkdirSync(esc);
  symlinkSync(out, join(esc, 'leak'));
  assert.equal(messageOf(() => readAssets({ dir: esc, mountPoint: '/' })), `--assets ${esc}: ${join(esc, 'leak')} is a symbolic link leading outside the directory (to ${out})`);
  const loop = join(dir, 'loop');
  mkdirSync(join(loop, 'sub'), { recursive: true });
  symlinkSync('..', join(loop, 'sub', 'up'));
  assert.match(messageOf(() => readAssets({ dir: loop, mountPoint: '/' })), /sub\/up is a symbolic link to a directory that contains it \(a loop\)$/);
  const dangling = join(dir, 'dangling');
  mkdirSync(dangling);
  symlinkSync('nothing', join(dangling, 'x'));
  assert.match(messageOf(() => readAssets({ dir: dangling, mountPoint: '/' })), /x is a symbolic link to nothing$/);
  const fifo = join(dir, 'fifo');
  mkdirSync(fifo);
  if (spawnSync('mkfifo', [join(fifo, 'pipe')]).status === 0) {
    assert.match(messageOf(() => readAssets({ dir: fifo, mountPoint: '/' })), /pipe is not a regular file or directory \(devices, sockets and FIFOs cannot be assets\)$/);
  }
  assert.equal(messageOf(() => readAssets({ dir: join(dir, 'none'), mountPoint: '/' })), `--assets ${join(dir, 'none')}: no such directory`);
  assert.equal(messageOf(() => readAssets({ dir: out, mountPoint: '/' })), `--assets ${out}: not a directory`);
});

test('assets_and_mount_flag_values', () => {
  assert.deepEqual(parseAssets('site'), { dir: 'site', mountPoint: '/' });
  assert.deepEqual(parseAssets('site:/srv/www'), { dir: 'site', mountPoint: '/srv/www' });
  assert.equal(messageOf(() => parseAssets('site:/a/')), '--assets site:/a/: mount point "/a/" is not an absolute path without a trailing "/"');
  assert.equal(messageOf(() => parseAssets(':/x')), '--assets: expected DIR or DIR:/MOUNTPOINT, got ":/x"');
  const disks = [{ path: 'a.img', readOnly: false }];
  assert.deepEqual(parseMounts(['/data=0', '/tmp=tmpfs', '/host=share'], disks, ['share']), [
    { path: '/data', source: { kind: 'disk', index: 0 } },
    { path: '/tmp', source: { kind: 'tmpfs' } },
    { path: '/host', source: { kind: 'virtiofs', tag: 'share' } },
  ]);
  assert.equal(guestCmdline(false, ['x'], mountsParam(parseMounts(['/data=0', '/tmp=tmpfs'], disks, []))), 'kiln.mounts=/data=disk:0,/tmp=tmpfs -- x');
});

test('mount_flag_errors_golden', () => {
  const img = join(dir, 'd.img');
  writeFileSync(img, Buffer.alloc(4096));
  const cases: Array<[string[], string]> = [
    [['--mount', '/data'], 'kiln: --mount: expected GUESTPATH=DISK_INDEX, GUESTPATH=tmpfs or GUESTPATH=TAG, got "/data"\n'],
    [['--mount', 'data=0'], 'kiln: --mount data=0: the guest path must be absolute (start with /)\n'],
    [['--mount', '/a/../b=tmpfs'], 'kiln: --mount /a/../b=tmpfs: the guest path is not in normal form (/b)\n'],
    [['--mount', '/a b=tmpfs'], 'kiln: --mount /a b=tmpfs: the guest path may hold only letters, digits and . _ ~ + @ / -\n'],
    [['--mount', '/data=0'], 'kiln: --mount /data=0: there is no --disk to mount\n'],
    [['--disk', img, '--mount', '/data=1'], 'kiln: --mount /data=1: there is no disk 1 (1 --disk given; 0 is the first)\n'],
    [['--mount', '/t=tmpfs', '--mount', '/t=tmpfs'], 'kiln: --mount /t=tmpfs: /t is mounted twice\n'],
    [['--mount', '/h=share'], 'kiln: --mount /h=share: no --share has the tag "share" (a disk index, tmpfs, or the TAG of --share HOSTDIR:TAG)\n'],
  ];
  for (const [flags, stderr] of cases) assert.deepEqual(kiln('run', 'x.elf', ...flags), { code: 2, stdout: '', stderr }, flags.join(' '));
  assert.deepEqual(kiln('run', 'x.elf', '--disk', img, '--mount', '/data=0'), { code: 2, stdout: '', stderr: 'kiln: cannot read image x.elf: no such file\n' });
});

test('build_refuses_assets_for_an_app_without_kiln_fs', { skip: existsSync(join(ROOT, 'arch/build/kiln-core.elf')) ? false : 'arch/build missing (make -C arch)' }, () => {
  writeFileSync(join(dir, 'app.ts'), 'console.log(1);\n');
  mkdirSync(join(dir, 'files'), { recursive: true });
  const r = kiln('build', join(dir, 'app.ts'), '--assets', join(dir, 'files'), '-o', join(dir, 'app.elf'));
  assert.deepEqual(r, { code: 2, stdout: '', stderr: `kiln: --assets ${join(dir, 'files')}: ${join(dir, 'app.ts')} does not import kiln:fs, so nothing in the guest could read the files\n` });
});
