// Tests of the VFS over in-memory filesystems: longest-prefix mount table, directories that
// exist only above mount points, an empty read-only "/", EXDEV across mounts, EBUSY for mount
// points and for unmounting with open files, errors naming the app's path, the fd table and
// positions, append mode, sync of writable mounts only, and bootfs as a read-only mount.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { BootfsImage, encodeBootfs } from '@kiln/common/image/bootfs.ts';
import { BootFs } from './bootfs.ts';
import { Tmpfs } from './tmpfs.ts';
import { FsError, type FileSystem } from './types.ts';
import { Vfs } from './vfs.ts';

const RO = { read: true, write: false, create: false, exclusive: false, truncate: false, append: false };
const W = { read: true, write: true, create: true, exclusive: false, truncate: true, append: false };
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

async function err(p: Promise<unknown>): Promise<{ code: string; syscall: string; path: string } | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (!(e instanceof FsError)) throw e;
    return { code: e.code, syscall: e.syscall, path: e.path };
  }
}
const code = async (p: Promise<unknown>): Promise<string> => {
  const r = await err(p);
  return r === 'ok' ? r : r.code;
};

function bootfs(mountPoint = '/'): BootFs {
  const file = (s: string) => ({ type: 'file' as const, data: bytes(s), mtimeMs: 1000 });
  return new BootFs(BootfsImage.parse(encodeBootfs({
    type: 'dir', mtimeMs: 0,
    entries: new Map<string, never>([['index.html', file('<h1>hi</h1>')], ['css', { type: 'dir', mtimeMs: 0, entries: new Map([['a.css', file('a{}')]]) }]] as never),
  }, mountPoint)));
}

async function writeText(v: Vfs, path: string, s: string): Promise<void> {
  const f = await v.open(path, W);
  await f.write(bytes(s), null);
  await f.close();
}
async function readText(v: Vfs, path: string): Promise<string> {
  const f = await v.open(path, RO);
  const buf = new Uint8Array(1000);
  const n = await f.read(buf, 0, buf.length, null);
  await f.close();
  return text(buf.subarray(0, n));
}

test('empty_root_is_a_read_only_directory', async () => {
  const v = new Vfs();
  assert.equal((await v.stat('/')).type, 'directory');
  assert.deepEqual(await v.readdir('/'), []);
  assert.deepEqual(await err(v.stat('/x')), { code: 'ENOENT', syscall: 'stat', path: '/x' });
  assert.deepEqual(await err(v.mkdir('x')), { code: 'EROFS', syscall: 'mkdir', path: '/x' });
  assert.equal(await code(v.open('/f', W)), 'EROFS');
  assert.equal(await code(v.open('/f', RO)), 'ENOENT');
  assert.equal(await code(v.mkdir('/')), 'EEXIST');
});

test('longest_prefix_wins_and_mount_points_show_as_directories', async () => {
  const v = new Vfs();
  const root = new Tmpfs();
  const data = new Tmpfs();
  await v.mount('/', root, 'tmpfs');
  await v.mount('/mnt/deep/data', data, 'tmpfs');
  await writeText(v, '/mnt/deep/data/f.txt', 'on data');
  await writeText(v, '/g.txt', 'on root');
  assert.deepEqual((await root.readdir('/')).map((e) => e.name), ['g.txt']); // no /mnt created on the root fs
  assert.deepEqual((await data.readdir('/')).map((e) => e.name), ['f.txt']);
  assert.deepEqual(await v.readdir('/'), [{ name: 'g.txt', type: 'file' }, { name: 'mnt', type: 'directory' }]);
  assert.deepEqual(await v.readdir('/mnt'), [{ name: 'deep', type: 'directory' }]);
  assert.equal((await v.stat('/mnt/deep')).type, 'directory');
  assert.equal(await readText(v, '/mnt/deep/../deep/data/./f.txt'), 'on data');
  // Mount points and the directories above them cannot be removed, renamed or replaced.
  assert.equal(await code(v.rmdir('/mnt/deep/data')), 'EBUSY');
  assert.equal(await code(v.rmdir('/mnt')), 'EBUSY');
  assert.equal(await code(v.rename('/mnt', '/other')), 'EBUSY');
  assert.equal(await code(v.rename('/g.txt', '/mnt/deep/data')), 'EBUSY');
  assert.equal(await code(v.unlink('/mnt/deep/data')), 'EISDIR');
  assert.equal(await code(v.mkdir('/mnt/deep/data')), 'EEXIST');
  assert.equal(await code(v.open('/mnt', W)), 'EISDIR');
  assert.equal(await code(v.mount('/mnt/deep/data', new Tmpfs(), 'tmpfs')), 'EBUSY');
  assert.deepEqual(v.mounts().map((m) => [m.path, m.type, m.source]), [['/', 'tmpfs', 'tmpfs'], ['/mnt/deep/data', 'tmpfs', 'tmpfs']]);
});

test('mount_refuses_a_file_and_rename_across_mounts_is_EXDEV', async () => {
  const v = new Vfs();
  await v.mount('/', new Tmpfs(), 'tmpfs');
  await writeText(v, '/file', 'x');
  assert.equal(await code(v.mount('/file', new Tmpfs(), 'tmpfs')), 'ENOTDIR');
  await v.mkdir('/a');
  await v.mount('/b', new Tmpfs(), 'tmpfs');
  await writeText(v, '/a/x', 'x');
  assert.deepEqual(await err(v.rename('/a/x', '/b/x')), { code: 'EXDEV', syscall: 'rename', path: '/a/x' });
  assert.equal(await code(v.rename('/a', '/a/inner')), 'EINVAL');
  await v.rename('/a/x', '/a/y');
  assert.equal(await readText(v, '/a/y'), 'x');
});

test('a_device_is_mounted_once_at_a_time', async () => {
  const v = new Vfs();
  await v.mount('/', new Tmpfs(), 'tmpfs');
  await v.mount('/a', new Tmpfs(), 'disk:0');
  const e = await v.mount('/b', new Tmpfs(), 'disk:0').catch((x: unknown) => x);
  assert.ok(e instanceof FsError);
  assert.equal(e.message, "EBUSY: disk:0 is already mounted at /a, mount '/b'");
  assert.equal(await code(v.mount('/c', new Tmpfs(), 'virtiofs:share')), 'ok');
  assert.equal(await code(v.mount('/d', new Tmpfs(), 'virtiofs:share')), 'EBUSY');
  assert.equal(await code(v.mount('/e', new Tmpfs(), 'disk:1')), 'ok');
  assert.equal(await code(v.mount('/f', new Tmpfs(), 'tmpfs')), 'ok');
  await v.unmount('/a');
  assert.equal(await code(v.mount('/b', new Tmpfs(), 'disk:0')), 'ok');
});

test('unmount_is_EBUSY_with_open_files_or_mounts_below', async () => {
  const v = new Vfs();
  const synced: string[] = [];
  const fs = new Tmpfs();
  const tracked: FileSystem = Object.assign(Object.create(fs) as FileSystem, { unmount: async () => { synced.push('unmount'); } });
  await v.mount('/data', tracked, 'tmpfs');
  await writeText(v, '/data/f', 'x');
  const f = await v.open('/data/f', RO);
  const g = await v.open('/data/f', RO);
  assert.deepEqual([f.fd, g.fd], [3, 4]);
  assert.deepEqual(await err(v.unmount('/data')), { code: 'EBUSY', syscall: 'umount', path: '/data' });
  await f.close();
  const h = await v.open('/data/f', RO);
  assert.equal(h.fd, 3); // the lowest free fd
  await g.close();
  assert.equal(await code(v.unmount('/data')), 'EBUSY');
  await h.close();
  assert.equal(await code(f.read(new Uint8Array(1), 0, 1, null)), 'EBADF');
  await v.mount('/data/sub', new Tmpfs(), 'tmpfs');
  assert.equal(await code(v.unmount('/data')), 'EBUSY');
  await v.unmount('/data/sub');
  await v.unmount('/data');
  assert.deepEqual(synced, ['unmount']);
  assert.equal(await code(v.unmount('/data')), 'EINVAL');
  assert.equal(await code(v.stat('/data/f')), 'ENOENT');
});

test('errors_name_the_app_path_not_the_filesystem_path', async () => {
  const v = new Vfs();
  await v.mount('/srv', new Tmpfs(), 'tmpfs');
  assert.deepEqual(await err(v.open('/srv/a/b', RO)), { code: 'ENOENT', syscall: 'open', path: '/srv/a/b' });
  await writeText(v, '/srv/f', '');
  assert.deepEqual(await err(v.readdir('/srv/f')), { code: 'ENOTDIR', syscall: 'scandir', path: '/srv/f' });
  const e = await v.mkdir('/srv/f').catch((x: FsError) => x);
  assert.equal((e as FsError).message, "EEXIST: file already exists, mkdir '/srv/f'");
});

test('positions_append_and_positional_io', async () => {
  const v = new Vfs();
  await v.mount('/', new Tmpfs(), 'tmpfs');
  const f = await v.open('/f', W);
  await f.write(bytes('hello'), null);
  await f.write(bytes('J'), 0); // positional: the file position stays at 5
  await f.write(bytes(' world'), null);
  await f.close();
  assert.equal(await readText(v, '/f'), 'Jello world');
  const a = await v.open('/f', { ...W, truncate: false, append: true });
  await a.write(bytes('!'), 0); // append mode: at the end whatever the position says
  await a.close();
  assert.equal(await readText(v, '/f'), 'Jello world!');
  const r = await v.open('/f', RO);
  const buf = new Uint8Array(5);
  assert.equal(await r.read(buf, 0, 5, 6), 5);
  assert.equal(text(buf), 'world');
  assert.equal(r.position, 0);
  assert.equal(await code(r.write(bytes('x'), null)), 'EBADF');
  await r.close();
  assert.equal(await code(r.close()), 'EBADF');
});

test('sync_runs_on_writable_mounts_and_clears_dirty', async () => {
  const v = new Vfs();
  const calls: string[] = [];
  const spy = (name: string, fs: FileSystem): FileSystem => Object.assign(Object.create(fs) as FileSystem, { sync: async () => { calls.push(name); } });
  await v.mount('/', spy('boot', bootfs()), 'bootfs');
  await v.mount('/tmp', spy('tmp', new Tmpfs()), 'tmpfs');
  assert.equal(v.dirty, false);
  await v.stat('/index.html');
  assert.equal(v.dirty, false);
  await writeText(v, '/tmp/x', 'x');
  assert.equal(v.dirty, true);
  await v.sync();
  assert.equal(v.dirty, false);
  assert.deepEqual(calls, ['tmp']);
  const failing = new Tmpfs();
  failing.sync = async () => { throw new FsError('EIO', 'fsync', '/'); };
  await v.mount('/bad', failing, 'tmpfs');
  assert.deepEqual(await err(v.sync()), { code: 'EIO', syscall: 'sync', path: '/bad' });
});

test('bootfs_mount_reads_and_refuses_changes', async () => {
  const v = new Vfs();
  await v.mount('/www', bootfs('/www'), 'bootfs');
  assert.equal(await readText(v, '/www/index.html'), '<h1>hi</h1>');
  assert.deepEqual(await v.readdir('/www'), [{ name: 'css', type: 'directory' }, { name: 'index.html', type: 'file' }]);
  const st = await v.stat('/www/css/a.css');
  assert.deepEqual([st.type, st.size, st.mtimeMs, st.mode], ['file', 3, 1000, 0o100444]);
  assert.equal(await code(v.open('/www/index.html', W)), 'EROFS');
  assert.equal(await code(v.open('/www/new', W)), 'EROFS');
  assert.equal(await code(v.mkdir('/www/d')), 'EROFS');
  assert.equal(await code(v.unlink('/www/index.html')), 'EROFS');
  assert.equal(await code(v.rename('/www/index.html', '/www/x')), 'EROFS');
  assert.equal(await code(v.open('/www/css/a.css/x', RO)), 'ENOTDIR');
  assert.equal(v.writableAt('/www/x'), false);
  const f = await v.open('/www/css', RO);
  assert.equal(await code(f.read(new Uint8Array(4), 0, 4, null)), 'EISDIR');
  await f.close();
  assert.equal(v.dirty, false);
});
