// Tests of kiln:fs over the VFS with a tmpfs at "/" and a bootfs at /assets: Node's shapes
// (Stats, Dirent, FileHandle, streams, flags, encodings, errors with code/syscall/path and
// Node's message), and a model test: random sequences of operations give the same results and
// error codes on kiln:fs as node:fs/promises gives on a real directory of the host.

import { strict as assert } from 'node:assert';
import * as nodeFs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { BootfsImage, encodeBootfs } from '@kiln/common/image/bootfs.ts';
import { BootFs } from '../fs/bootfs.ts';
import { Tmpfs } from '../fs/tmpfs.ts';
import { formatFat, mountFat, MemoryBlockDevice } from '../fs/fat/index.ts';
import { vfs } from './guest_vfs.ts';
import * as kfs from './fs.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

before(async () => {
  await vfs.mount('/', new Tmpfs(), 'tmpfs');
  const image = encodeBootfs({
    type: 'dir', mtimeMs: 0,
    entries: new Map([['hello.txt', { type: 'file', data: enc('héllo\n'), mtimeMs: 1_700_000_000_000 }]]),
  }, '/assets');
  await vfs.mount('/assets', new BootFs(BootfsImage.parse(image)), 'bootfs');
});

async function caught(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    const x = e as { code?: string; syscall?: string; path?: string; message: string };
    return { code: x.code, syscall: x.syscall, path: x.path, message: x.message };
  }
  throw new Error('expected a rejection');
}

test('readFile_writeFile_appendFile_and_encodings', async () => {
  await kfs.writeFile('/t1.txt', 'añb');
  assert.equal(await kfs.readFile('/t1.txt', 'utf8'), 'añb');
  assert.deepEqual(await kfs.readFile('/t1.txt'), enc('añb'));
  await kfs.appendFile('/t1.txt', new Uint8Array([0x21]));
  assert.equal(await kfs.readFile('/t1.txt', { encoding: 'utf-8' }), 'añb!');
  assert.equal(await kfs.readFile('/t1.txt', 'latin1'), 'aÃ±b!');
  await kfs.writeFile('/t1.txt', 'x', { flag: 'a' });
  assert.equal(await kfs.readFile('t1.txt', 'utf8'), 'añb!x');
  assert.equal(await kfs.readFile('/assets/hello.txt', 'utf8'), 'héllo\n');
  await assert.rejects(kfs.readFile('/t1.txt', 'hex' as never), { code: 'ERR_INVALID_ARG_VALUE' });
  await assert.rejects(kfs.readFile(42 as never), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(kfs.open('/t1.txt', 'rw' as never), { code: 'ERR_INVALID_ARG_VALUE' });
  // A file larger than one read chunk.
  const big = new Uint8Array(200_000).map((_, i) => i * 7);
  await kfs.writeFile('/big.bin', big);
  assert.deepEqual(await kfs.readFile('/big.bin'), big);
});

test('errors_look_like_nodes', async () => {
  assert.deepEqual(await caught(kfs.readFile('/nope/x')), { code: 'ENOENT', syscall: 'open', path: '/nope/x', message: "ENOENT: no such file or directory, open '/nope/x'" });
  assert.deepEqual(await caught(kfs.writeFile('/assets/x', 'y')), { code: 'EROFS', syscall: 'open', path: '/assets/x', message: "EROFS: read-only file system, open '/assets/x'" });
  assert.deepEqual(await caught(kfs.mkdir('/assets')), { code: 'EEXIST', syscall: 'mkdir', path: '/assets', message: "EEXIST: file already exists, mkdir '/assets'" });
  assert.deepEqual((await caught(kfs.rename('/t1.txt', '/assets/t1.txt'))).code, 'EXDEV');
  assert.deepEqual((await caught(kfs.access('/assets/hello.txt', kfs.constants.W_OK))).code, 'EROFS');
  await kfs.access('/assets/hello.txt', kfs.constants.R_OK);
  assert.ok((await caught(kfs.readFile('/a\0b'))).code === 'EINVAL');
  assert.ok((await caught(kfs.stat('/nope'))) instanceof Object);
  assert.ok((await kfs.stat('/').catch((e: unknown) => e)) instanceof kfs.Stats);
  const e = await kfs.stat('/nope').catch((x: unknown) => x);
  assert.ok(e instanceof kfs.FsError && e instanceof Error);
});

test('stat_readdir_mkdir_rm', async () => {
  const st = await kfs.stat('/assets/hello.txt');
  assert.ok(st.isFile() && !st.isDirectory() && !st.isSymbolicLink());
  assert.equal(st.size, 7);
  assert.equal(st.mtimeMs, 1_700_000_000_000);
  assert.equal(st.mtime.toISOString(), '2023-11-14T22:13:20.000Z');
  assert.ok((await kfs.lstat('/assets')).isDirectory());
  assert.equal(await kfs.mkdir('/d1/d2/d3', { recursive: true }), '/d1');
  assert.equal(await kfs.mkdir('/d1/d2', { recursive: true }), undefined);
  await kfs.writeFile('/d1/d2/f', 'x');
  assert.deepEqual(await kfs.readdir('/d1', { recursive: true }), ['d2', 'd2/d3', 'd2/f']);
  const ents = await kfs.readdir('/d1/d2', { withFileTypes: true });
  assert.deepEqual(ents.map((d) => [d.name, d.parentPath, d.isDirectory(), d.isFile()]), [['d3', '/d1/d2', true, false], ['f', '/d1/d2', false, true]]);
  assert.ok((await kfs.readdir('/')).includes('assets'));
  assert.equal((await caught(kfs.rm('/d1'))).code, 'EISDIR');
  await kfs.rm('/d1', { recursive: true });
  await kfs.rm('/d1', { force: true });
  assert.equal((await caught(kfs.rm('/d1'))).code, 'ENOENT');
  assert.equal(await kfs.realpath('/assets/../assets/./hello.txt'), '/assets/hello.txt');
});

test('file_handle_positional_io_truncate_and_streams', async () => {
  const h = await kfs.open('/h.bin', 'w+');
  assert.equal(h.fd >= 3, true);
  assert.deepEqual((await h.write(enc('0123456789'))).bytesWritten, 10);
  await h.write('AB', 2);
  const buf = new Uint8Array(4);
  const r = await h.read(buf, 0, 4, 1);
  assert.equal(r.bytesRead, 4);
  assert.equal(new TextDecoder().decode(buf), '1AB4');
  assert.equal((await h.read({ buffer: new Uint8Array(3), position: 8 })).bytesRead, 2);
  await h.truncate(5);
  assert.equal((await h.stat()).size, 5);
  await h.sync();
  await h.close();
  assert.equal(h.fd, -1);
  await h.close(); // closing twice is harmless, as in Node

  const w = await kfs.createWriteStream('/s.txt');
  await w.write('one ');
  await w.write(enc('two '));
  await w.end('three');
  assert.equal(w.bytesWritten, 13);
  const chunks: string[] = [];
  for await (const c of kfs.createReadStream('/s.txt', { highWaterMark: 4 })) chunks.push(new TextDecoder().decode(c));
  assert.deepEqual(chunks, ['one ', 'two ', 'thre', 'e']);
  const missing = kfs.createReadStream('/nope.txt')[Symbol.asyncIterator]();
  assert.equal((await caught(missing.next())).code, 'ENOENT'); // opened on the first read
  const h2 = await kfs.open('/s.txt');
  const part: number[] = [];
  for await (const c of h2.createReadStream({ start: 4, end: 6 })) part.push(...c);
  assert.equal(String.fromCharCode(...part), 'two');
  assert.equal(h2.fd, -1); // autoClose
  const a = await kfs.open('/s.txt', 'a');
  await a.appendFile('!');
  await a.close();
  assert.equal(await kfs.readFile('/s.txt', 'utf8'), 'one two three!');
  await kfs.copyFile('/s.txt', '/s2.txt');
  assert.equal((await caught(kfs.copyFile('/s.txt', '/s2.txt', kfs.constants.COPYFILE_EXCL))).code, 'EEXIST');
  assert.equal(await kfs.readFile('/s2.txt', 'utf8'), 'one two three!');
  await kfs.truncate('/s2.txt', 3);
  assert.equal(await kfs.readFile('/s2.txt', 'utf8'), 'one');
});

test('copyFile_onto_the_same_file_changes_nothing', async () => {
  await kfs.writeFile('/same.txt', 'keep me');
  for (const dest of ['/same.txt', 'same.txt', '/./same.txt', '/nope/../same.txt', '//same.txt']) {
    await kfs.copyFile('/same.txt', dest);
    assert.equal(await kfs.readFile('/same.txt', 'utf8'), 'keep me', dest);
  }
  assert.equal((await caught(kfs.copyFile('/same.txt', './same.txt', kfs.constants.COPYFILE_EXCL))).code, 'EEXIST');
  assert.equal(await kfs.readFile('/same.txt', 'utf8'), 'keep me');
  // FAT names are case-insensitive: two spellings name one file.
  const dev = new MemoryBlockDevice(2 * 1024 * 1024);
  await formatFat(dev, { type: 'fat12' });
  await kfs.mkdir('/fatc');
  await vfs.mount('/fatc', await mountFat(dev), 'disk:7');
  await kfs.writeFile('/fatc/Same.txt', 'fat data');
  await kfs.copyFile('/fatc/Same.txt', '/fatc/SAME.TXT');
  assert.equal(await kfs.readFile('/fatc/same.txt', 'utf8'), 'fat data');
  // A copy onto another, longer file still replaces it.
  await kfs.writeFile('/fatc/other.txt', 'a much longer text than the source');
  await kfs.copyFile('/fatc/Same.txt', '/fatc/other.txt');
  assert.equal(await kfs.readFile('/fatc/other.txt', 'utf8'), 'fat data');
  await kfs.copyFile('/same.txt', '/fatc/Same.txt');
  assert.equal(await kfs.readFile('/fatc/SAME.txt', 'utf8'), 'keep me');
  await kfs.unmount('/fatc');
});

test('a_trailing_slash_or_dot_asks_for_a_directory_as_in_node', async () => {
  // The static web server's case: "/index.html/" is ENOTDIR (a 404), not the file.
  for (const p of ['/assets/hello.txt/', '/assets/hello.txt/.', 'assets//hello.txt//']) {
    for (const op of [kfs.stat, kfs.lstat, kfs.readFile, kfs.open, kfs.access, kfs.realpath, kfs.readdir, kfs.statfs]) {
      assert.equal((await caught((op as (p: string) => Promise<unknown>)(p))).code, 'ENOTDIR', `${op.name} ${p}`);
    }
  }
  assert.ok((await kfs.stat('/assets/')).isDirectory());
  // Every call on every form, on FAT and tmpfs, against node:fs on a host directory.
  const host = await nodeFs.mkdtemp(join(tmpdir(), 'kiln-fs-slash-'));
  const dev = new MemoryBlockDevice(2 * 1024 * 1024);
  await formatFat(dev, { type: 'fat12' });
  await kfs.mkdir('/slash-fat');
  await vfs.mount('/slash-fat', await mountFat(dev), 'disk:8');
  await kfs.mkdir('/slash-tmp');
  type Api = typeof nodeFs;
  const calls: [string, (f: Api, root: string, p: string) => Promise<unknown>][] = [
    ['stat', (f, _, p) => f.stat(p)], ['readFile', (f, _, p) => f.readFile(p)], ['writeFile', (f, _, p) => f.writeFile(p, 'y')],
    ['appendFile', (f, _, p) => f.appendFile(p, 'y')], ['open r+', (f, _, p) => f.open(p, 'r+').then((h) => h.close())],
    ['access', (f, _, p) => f.access(p)], ['realpath', (f, _, p) => f.realpath(p)], ['readdir', (f, _, p) => f.readdir(p)],
    ['unlink', (f, _, p) => f.unlink(p)], ['rmdir', (f, _, p) => f.rmdir(p)], ['mkdir', (f, _, p) => f.mkdir(p)],
    ['mkdir -p', (f, _, p) => f.mkdir(p, { recursive: true })], ['truncate', (f, _, p) => f.truncate(p)],
    ['rm -rf', (f, _, p) => f.rm(p, { recursive: true, force: true })],
    ['copyFile from', (f, root, p) => f.copyFile(p, `${root}/copy`)], ['copyFile to', (f, root, p) => f.copyFile(`${root}/f`, p)],
    ['rename from', (f, root, p) => f.rename(p, `${root}/moved`)], ['rename to', (f, root, p) => f.rename(`${root}/f`, p)],
  ];
  const outcome = async (f: Api, root: string, p: string, call: (f: Api, root: string, p: string) => Promise<unknown>): Promise<string> => {
    for (const e of await f.readdir(root)) await f.rm(`${root}/${e}`, { recursive: true });
    await f.writeFile(`${root}/f`, 'x');
    await f.mkdir(`${root}/dir`);
    const r = await call(f, root, `${root}/${p}`).then(() => 'ok', (e: { code?: string }) => `error ${e.code}`);
    return `${r}; ${(await f.readdir(root)).sort().join(',')}; f=${await f.readFile(`${root}/f`, 'utf8').catch(() => '-')}`;
  };
  for (const p of ['f/', 'f/.', 'f//', 'f/x', 'dir/', 'dir/.', 'nope/', 'nope/.']) {
    for (const [name, call] of calls) {
      const want = await outcome(nodeFs, host, p, call);
      for (const root of ['/slash-fat', '/slash-tmp']) assert.equal(await outcome(kfs as unknown as Api, root, p, call), want, `${name} ${root}/${p}`);
    }
  }
  await kfs.unmount('/slash-fat');
  await nodeFs.rm(host, { recursive: true });
});

test('readFile_of_a_corrupt_fat_size_is_eio_whatever_the_claim', async () => {
  const dev = new MemoryBlockDevice(2 * 1024 * 1024);
  await formatFat(dev, { type: 'fat12' });
  const fat = await mountFat(dev);
  const f = await fat.open('/BIG.BIN', { read: true, write: true, create: true, exclusive: false, truncate: false });
  await f.write(0, new Uint8Array(3000).fill(1));
  await f.close();
  await fat.unmount();
  const entry = Buffer.from(dev.bytes.buffer).indexOf('BIG     BIN', 0, 'latin1');
  await kfs.mkdir('/corrupt');
  for (const claim of [60 * 1024 * 1024, 200 * 1024 * 1024, 2 ** 32 - 1]) {
    new DataView(dev.bytes.buffer).setUint32(entry + 28, claim, true);
    await vfs.mount('/corrupt', await mountFat(dev, { readOnly: true }), 'disk:9');
    assert.equal((await kfs.stat('/corrupt/BIG.BIN')).size, claim);
    for (const read of [() => kfs.readFile('/corrupt/BIG.BIN'), () => kfs.open('/corrupt/BIG.BIN').then((h) => h.readFile())]) {
      const e = await caught(read());
      assert.equal(e.code, 'EIO', `${claim}: ${e.message}`);
      assert.match(e.message as string, /^EIO: corrupt FAT volume: file "BIG.BIN" claims \d+ bytes, its chain holds \d+ clusters of \d+, open '\/corrupt\/BIG.BIN'$/);
    }
    await kfs.unmount('/corrupt');
  }
});

test('mounts_statfs_mount_unmount_sync', async () => {
  assert.deepEqual(kfs.mounts(), [
    { path: '/', type: 'tmpfs', readOnly: false, source: 'tmpfs' },
    { path: '/assets', type: 'bootfs', readOnly: true, source: 'bootfs' },
  ]);
  await kfs.mkdir('/scratch');
  await kfs.mount('/scratch', 'tmpfs');
  const h = await kfs.open('/scratch/x', 'w');
  assert.equal((await caught(kfs.unmount('/scratch'))).code, 'EBUSY');
  await h.close();
  await kfs.unmount('/scratch');
  assert.equal((await caught(kfs.mount('/scratch', 'nfs:server'))).code, 'EINVAL');
  const s = await kfs.statfs('/assets');
  assert.equal(s.type, 'bootfs');
  assert.equal(s.bsize, 4096);
  await kfs.sync();
  assert.equal(vfs.dirty, false);
});

// The model test: the same random operations on kiln:fs (under /model) and on a host directory.
let hostDir = '';
before(async () => {
  hostDir = await nodeFs.mkdtemp(join(tmpdir(), 'kiln-fs-model-'));
});
after(() => nodeFs.rm(hostDir, { recursive: true, force: true }));

type Op =
  | ['mkdir', string, boolean] | ['writeFile', string, string] | ['appendFile', string, string] | ['readFile', string]
  | ['unlink', string] | ['rmdir', string] | ['rename', string, string] | ['readdir', string] | ['stat', string]
  | ['rm', string, boolean] | ['copyFile', string, string];

// Paths end now and then in "/" or "/." (a directory is asked for); copyFile and rename also get
// two spellings of one path.
const pathArb = fc.tuple(
  fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 }),
  fc.constantFrom('', '', '', '', '', '', '/', '/.'),
).map(([p, tail]) => p.join('/') + tail);
const samePathArb = pathArb.map((p) => [p, `./${p}`] as const);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.tuple(fc.constant('mkdir' as const), pathArb, fc.boolean()),
  fc.tuple(fc.constant('writeFile' as const), pathArb, fc.string({ maxLength: 5 })),
  fc.tuple(fc.constant('appendFile' as const), pathArb, fc.string({ maxLength: 5 })),
  fc.tuple(fc.constant('readFile' as const), pathArb),
  fc.tuple(fc.constant('unlink' as const), pathArb),
  fc.tuple(fc.constant('rmdir' as const), pathArb),
  fc.tuple(fc.constant('rename' as const), pathArb, pathArb),
  fc.tuple(fc.constant('readdir' as const), pathArb),
  fc.tuple(fc.constant('stat' as const), pathArb),
  fc.tuple(fc.constant('rm' as const), pathArb, fc.boolean()),
  fc.tuple(fc.constant('copyFile' as const), pathArb, pathArb),
  samePathArb.map(([a, b]): Op => ['copyFile', a, b]),
  samePathArb.map(([a, b]): Op => ['rename', a, b]),
);

type Api = { [K in Op[0]]: (...a: never[]) => Promise<unknown> };
async function apply(api: typeof kfs | typeof nodeFs, at: (p: string) => string, op: Op): Promise<string> {
  const f = api as unknown as Api & typeof nodeFs;
  try {
    switch (op[0]) {
      case 'mkdir': return `ok ${op[2] ? (await f.mkdir(at(op[1]), { recursive: true })) !== undefined : await f.mkdir(at(op[1]))}`;
      case 'writeFile': return `ok ${await f.writeFile(at(op[1]), op[2])}`;
      case 'appendFile': return `ok ${await f.appendFile(at(op[1]), op[2])}`;
      case 'readFile': return `ok ${await f.readFile(at(op[1]), 'utf8')}`;
      case 'unlink': return `ok ${await f.unlink(at(op[1]))}`;
      case 'rmdir': return `ok ${await f.rmdir(at(op[1]))}`;
      case 'rename': return `ok ${await f.rename(at(op[1]), at(op[2]))}`;
      case 'readdir': return `ok ${(await f.readdir(at(op[1]))).sort().join(',')}`;
      case 'stat': {
        const s = await f.stat(at(op[1]));
        return `ok ${s.isDirectory() ? 'dir' : `file ${s.size}`}`;
      }
      case 'rm': return `ok ${await f.rm(at(op[1]), { recursive: true, force: op[2] })}`;
      case 'copyFile': return `ok ${await f.copyFile(at(op[1]), at(op[2]))}`;
    }
  } catch (e) {
    return `error ${(e as { code?: string }).code}`;
  }
}

test('model_kiln_fs_matches_node_fs_on_a_host_directory', async () => {
  let run = 0;
  await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
    run++;
    const guestRoot = `/model${run}`;
    const hostRoot = join(hostDir, `m${run}`);
    await kfs.mkdir(guestRoot);
    await nodeFs.mkdir(hostRoot);
    for (const op of ops) {
      // libuv deletes an existing destination when the source turns out to be a directory;
      // kiln:fs leaves it alone (EISDIR either way): that case is not compared.
      if (op[0] === 'copyFile' && (await nodeFs.stat(join(hostRoot, op[1])).then((st) => st.isDirectory(), () => false))) continue;
      const want = await apply(nodeFs, (p) => `${hostRoot}/${p}`, op);
      const got = await apply(kfs, (p) => `${guestRoot}/${p}`, op);
      assert.equal(got, want, JSON.stringify(op));
    }
  }), { numRuns: 300 });
});
