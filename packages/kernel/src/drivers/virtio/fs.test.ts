// virtio-fs end to end in one Node process: the guest FileSystem (fs/virtiofs/filesystem.ts,
// session.ts) and driver (fs.ts) against the VMM's real virtio-mmio transport, device and FUSE
// server over a temp directory, on the fake machine of testing/node_virtio_bench.ts. Throughput
// through this path: bench/driver_device.ts.

import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ADDON_PATH } from '@kiln/kvm/native.ts';
import { VirtioFs } from '@kiln/vmm/devices/virtio/fs/device.ts';
import { VirtioRng } from '@kiln/vmm/devices/virtio/rng.ts';
import { FsError, type FileSystem } from '../../fs/types.ts';
import { mountVirtioFs, mountVirtioFsOn } from '../../fs/virtiofs/mount.ts';
import { activeRefs } from '../../lib/handles.ts';
import { setOpsForTesting } from '../../ops.ts';
import { VirtioBench } from '../../testing/node_virtio_bench.ts';
import { VirtioFsDriver } from './fs.ts';
import { resetVirtioDevicesForTesting } from './mmio.ts';

const skip = existsSync(ADDON_PATH) ? false : 'the addon is not built';
const top = mkdtempSync(join(tmpdir(), 'kiln-virtiofs-'));
after(() => rmSync(top, { recursive: true, force: true }));

function shareDir(name: string): { dir: string; outside: string } {
  const dir = join(top, name, 'share');
  const outside = join(top, name, 'outside');
  mkdirSync(dir, { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, 'secret.txt'), 'SECRET');
  return { dir, outside };
}

async function mounted(name: string, o: { readOnly?: boolean; guestReadOnly?: boolean } = {}): Promise<{ b: VirtioBench; fs: FileSystem; dev: VirtioFs; dir: string; outside: string; driver: VirtioFsDriver; clock: { now: number } }> {
  const { dir, outside } = shareDir(name);
  const b = new VirtioBench(64 << 20);
  const clock = { now: 0 };
  const dev = VirtioFs.open({ hostDir: dir, tag: name, readOnly: o.readOnly ?? false });
  const driver = new VirtioFsDriver(b.add(dev, { announce: true }).dev);
  const fs = await b.run(mountVirtioFsOn(driver, { readOnly: o.guestReadOnly ?? false }, () => clock.now));
  return { b, fs, dev, dir, outside, driver, clock };
}

const RDWR_CREATE = { read: true, write: true, create: true, exclusive: false, truncate: false };
const READ = { read: true, write: false, create: false, exclusive: false, truncate: false };
const enc = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));
const dec = (b: Uint8Array): string => Buffer.from(b).toString();

async function code(b: VirtioBench, p: Promise<unknown>): Promise<string> {
  try {
    await b.run(p);
  } catch (e) {
    assert.ok(e instanceof FsError, `an FsError, got ${(e as Error)?.stack}`);
    return e.code;
  }
  return 'ok';
}

test('create_write_read_stat_readdir_rename_unlink_mkdir_rmdir', { skip }, async () => {
  const { b, fs, dev, dir } = await mounted('ops');
  assert.equal(fs.type, 'virtiofs');
  assert.equal(fs.readOnly, false);
  const f = await b.run(fs.open('/a.txt', RDWR_CREATE));
  assert.equal(await b.run(f.write(0, enc('hello virtio-fs'))), 15);
  const buf = new Uint8Array(64);
  assert.equal(await b.run(f.read(6, buf, 1, 63)), 9);
  assert.equal(dec(buf.subarray(1, 10)), 'virtio-fs');
  assert.equal((await b.run(f.stat())).size, 15);
  await b.run(f.truncate(5));
  await b.run(f.sync());
  await b.run(f.close());
  assert.equal(await code(b, f.read(0, buf, 0, 1)), 'EBADF');
  assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), 'hello');
  const st = await b.run(fs.stat('/a.txt'));
  assert.deepEqual([st.type, st.size, st.nlink, st.mode & 0o777], ['file', 5, 1, 0o644]);
  assert.ok(Math.abs(st.mtimeMs - Date.now()) < 60_000);
  await b.run(fs.mkdir('/d'));
  await b.run(fs.mkdir('/d/e'));
  assert.equal(await code(b, fs.mkdir('/d')), 'EEXIST');
  await b.run(fs.rename('/a.txt', '/d/e/b.txt'));
  assert.equal(readFileSync(join(dir, 'd', 'e', 'b.txt'), 'utf8'), 'hello');
  assert.equal(await code(b, fs.stat('/a.txt')), 'ENOENT');
  assert.deepEqual(await b.run(fs.readdir('/d')), [{ name: 'e', type: 'directory' }]);
  assert.deepEqual((await b.run(fs.readdir('/'))).map((e) => e.name), ['d']);
  assert.equal((await b.run(fs.stat('/'))).type, 'directory');
  assert.equal(await code(b, fs.rmdir('/d')), 'ENOTEMPTY');
  assert.equal(await code(b, fs.unlink('/d')), 'EISDIR');
  assert.equal(await code(b, fs.rmdir('/d/e/b.txt')), 'ENOTDIR');
  assert.equal(await code(b, fs.open('/d', READ)), 'EISDIR');
  assert.equal(await code(b, fs.open('/missing', READ)), 'ENOENT');
  assert.equal(await code(b, fs.open('/d/e/b.txt', { ...RDWR_CREATE, exclusive: true })), 'EEXIST');
  assert.equal(await code(b, fs.readdir('/d/e/b.txt')), 'ENOTDIR');
  assert.equal(await code(b, fs.stat('/d/e/b.txt/x')), 'ENOTDIR');
  await b.run(fs.unlink('/d/e/b.txt'));
  await b.run(fs.rmdir('/d/e'));
  await b.run(fs.rmdir('/d'));
  assert.deepEqual(readdirSync(dir), []);
  // truncate on open, exclusive create, rename over an existing file
  writeFileSync(join(dir, 'x'), 'old contents');
  const t = await b.run(fs.open('/x', { read: true, write: true, create: false, exclusive: false, truncate: true }));
  assert.equal((await b.run(t.stat())).size, 0);
  await b.run(t.close());
  writeFileSync(join(dir, 'y'), 'y');
  await b.run(fs.rename('/y', '/x'));
  assert.equal(readFileSync(join(dir, 'x'), 'utf8'), 'y');
  const u = await b.run(fs.usage());
  assert.ok(u.blockSize > 0 && u.totalBlocks > 0 && u.freeBlocks >= 0);
  await b.run(fs.sync());
  await b.run(fs.unmount());
  assert.equal(activeRefs(), 0, 'every request released its ref');
  assert.equal(dev.server.inodes.size, 1, 'unmount forgot every lookup');
  assert.equal(dev.server.handles.size, 0);
  assert.equal(await code(b, fs.stat('/')), 'ENODEV');
  dev.close();
});

test('big_files_in_chunks_with_many_requests_in_flight', { skip }, async () => {
  const { b, fs, dev, dir } = await mounted('big');
  const data = new Uint8Array((5 << 20) + 12345).map((_, i) => (i * 31 + (i >> 12)) & 0xff);
  const f = await b.run(fs.open('/big.bin', RDWR_CREATE));
  assert.equal(await b.run(f.write(100, data)), data.length);
  const onHost = readFileSync(join(dir, 'big.bin'));
  assert.equal(onHost.length, data.length + 100);
  assert.ok(onHost.subarray(0, 100).every((x) => x === 0), 'the gap reads as zeros');
  assert.ok(Buffer.from(data).equals(onHost.subarray(100)));
  const back = new Uint8Array(data.length + 1000);
  assert.equal(await b.run(f.read(100, back, 0, back.length)), data.length, 'short at end of file');
  assert.ok(Buffer.from(back.subarray(0, data.length)).equals(Buffer.from(data)));
  assert.equal(await b.run(f.read(data.length + 100, back, 0, 10)), 0);
  await b.run(f.close());
  assert.ok(dev.server.stats.bytesWritten >= data.length);
  const concurrent = await b.run(Promise.all(Array.from({ length: 40 }, (_, i) => fs.stat(i % 2 ? '/big.bin' : '/'))));
  assert.equal(concurrent.length, 40);
  await b.run(fs.unmount());
  assert.equal(activeRefs(), 0);
  dev.close();
});

test('host_errors_and_guest_limits_map_to_fs_error_codes', { skip }, async () => {
  const { b, fs, dev, dir, outside } = await mounted('errors');
  symlinkSync(outside, join(dir, 'out'));
  symlinkSync(join(outside, 'secret.txt'), join(dir, 'secret-link'));
  assert.equal((await b.run(fs.stat('/out'))).type, 'symlink', 'a symlink is reported as one');
  assert.equal(await code(b, fs.open('/secret-link', READ)), 'ELOOP');
  assert.equal(await code(b, fs.stat('/out/secret.txt')), 'ENOTDIR', 'never traversed');
  assert.equal(await code(b, fs.readdir('/out')), 'ENOTDIR');
  assert.equal(await code(b, fs.open('/out/new', RDWR_CREATE)), 'ENOTDIR');
  assert.equal(await code(b, fs.open('/secret-link', RDWR_CREATE)), 'ELOOP');
  assert.deepEqual((await b.run(fs.readdir('/'))).map((e) => [e.name, e.type]).sort(), [['out', 'symlink'], ['secret-link', 'symlink']]);
  assert.deepEqual(readdirSync(outside), ['secret.txt']);
  assert.equal(await code(b, fs.stat('/' + 'x'.repeat(256))), 'ENAMETOOLONG');
  assert.equal(await code(b, fs.stat('relative')), 'EINVAL');
  assert.equal(await code(b, fs.rmdir('/')), 'EBUSY');
  const ro = await b.run(fs.open('/f', RDWR_CREATE));
  await b.run(ro.close());
  const r = await b.run(fs.open('/f', READ));
  assert.equal(await code(b, r.write(0, enc('x'))), 'EBADF');
  assert.equal(await code(b, r.truncate(0)), 'EBADF');
  assert.equal(await code(b, fs.open('/f', { read: true, write: false, create: false, exclusive: false, truncate: true })), 'EINVAL');
  await b.run(r.close());
  assert.equal(await code(b, r.close()), 'EBADF', 'closed twice');
  await b.run(fs.unmount());
  dev.close();
});

test('read_only_share_and_read_only_mount', { skip }, async () => {
  const host = await mounted('ro-host', { readOnly: true });
  writeFileSync(join(host.dir, 'r.txt'), 'read me');
  const f = await host.b.run(host.fs.open('/r.txt', READ));
  const buf = new Uint8Array(7);
  assert.equal(await host.b.run(f.read(0, buf, 0, 7)), 7);
  await host.b.run(f.close());
  const h = host.fs;
  for (const attempt of [() => h.mkdir('/m'), () => h.unlink('/r.txt'), () => h.rename('/r.txt', '/s'), () => h.open('/n', RDWR_CREATE), () => h.open('/r.txt', { ...READ, write: true })]) {
    assert.equal(await code(host.b, attempt()), 'EROFS', 'the host share refuses');
  }
  assert.deepEqual(readdirSync(host.dir), ['r.txt']);
  await host.b.run(host.fs.unmount());
  host.dev.close();
  const guest = await mounted('ro-guest', { guestReadOnly: true });
  assert.equal(guest.fs.readOnly, true);
  const before = guest.driver.requests;
  assert.equal(await code(guest.b, guest.fs.mkdir('/m')), 'EROFS');
  assert.equal(await code(guest.b, guest.fs.open('/n', RDWR_CREATE)), 'EROFS');
  assert.equal(guest.driver.requests, before, 'refused without asking the host');
  await guest.b.run(guest.fs.unmount());
  guest.dev.close();
});

test('name_cache_expires_and_is_bounded_and_forgets_its_lookups', { skip }, async () => {
  const { b, fs, dev, dir, clock } = await mounted('cache');
  mkdirSync(join(dir, 'sub'));
  for (let i = 0; i < 600; i++) writeFileSync(join(dir, 'sub', `f${i}`), String(i));
  for (let i = 0; i < 600; i++) await b.run(fs.stat(`/sub/f${i}`));
  assert.ok((fs as unknown as { cachedNames: number }).cachedNames <= 512, 'bounded');
  await b.run(Promise.resolve());
  assert.ok(dev.server.inodes.size <= 514, `the server holds what the cache holds (${dev.server.inodes.size})`);
  // a name changed behind the guest's back is seen again once its entry expires
  const before = dev.server.stats.requests;
  await b.run(fs.stat('/sub/f599'));
  assert.equal(dev.server.stats.requests - before, 1, 'cached parent and name: one GETATTR');
  rmSync(join(dir, 'sub', 'f599'));
  clock.now += 2000;
  assert.equal(await code(b, fs.stat('/sub/f599')), 'ENOENT');
  await b.run(fs.unmount());
  assert.equal(dev.server.inodes.size, 1);
  dev.close();
});

test('mount_by_tag_finds_the_device_or_says_enodev', { skip }, async () => {
  const b = new VirtioBench(64 << 20);
  b.add(new VirtioRng(), { announce: true });
  const { dir } = shareDir('tags');
  const dev = VirtioFs.open({ hostDir: dir, tag: 'data' });
  b.add(dev, { announce: true });
  setOpsForTesting(b.m.ops);
  resetVirtioDevicesForTesting();
  b.m.cmdline = b.m.cmdline.trim();
  try {
    await assert.rejects(mountVirtioFs('nope'), (e: unknown) => e instanceof FsError && e.code === 'ENODEV' && /no virtio-fs share with tag "nope" \(shares: "data"; kiln run --share HOSTDIR:nope\)/.test(e.message));
  } finally {
    resetVirtioDevicesForTesting();
    dev.close();
  }
  // a second mount of a mounted tag is refused; after unmount it mounts again (INIT once more)
  const m = await mounted('again');
  await assert.rejects(m.b.run(mountVirtioFsOn(m.driver, {}, () => 0)), (e: unknown) => e instanceof FsError && e.code === 'EBUSY');
  await m.b.run(m.fs.unmount());
  const again = await m.b.run(mountVirtioFsOn(m.driver, {}, () => 0));
  assert.equal((await m.b.run(again.stat('/'))).type, 'directory');
  await m.b.run(again.unmount());
  m.dev.close();
});
