// The FAT FileSystem over an in-memory device: POSIX-like semantics of every call (errno codes
// included), persistence across sync + remount, what an unsynced "crash" keeps, limits (root
// directory size, 4 GiB - 1 files, a full disk), read-only mounts.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { FsError, type FileSystem, type OpenFlags } from '../types.ts';
import { MemoryBlockDevice } from './device.ts';
import { formatFat } from './format.ts';
import { mountFat } from './volume.ts';
import type { FatType } from './bpb.ts';

const MiB = 1024 * 1024;
const W: OpenFlags = { read: true, write: true, create: true, exclusive: false, truncate: false };
const R: OpenFlags = { read: true, write: false, create: false, exclusive: false, truncate: false };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function fresh(type: FatType, size = 16 * MiB): Promise<{ dev: MemoryBlockDevice; fs: FileSystem }> {
  const dev = new MemoryBlockDevice(size);
  await formatFat(dev, { type });
  return { dev, fs: await mountFat(dev) };
}

async function put(fs: FileSystem, path: string, data: Uint8Array | string): Promise<void> {
  const f = await fs.open(path, { ...W, truncate: true });
  await f.write(0, typeof data === 'string' ? enc(data) : data);
  await f.close();
}

async function get(fs: FileSystem, path: string): Promise<Uint8Array> {
  const f = await fs.open(path, R);
  const st = await f.stat();
  const buf = new Uint8Array(st.size);
  let n = 0;
  while (n < st.size) {
    const k = await f.read(n, buf, n, Math.min(7000, st.size - n));
    assert.ok(k > 0);
    n += k;
  }
  await f.close();
  return buf;
}

const text = async (fs: FileSystem, path: string): Promise<string> => new TextDecoder().decode(await get(fs, path));

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof FsError, `not an FsError: ${e}`);
    return e.code;
  }
  return 'ok';
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

for (const type of ['fat12', 'fat16', 'fat32'] as const) {
  test(`${type}_files_dirs_round_trip_and_remount`, async () => {
    const size = type === 'fat32' ? 40 * MiB : 4 * MiB;
    const { dev, fs } = await fresh(type, size);
    await fs.mkdir('/docs');
    await fs.mkdir('/docs/Deeply Nested Directory');
    await put(fs, '/docs/Deeply Nested Directory/a long file name with spaces.txt', 'hello');
    await put(fs, '/README', 'read me');
    const big = pattern(300 * 1024 + 17, 1);
    await put(fs, '/docs/big.bin', big);
    assert.deepEqual((await fs.readdir('/')).map((e) => e.name).sort(), ['README', 'docs']);
    assert.deepEqual(await fs.readdir('/docs'), [{ name: 'Deeply Nested Directory', type: 'directory' }, { name: 'big.bin', type: 'file' }]);
    await fs.unmount();
    const again = await mountFat(dev);
    assert.equal(await text(again, '/docs/deeply nested directory/A LONG FILE NAME WITH SPACES.TXT'), 'hello');
    assert.equal(await text(again, '/readme'), 'read me');
    assert.deepEqual(await get(again, '/docs/big.bin'), big);
    const st = await again.stat('/docs/big.bin');
    assert.equal(st.type, 'file');
    assert.equal(st.size, big.length);
    assert.equal(st.mode, 0o100644);
    assert.ok(Math.abs(st.mtimeMs - Date.now()) < 5000, `mtime ${st.mtimeMs}`);
    assert.equal((await again.stat('/docs')).type, 'directory');
  });
}

test('errno_codes_of_each_call', async () => {
  const { fs } = await fresh('fat16');
  await fs.mkdir('/d');
  await put(fs, '/d/f', 'x');
  await put(fs, '/file', 'y');
  assert.equal(await code(fs.stat('/nope')), 'ENOENT');
  assert.equal(await code(fs.open('/nope', R)), 'ENOENT');
  assert.equal(await code(fs.open('/no/such', W)), 'ENOENT');
  assert.equal(await code(fs.stat('/file/x')), 'ENOTDIR');
  assert.equal(await code(fs.readdir('/file')), 'ENOTDIR');
  assert.equal(await code(fs.mkdir('/d')), 'EEXIST');
  assert.equal(await code(fs.mkdir('/D')), 'EEXIST');
  assert.equal(await code(fs.open('/FILE', { ...W, exclusive: true })), 'EEXIST');
  assert.equal(await code(fs.unlink('/d')), 'EISDIR');
  assert.equal(await code(fs.open('/d', W)), 'EISDIR');
  assert.equal(await code(fs.rmdir('/d')), 'ENOTEMPTY');
  assert.equal(await code(fs.rmdir('/file')), 'ENOTDIR');
  assert.equal(await code(fs.rmdir('/')), 'EBUSY');
  assert.equal(await code(fs.mkdir('/bad*name')), 'EINVAL');
  assert.equal(await code(fs.mkdir('/trailing.')), 'EINVAL');
  assert.equal(await code(fs.mkdir('/' + 'n'.repeat(256))), 'ENAMETOOLONG');
  assert.equal(await code(fs.rename('/d', '/d/inside')), 'EINVAL');
  assert.equal(await code(fs.rename('/file', '/d')), 'EISDIR');
  assert.equal(await code(fs.rename('/d', '/file')), 'ENOTDIR');
  const ro = await fs.open('/file', R);
  assert.equal(await code(ro.write(0, enc('z'))), 'EBADF');
  await ro.close();
  assert.equal(await code(ro.read(0, new Uint8Array(1), 0, 1)), 'EBADF');
  const dirHandle = await fs.open('/d', R);
  assert.equal(await code(dirHandle.read(0, new Uint8Array(1), 0, 1)), 'EISDIR');
  await dirHandle.close();
  assert.equal(await text(fs, '/d/f'), 'x');
});

test('case_insensitive_lookup_keeps_case', async () => {
  const { fs } = await fresh('fat16');
  await put(fs, '/MiXeD.Txt', 'm');
  await put(fs, '/lower.txt', 'l');
  assert.equal(await text(fs, '/mixed.txt'), 'm');
  assert.deepEqual((await fs.readdir('/')).map((e) => e.name), ['MiXeD.Txt', 'lower.txt']);
  await put(fs, '/MIXED.TXT', 'again');
  assert.deepEqual((await fs.readdir('/')).map((e) => e.name), ['MiXeD.Txt', 'lower.txt']);
  assert.equal(await text(fs, '/MiXeD.Txt'), 'again');
  await fs.rename('/lower.txt', '/LOWER.txt');
  assert.deepEqual((await fs.readdir('/')).map((e) => e.name).sort(), ['LOWER.txt', 'MiXeD.Txt']);
});

test('rename_moves_replaces_and_keeps_open_files', async () => {
  const { dev, fs } = await fresh('fat32', 40 * MiB);
  await fs.mkdir('/a');
  await fs.mkdir('/b');
  await put(fs, '/a/one', 'one');
  await put(fs, '/b/two', 'two');
  const h = await fs.open('/a/one', W);
  await fs.rename('/a/one', '/b/two');
  await h.write(3, enc('+'));
  await h.close();
  assert.equal(await text(fs, '/b/two'), 'one+');
  assert.equal(await code(fs.stat('/a/one')), 'ENOENT');
  await fs.mkdir('/a/sub');
  await put(fs, '/a/sub/x', 'x');
  await fs.rename('/a/sub', '/b/moved');
  assert.equal(await text(fs, '/b/moved/x'), 'x');
  await fs.mkdir('/empty');
  await fs.rename('/b/moved', '/empty');
  assert.equal(await text(fs, '/empty/x'), 'x');
  await fs.unmount();
  const again = await mountFat(dev);
  assert.deepEqual((await again.readdir('/')).map((e) => e.name).sort(), ['a', 'b', 'empty']);
  assert.deepEqual(await again.readdir('/b'), [{ name: 'two', type: 'file' }]);
});

test('truncate_and_sparse_writes_read_zeros', async () => {
  const { fs } = await fresh('fat16');
  const f = await fs.open('/s', W);
  await f.write(0, pattern(10000, 2));
  await f.truncate(100);
  await f.write(5000, enc('end'));
  const got = new Uint8Array(6000);
  assert.equal(await f.read(0, got, 0, 6000), 5003);
  assert.deepEqual(got.subarray(0, 100), pattern(10000, 2).subarray(0, 100));
  assert.ok(got.subarray(100, 5000).every((b) => b === 0), 'gap is zero');
  await f.truncate(9000);
  const tail = new Uint8Array(4000);
  assert.equal(await f.read(5003, tail, 0, 4000), 3997);
  assert.ok(tail.subarray(0, 3997).every((b) => b === 0));
  assert.equal((await f.stat()).size, 9000);
  await f.truncate(0);
  assert.equal(await f.read(0, tail, 0, 10), 0);
  await f.close();
  const t = await fs.open('/s', { ...W, truncate: true });
  assert.equal((await t.stat()).size, 0);
  await t.close();
});

test('file_size_limit_is_efbig', async () => {
  const { fs } = await fresh('fat16');
  const f = await fs.open('/f', W);
  assert.equal(await code(f.write(0xffffffff - 1, enc('ab'))), 'EFBIG');
  assert.equal(await code(f.truncate(0x100000000)), 'EFBIG');
  assert.equal((await f.stat()).size, 0);
  await f.close();
});

/** Sets the size field of the directory entry with this 11-byte short name, on the device. */
function claimSize(dev: MemoryBlockDevice, rawName: string, size: number): void {
  const at = Buffer.from(dev.bytes.buffer, dev.bytes.byteOffset, dev.bytes.length).indexOf(rawName, 0, 'latin1');
  assert.ok(at >= 0, `no entry ${rawName}`);
  new DataView(dev.bytes.buffer, dev.bytes.byteOffset).setUint32(at + 28, size, true);
}

test('a_size_its_chain_cannot_hold_is_eio_at_open', async () => {
  const { dev, fs } = await fresh('fat16', 8 * MiB);
  const cs = (await fs.usage()).blockSize;
  await put(fs, '/F.TXT', 'x'.repeat(100));
  await fs.unmount();
  for (const claim of [cs + 1, 60 * MiB, 200 * MiB, 0xffffffff]) {
    claimSize(dev, 'F       TXT', claim);
    const again = await mountFat(dev);
    assert.equal((await again.stat('/F.TXT')).size, claim); // the entry says so
    for (const flags of [R, { ...R, write: true }, { ...W, create: false }]) {
      const e = await again.open('/F.TXT', flags).then(() => undefined, (x: unknown) => x);
      assert.ok(e instanceof FsError && e.code === 'EIO', `${claim}: ${e}`);
      assert.match(e.message, new RegExp(`^EIO: corrupt FAT volume: file "F.TXT" claims ${claim} bytes, its chain holds 1 clusters of ${cs}, open '/F.TXT'$`));
    }
    // Truncating on open rewrites the entry: the file is usable again.
    const f = await again.open('/F.TXT', { ...W, truncate: true });
    await f.close();
    assert.equal((await again.stat('/F.TXT')).size, 0);
    await put(again, '/F.TXT', 'x'.repeat(100));
    await again.unmount();
  }
});

test('a_commit_inside_an_operation_leaves_the_volume_marked_dirty', async () => {
  // Reaches ensureSlots' commit: a full directory whose last cluster lost its on-disk link in
  // this epoch. On a cross-linked volume: D's chain x → z → f2, F's chain z → f2; truncating F to
  // one cluster cuts z's link, then a new entry in D (loaded afterwards: chain [x, z]) must grow it.
  const { dev, fs } = await fresh('fat16', 8 * MiB);
  const cs = (await fs.usage()).blockSize;
  await fs.mkdir('/D');
  for (let i = 0; i < (2 * cs) / 32 - 2; i++) await put(fs, `/D/F${i}.TXT`, '');
  await put(fs, '/F', new Uint8Array(2 * cs).fill(7));
  await fs.unmount();
  const view = new DataView(dev.bytes.buffer, dev.bytes.byteOffset);
  const bytes = Buffer.from(dev.bytes.buffer, dev.bytes.byteOffset, dev.bytes.length);
  const firstCluster = (raw: string): number => view.getUint16(bytes.indexOf(raw, 0, 'latin1') + 26, true);
  const fatAt = view.getUint16(14, true) * 512;
  const fatSize = view.getUint16(22, true) * 512;
  const setFat = (c: number, v: number): void => {
    for (const copy of [0, 1]) view.setUint16(fatAt + copy * fatSize + c * 2, v, true);
  };
  const x = firstCluster('D          ');
  const z = view.getUint16(fatAt + x * 2, true);
  const f2 = view.getUint16(fatAt + firstCluster('F          ') * 2, true);
  assert.ok(z >= 2 && z < 0xfff8 && f2 >= 2 && f2 < 0xfff8);
  setFat(z, f2);
  view.setUint16(bytes.indexOf('F          ', 0, 'latin1') + 26, z, true);

  const vol = await mountFat(dev);
  const f = await vol.open('/F', { ...R, write: true });
  await f.truncate(cs);
  await f.close();
  await (await vol.open('/D/NEW.TXT', W)).close(); // an empty file: no write marks the volume dirty after the commit
  const ntFlags = 0x25;
  assert.equal(dev.bytes[ntFlags]! & 1, 1, 'the BPB says dirty while changes are pending');
  assert.equal(view.getUint16(fatAt + 2, true) & 0x8000, 0, 'FAT[1] says dirty while changes are pending');
  await vol.sync();
  assert.equal(dev.bytes[ntFlags]! & 1, 0);
  const again = await mountFat(dev);
  assert.equal((await again.stat('/D/NEW.TXT')).size, 0);
  assert.equal((await again.readdir('/D')).length, (2 * cs) / 32 - 1);
});

test('read_only_mount_refuses_changes', async () => {
  const { dev, fs } = await fresh('fat12', 2 * MiB);
  await put(fs, '/f', 'data');
  await fs.unmount();
  const ro = await mountFat(dev, { readOnly: true });
  assert.equal(ro.readOnly, true);
  assert.equal(await text(ro, '/f'), 'data');
  assert.equal(await code(ro.mkdir('/x')), 'EROFS');
  assert.equal(await code(ro.unlink('/f')), 'EROFS');
  assert.equal(await code(ro.rename('/f', '/g')), 'EROFS');
  assert.equal(await code(ro.open('/f', W)), 'EROFS');
  assert.equal(await code(ro.open('/new', W)), 'EROFS');
  const before = dev.bytes.slice();
  await ro.unmount();
  assert.deepEqual(dev.bytes, before);
  const roDev = await mountFat(new MemoryBlockDevice(dev.bytes, { readOnly: true }));
  assert.equal(roDev.readOnly, true);
});

test('fixed_root_directory_fills_with_enospc', async () => {
  const { fs } = await fresh('fat16');
  let n = 0;
  for (;; n++) {
    const c = await code(fs.open(`/F${n}`, { ...W, exclusive: true }).then((h) => h.close()));
    if (c !== 'ok') {
      assert.equal(c, 'ENOSPC');
      break;
    }
  }
  assert.equal(n, 512);
  assert.equal(await code(fs.mkdir('/more')), 'ENOSPC');
  await fs.unlink('/F7');
  await put(fs, '/again', 'fits');
  assert.equal(await text(fs, '/again'), 'fits');
});

test('subdirectories_grow_past_one_cluster', async () => {
  const { dev, fs } = await fresh('fat16');
  await fs.mkdir('/many');
  for (let i = 0; i < 700; i++) await put(fs, `/many/a rather long file name number ${i}.txt`, `${i}`);
  await fs.unmount();
  const again = await mountFat(dev);
  const names = (await again.readdir('/many')).map((e) => e.name);
  assert.equal(names.length, 700);
  assert.equal(await text(again, '/many/a rather long file name number 699.txt'), '699');
});

test('full_disk_is_enospc_and_changes_nothing', async () => {
  const { dev, fs } = await fresh('fat12', 1 * MiB);
  await put(fs, '/keep', 'precious');
  const f = await fs.open('/fill', W);
  const chunk = pattern(64 * 1024, 3);
  let pos = 0;
  for (;;) {
    const c = await code(f.write(pos, chunk));
    if (c !== 'ok') {
      assert.equal(c, 'ENOSPC');
      break;
    }
    pos += chunk.length;
  }
  assert.equal((await f.stat()).size, pos);
  // Fill the last clusters exactly, then one byte more fails.
  const u = await fs.usage();
  await f.write(pos, pattern(u.freeBlocks * u.blockSize - (pos % u.blockSize === 0 ? 0 : u.blockSize - (pos % u.blockSize)), 4));
  const full = (await f.stat()).size;
  assert.equal((await fs.usage()).freeBlocks, 0);
  assert.equal(await code(f.write(full + 4096, enc('x'))), 'ENOSPC');
  assert.equal((await f.stat()).size, full);
  await f.close();
  assert.equal(await code(fs.mkdir('/d')), 'ENOSPC');
  assert.equal(await text(fs, '/keep'), 'precious');
  // Freed clusters come back (through a commit) within the same epoch.
  await fs.unlink('/fill');
  await put(fs, '/after', pattern(100 * 1024, 5));
  await fs.unmount();
  const again = await mountFat(dev);
  assert.equal(await text(again, '/keep'), 'precious');
  assert.deepEqual(await get(again, '/after'), pattern(100 * 1024, 5));
});

test('unlinked_open_file_lives_until_close', async () => {
  const { fs } = await fresh('fat16');
  const free0 = (await fs.usage()).freeBlocks;
  await put(fs, '/tmp', pattern(50000, 6));
  const h = await fs.open('/tmp', R);
  await fs.unlink('/tmp');
  assert.equal(await code(fs.stat('/tmp')), 'ENOENT');
  const buf = new Uint8Array(50000);
  assert.equal(await h.read(0, buf, 0, 50000), 50000);
  assert.deepEqual(buf, pattern(50000, 6));
  assert.ok((await fs.usage()).freeBlocks < free0);
  await h.close();
  assert.equal((await fs.usage()).freeBlocks, free0);
});

test('unsynced_changes_vanish_synced_ones_stay', async () => {
  const { dev, fs } = await fresh('fat32', 40 * MiB);
  await put(fs, '/synced', 'yes');
  await fs.sync();
  await put(fs, '/unsynced', 'no');
  await fs.unlink('/synced');
  // "Crash": mount the device as it is, without the cache.
  const after = await mountFat(new MemoryBlockDevice(dev.bytes.slice()));
  assert.equal(await text(after, '/synced'), 'yes');
  assert.equal(await code(after.stat('/unsynced')), 'ENOENT');
});

test('usage_counts_clusters_and_survives_remount', async () => {
  const { dev, fs } = await fresh('fat32', 40 * MiB);
  const u0 = await fs.usage();
  await put(fs, '/f', pattern(10 * u0.blockSize + 1, 7));
  const u1 = await fs.usage();
  assert.equal(u0.freeBlocks - u1.freeBlocks, 11);
  await fs.unmount();
  const again = await mountFat(dev);
  assert.deepEqual(await again.usage(), u1);
});

test('concurrent_calls_are_serialised', async () => {
  const { dev, fs } = await fresh('fat16');
  await Promise.all(Array.from({ length: 40 }, (_, i) => put(fs, `/c${i}`, pattern(3000 + i * 100, i))));
  await fs.unmount();
  const again = await mountFat(dev);
  for (let i = 0; i < 40; i++) assert.deepEqual(await get(again, `/c${i}`), pattern(3000 + i * 100, i));
});

test('small_appends_are_gathered_and_read_back', async () => {
  const { dev, fs } = await fresh('fat16');
  const f = await fs.open('/log', W);
  const all: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const line = enc(`line ${i}\n`);
    await f.write(all.length, line);
    all.push(...line);
  }
  const mid = new Uint8Array(10);
  assert.equal(await f.read(100, mid, 0, 10), 10);
  assert.deepEqual(mid, Uint8Array.from(all.slice(100, 110)));
  await f.close();
  await fs.unmount();
  assert.deepEqual(await get(await mountFat(dev), '/log'), Uint8Array.from(all));
});

test('fsinfo_count_trusted_when_clean_recounted_when_dirty', async () => {
  const { dev, fs } = await fresh('fat32', 40 * MiB);
  await put(fs, '/f', pattern(100000, 8));
  const real = (await fs.usage()).freeBlocks;
  await fs.unmount();
  const FREE_COUNT = 512 + 488;
  const lie = dev.bytes.slice();
  lie.set([5, 0, 0, 0], FREE_COUNT);
  assert.equal((await (await mountFat(new MemoryBlockDevice(lie))).usage()).freeBlocks, 5);
  lie[0x41] |= 1; // the BPB says dirty: the count is not trusted
  assert.equal((await (await mountFat(new MemoryBlockDevice(lie))).usage()).freeBlocks, real);
});
