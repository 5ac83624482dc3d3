// The FAT driver against Debian's own tools: volumes made by mkfs.fat and filled by mtools read
// back exactly; volumes the driver writes pass `fsck.fat -n` and mtools (mdir, mtype) see the
// same tree and bytes; a full disk gives ENOSPC and a clean fsck; and a crash simulation (the
// device stops taking writes after the N-th, for every N) shows the guarantee stated in
// volume.ts: fsck finds at most lost clusters, chains longer than their file, the dirty flag
// and a stale free count; the volume mounts and reads; files the interrupted step did not
// touch are intact. Needs dosfstools and mtools (scripts/setup.sh installs them).

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { FileSystem, OpenFlags } from '../types.ts';
import type { FatType } from './bpb.ts';
import { MemoryBlockDevice, type FatBlockDevice } from './device.ts';
import { formatFat } from './format.ts';
import { mountFat } from './volume.ts';

const ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
const TOOLS = ['mkfs.fat', 'fsck.fat', 'mcopy', 'mmd', 'mdir', 'mtype'];
const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { env: ENV }).status !== 0);
const skip = missing.length ? `needs ${missing.join(', ')} (dosfstools, mtools: bash scripts/setup.sh)` : false;

const MiB = 1024 * 1024;
const W: OpenFlags = { read: true, write: true, create: true, exclusive: false, truncate: true };
const R: OpenFlags = { read: true, write: false, create: false, exclusive: false, truncate: false };
const tmp = mkdtempSync(join(tmpdir(), 'kiln-fat-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function run(cmd: string, args: string[]): { code: number; out: string; bytes: Buffer } {
  const r = spawnSync(cmd, args, { env: ENV, maxBuffer: 64 * MiB });
  return { code: r.status ?? -1, out: r.stdout.toString() + r.stderr.toString(), bytes: r.stdout };
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

type Tree = Map<string, Uint8Array | 'dir'>;

/** Every directory and file under `dir`, read through the driver. */
async function walk(fs: FileSystem, dir = '', out: Tree = new Map()): Promise<Tree> {
  for (const e of await fs.readdir(dir || '/')) {
    const p = `${dir}/${e.name}`;
    if (e.type === 'directory') {
      out.set(p, 'dir');
      await walk(fs, p, out);
    } else {
      const f = await fs.open(p, R);
      const size = (await f.stat()).size;
      const buf = new Uint8Array(size);
      for (let n = 0; n < size;) n += await f.read(n, buf, n, size - n);
      await f.close();
      out.set(p, buf);
    }
  }
  return out;
}

/** The same, as mtools sees the image. */
function mtoolsTree(img: string): Tree {
  const out: Tree = new Map();
  const list = run('mdir', ['-/', '-b', '-i', img, '::/']);
  assert.equal(list.code, 0, list.out);
  for (const line of list.out.split('\n')) {
    if (!line.startsWith('::/')) continue;
    if (line.endsWith('/')) out.set(line.slice(2, -1), 'dir');
    else {
      const t = run('mtype', ['-i', img, line]);
      assert.equal(t.code, 0, t.out);
      out.set(line.slice(2), new Uint8Array(t.bytes));
    }
  }
  return out;
}

function assertSameTree(actual: Tree, expected: Tree, what: string): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${what}: paths`);
  for (const [p, v] of expected) {
    const a = actual.get(p)!;
    if (v === 'dir') assert.equal(a, 'dir', `${what}: ${p}`);
    else assert.ok(a !== 'dir' && Buffer.compare(Buffer.from(a), Buffer.from(v)) === 0, `${what}: content of ${p}`);
  }
}

async function put(fs: FileSystem, path: string, data: Uint8Array): Promise<void> {
  const f = await fs.open(path, W);
  await f.write(0, data);
  await f.close();
}

// --- images made by mkfs.fat + mtools, read by the driver ---------------------------------

for (const [bits, size, extra] of [[12, 4, []], [16, 32, []], [32, 40, []], [16, 64, ['-S', '4096']], [16, 16, ['-r', '100']]] as const) {
  const variant = `${bits}${extra.join('')}`;
  test(`mkfs_fat_${variant}_and_mcopy_images_read_correctly_then_written`, { skip }, async () => {
    const host = join(tmp, `host${variant}`);
    const expected: Tree = new Map();
    const add = (rel: string, data?: Uint8Array): void => {
      const p = join(host, rel);
      if (data) writeFileSync(p, data);
      else mkdirSync(p, { recursive: true });
      expected.set(`/${rel}`, data ?? 'dir');
    };
    mkdirSync(host);
    add('Program Files');
    add('Program Files/a rather long directory name');
    add('Program Files/a rather long directory name/deep.txt', pattern(5000, 1));
    add('lower.txt', pattern(10, 2));
    add('UPPER.TXT', pattern(0, 3));
    add('MiXeD CaSe NaMe.Data', pattern(70000, 4));
    add('ünïcødé 名前.txt', pattern(33, 5));
    add('many');
    for (let i = 0; i < 60; i++) add(`many/file with a long name ${i}.bin`, pattern(i * 37, i));
    add('big.bin', pattern(1 * MiB + 3, 6));
    const img = join(tmp, `mkfs${variant}.img`);
    writeFileSync(img, new Uint8Array(0));
    run('truncate', ['-s', `${size}M`, img]);
    const mk = run('mkfs.fat', ['-F', String(bits), ...extra, img]);
    assert.equal(mk.code, 0, mk.out);
    const cp = run('sh', ['-c', `cd '${host}' && mcopy -s -i '${img}' * ::/`]);
    assert.equal(cp.code, 0, cp.out);
    const dev = new MemoryBlockDevice(new Uint8Array(readFileSync(img)));
    assertSameTree(await walk(await mountFat(dev, { readOnly: true })), expected, 'driver view of an mtools image');
    // The driver then changes the volume mtools made; fsck and mtools still agree with it.
    const fs = await mountFat(dev);
    await fs.rename('/many/file with a long name 1.bin', '/Program Files/moved.bin');
    for (let i = 2; i < 60; i += 2) await fs.unlink(`/many/file with a long name ${i}.bin`);
    for (let i = 0; i < 30; i++) await put(fs, `/many/new file ${i}.dat`, pattern(i * 1000, i));
    await fs.rmdir('/Program Files/a rather long directory name').catch((e: { code?: string }) => assert.equal(e.code, 'ENOTEMPTY'));
    const view = await walk(fs);
    await fs.unmount();
    writeFileSync(img, dev.bytes);
    const ck = run('fsck.fat', ['-n', img]);
    assert.equal(ck.code, 0, ck.out);
    assertSameTree(mtoolsTree(img), view, 'mtools view after the driver wrote');
  });
}

// --- volumes written by the driver, checked by fsck.fat and mtools ------------------------

async function workload(fs: FileSystem): Promise<void> {
  await fs.mkdir('/a');
  await fs.mkdir('/a/b');
  await fs.mkdir('/a/b/c with a long name');
  await fs.mkdir('/many');
  for (let i = 0; i < 120; i++) await put(fs, `/many/file with a long name ${i}.txt`, pattern((i * 997) % 9000, i));
  await put(fs, '/a/b/c with a long name/big.bin', pattern(2 * MiB + 5, 99));
  await put(fs, '/a/lower.txt', pattern(100, 1));
  await put(fs, '/a/UPPER.TXT', pattern(200, 2));
  await put(fs, '/ünïcødé 名前.txt', pattern(300, 3));
  for (let i = 0; i < 120; i += 3) await fs.unlink(`/many/file with a long name ${i}.txt`);
  for (let i = 1; i < 120; i += 5) if (i % 3 !== 0) await fs.rename(`/many/file with a long name ${i}.txt`, `/a/b/Renamed ${i}.TXT`);
  await fs.rename('/a/b/c with a long name', '/moved dir');
  await fs.rename('/many/file with a long name 2.txt', '/a/b/Renamed 1.TXT');
  for (let i = 4; i < 120; i += 7) {
    if (i % 3 === 0 || (i % 5 === 1 && i % 3 !== 0)) continue;
    const f = await fs.open(`/many/file with a long name ${i}.txt`, { ...W, truncate: false });
    await f.truncate(i * 13);
    await f.write(i * 20, pattern(50, i));
    await f.close();
  }
  await fs.mkdir('/gone');
  await put(fs, '/gone/x', pattern(10, 10));
  await fs.unlink('/gone/x');
  await fs.rmdir('/gone');
}

for (const [type, size] of [['fat12', 4], ['fat16', 32], ['fat32', 40]] as const) {
  test(`${type}_driver_volume_passes_fsck_and_mtools_agree`, { skip }, async () => {
    const dev = new MemoryBlockDevice(size * MiB);
    await formatFat(dev, { type, label: 'KILN TEST' });
    const fs = await mountFat(dev);
    await workload(fs);
    const view = await walk(fs);
    await fs.unmount();
    const img = join(tmp, `driver-${type}.img`);
    writeFileSync(img, dev.bytes);
    const ck = run('fsck.fat', ['-n', img]);
    assert.equal(ck.code, 0, ck.out);
    assertSameTree(mtoolsTree(img), view, 'mtools view of a driver image');
    assertSameTree(await walk(await mountFat(new MemoryBlockDevice(dev.bytes))), view, 'driver view after remount');
  });
}

test('full_disk_enospc_then_fsck_clean_and_files_intact', { skip }, async () => {
  const dev = new MemoryBlockDevice(3 * MiB);
  await formatFat(dev, { type: 'fat16' });
  const fs = await mountFat(dev);
  await put(fs, '/first', pattern(12345, 1));
  await fs.sync();
  let i = 0;
  let err: unknown;
  try {
    for (; ; i++) await put(fs, `/fill ${i}`, pattern(100 * 1024, i));
  } catch (e) {
    err = e;
  }
  assert.equal((err as { code?: string }).code, 'ENOSPC');
  await fs.unmount();
  const img = join(tmp, 'full.img');
  writeFileSync(img, dev.bytes);
  const ck = run('fsck.fat', ['-n', img]);
  assert.equal(ck.code, 0, ck.out);
  const tree = await walk(await mountFat(new MemoryBlockDevice(dev.bytes)));
  assert.deepEqual(tree.get('/first'), pattern(12345, 1));
  for (let k = 0; k < i; k++) assert.deepEqual(tree.get(`/fill ${k}`), pattern(100 * 1024, k));
  // The file whose write failed exists (it was created) with what fitted before the failure: nothing.
  assert.equal((tree.get(`/fill ${i}`) as Uint8Array).length, 0);
});

// --- crash simulation ------------------------------------------------------------------------

/** Forwards writes until the limit, then drops them (and flushes) silently: the VM died there. */
class CrashDevice implements FatBlockDevice {
  writes = 0;
  step = 0;
  crashedInStep = -1;
  constructor(readonly inner: MemoryBlockDevice, readonly limit: number) {}
  get size(): number {
    return this.inner.size;
  }
  get readOnly(): boolean {
    return false;
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    return this.inner.read(offset, length);
  }
  async write(offset: number, bytes: Uint8Array): Promise<void> {
    if (++this.writes > this.limit) {
      if (this.crashedInStep < 0) this.crashedInStep = this.step;
      return;
    }
    await this.inner.write(offset, bytes);
  }
  async flush(): Promise<void> {}
}

/** Steps of the crash workload; the volume is synced after each. */
const STEPS: ((fs: FileSystem) => Promise<void>)[] = [
  async (fs) => {
    await fs.mkdir('/d1');
    await fs.mkdir('/d2');
    await put(fs, '/d1/f1', pattern(3000, 1));
    await put(fs, '/d1/long name file.txt', pattern(100, 2));
    await put(fs, '/keep', pattern(7000, 3));
  },
  async (fs) => {
    const f = await fs.open('/d1/f1', { ...W, truncate: false });
    await f.write(3000, pattern(5000, 4));
    await f.close();
    await put(fs, '/d2/g', pattern(20000, 5));
  },
  (fs) => fs.rename('/d1/f1', '/d2/f1'),
  (fs) => fs.rename('/d2/g', '/d2/f1'),
  async (fs) => {
    await fs.unlink('/d1/long name file.txt');
    for (let i = 0; i < 40; i++) await put(fs, `/d2/small file number ${i}`, pattern(i * 50, i));
  },
  async (fs) => {
    const f = await fs.open('/d2/f1', { ...W, truncate: false });
    await f.truncate(1000);
    await f.write(1000, pattern(8000, 6));
    await f.close();
  },
  (fs) => fs.rename('/d2', '/d1/d2 moved'),
  async (fs) => {
    await put(fs, '/d1/d2 moved/f1', pattern(4000, 7));
    for (let i = 0; i < 40; i += 2) await fs.unlink(`/d1/d2 moved/small file number ${i}`);
  },
  async (fs) => {
    await fs.mkdir('/d3');
    await put(fs, '/d3/x', pattern(10, 8));
    await fs.unlink('/d3/x');
    await fs.rmdir('/d3');
    for (let i = 1; i < 10; i += 2) await fs.rename(`/d1/d2 moved/small file number ${i}`, `/d1/d2 moved/renamed with a much longer name ${i}`);
  },
];

const FSCK_ALLOWED = [
  /^fsck\.fat \d/, /^$/, /^Leaving filesystem unchanged\.$/, /: \d+ files, \d+\/\d+ clusters$/,
  /^Dirty bit is set\. Fs was not properly unmounted and some data may be corrupt\.$/, /^ Automatically removing dirty bit\.$/,
  /^There are differences between boot sector and its backup\.$/, /^This is mostly harmless\. Differences: \(offset:original\/backup\)$/,
  /^ {2}65:01\/00$/, /^ {2}Not automatically fixing this\.$/,
  /^FATs differ but appear to be intact\.$/, /^ {2}Using first FAT\.$/,
  /^Free cluster summary (uninitialized \(should be \d+\)|wrong \(\d+ vs\. really \d+\))$/, /^ {2}Auto-correcting\.$/,
  /^Reclaimed \d+ unused clusters? \(\d+ bytes\)( in \d+ chains?)?\.$/,
  /^\/.*$/, /^ {2}File size is \d+ bytes, cluster chain length is > \d+ bytes\.$/, /^ {2}Truncating file to \d+ bytes\.$/,
];

async function crashRun(type: FatType, size: number, limit: number): Promise<{ dev: MemoryBlockDevice; crashedInStep: number; writes: number }> {
  const inner = new MemoryBlockDevice(size);
  await formatFat(inner, { type, volumeId: 1 });
  const dev = new CrashDevice(inner, limit);
  try {
    const fs = await mountFat(dev);
    for (let s = 0; s < STEPS.length; s++) {
      dev.step = s;
      await STEPS[s]!(fs);
      await fs.sync();
    }
  } catch (e) {
    if (dev.crashedInStep < 0) throw e; // errors after the "crash" do not matter: the VM is gone
  }
  return { dev: inner, crashedInStep: dev.crashedInStep, writes: dev.writes };
}

async function snapshots(type: FatType, size: number): Promise<{ trees: Tree[]; total: number }> {
  const inner = new MemoryBlockDevice(size);
  await formatFat(inner, { type, volumeId: 1 });
  const dev = new CrashDevice(inner, Infinity);
  const fs = await mountFat(dev);
  const trees: Tree[] = [new Map()];
  for (const step of STEPS) {
    await step(fs);
    await fs.sync();
    trees.push(await walk(fs));
  }
  return { trees, total: dev.writes };
}

for (const [type, size] of [['fat16', 4 * MiB], ['fat32', 34 * MiB]] as const) {
  test(`${type}_crash_at_every_write_keeps_the_stated_guarantee`, { skip, timeout: 600_000 }, async () => {
    const { trees, total } = await snapshots(type, size);
    assert.ok(total > 50, `workload made ${total} writes`);
    const img = join(tmp, `crash-${type}.img`);
    const stride = type === 'fat32' ? 5 : 1;
    let checked = 0;
    let unclean = 0;
    for (let limit = 0; limit <= total; limit += stride) {
      const { dev, crashedInStep } = await crashRun(type, size, limit);
      writeFileSync(img, dev.bytes);
      const ck = run('fsck.fat', ['-n', img]);
      const bad = ck.out.split('\n').filter((l) => !FSCK_ALLOWED.some((re) => re.test(l)));
      assert.deepEqual(bad, [], `crash after write ${limit} (step ${crashedInStep}): fsck.fat says\n${ck.out}`);
      if (crashedInStep < 0) assert.equal(ck.code, 0, ck.out);
      if (ck.code !== 0) unclean++;
      const tree = await walk(await mountFat(new MemoryBlockDevice(dev.bytes.slice())));
      // Files the interrupted step did not change are exactly as synced before it.
      if (crashedInStep >= 0) {
        const before = trees[crashedInStep]!;
        const afterStep = trees[crashedInStep + 1]!;
        for (const [p, v] of before) {
          const w = afterStep.get(p);
          if (v === 'dir' || w === undefined || w === 'dir' || Buffer.compare(Buffer.from(v), Buffer.from(w)) !== 0) continue;
          const got = tree.get(p);
          assert.ok(got && got !== 'dir' && Buffer.compare(Buffer.from(got), Buffer.from(v)) === 0, `crash after write ${limit}: ${p} changed`);
        }
      } else {
        assertSameTree(tree, trees[STEPS.length]!, 'no crash');
      }
      checked++;
    }
    assert.ok(checked > 40);
    assert.ok(unclean > checked / 2, `only ${unclean} of ${checked} crash points left anything for fsck to report`);
    console.log(`${type}: ${total} writes, ${checked} crash points, ${unclean} with fsck reports (all allowed)`);
  });
}
