// Random operation sequences (fast-check) on the FAT driver over an in-memory device, against a
// simple model: a tree of maps with case-insensitive, case-preserving names. Every call's
// result (ok or errno code) must match the model's; the whole tree (names and bytes) must match
// after the run and after every remount. Names are drawn from a small pool so that case
// clashes, replacements and long names happen often.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { FsError, type FileSystem, type OpenFlags } from '../types.ts';
import type { FatType } from './bpb.ts';
import { MemoryBlockDevice } from './device.ts';
import { formatFat } from './format.ts';
import { mountFat } from './volume.ts';

type MFile = { kind: 'file'; data: Uint8Array };
type MDir = { kind: 'dir'; children: Map<string, { name: string; node: MNode }> };
type MNode = MFile | MDir;
type Code = 'ok' | string;

class ModelError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

const key = (n: string): string => n.toUpperCase();
const parts = (p: string): string[] => p.slice(1).split('/');

class Model {
  root: MDir = { kind: 'dir', children: new Map() };

  resolve(path: string): MNode {
    let n: MNode = this.root;
    for (const part of parts(path)) {
      if (n.kind !== 'dir') throw new ModelError('ENOTDIR');
      const c = n.children.get(key(part));
      if (!c) throw new ModelError('ENOENT');
      n = c.node;
    }
    return n;
  }

  parent(path: string): { dir: MDir; name: string } {
    const ps = parts(path);
    const name = ps.pop()!;
    const d = ps.length ? this.resolve('/' + ps.join('/')) : this.root;
    if (d.kind !== 'dir') throw new ModelError('ENOTDIR');
    return { dir: d, name };
  }

  openWrite(path: string, create: boolean): MFile {
    const { dir, name } = this.parent(path);
    const c = dir.children.get(key(name));
    if (c) {
      if (c.node.kind === 'dir') throw new ModelError('EISDIR');
      return c.node;
    }
    if (!create) throw new ModelError('ENOENT');
    const f: MFile = { kind: 'file', data: new Uint8Array(0) };
    dir.children.set(key(name), { name, node: f });
    return f;
  }

  contains(a: MNode, b: MNode): boolean {
    if (a === b) return true;
    if (a.kind !== 'dir') return false;
    for (const c of a.children.values()) if (this.contains(c.node, b)) return true;
    return false;
  }

  rename(from: string, to: string): void {
    const src = this.resolve(from);
    const { dir: sp, name: sname } = this.parent(from);
    const { dir: dst, name } = this.parent(to);
    const existing = dst.children.get(key(name));
    const srcEntry = sp.children.get(key(sname))!;
    if (existing && existing.node === src && existing.name === name) return;
    if (src.kind === 'dir' && this.contains(src, dst)) throw new ModelError('EINVAL');
    if (existing && existing.node !== src) {
      if (existing.node.kind === 'dir' && src.kind !== 'dir') throw new ModelError('EISDIR');
      if (existing.node.kind !== 'dir' && src.kind === 'dir') throw new ModelError('ENOTDIR');
      if (existing.node.kind === 'dir' && existing.node.children.size) throw new ModelError('ENOTEMPTY');
    }
    sp.children.delete(key(srcEntry.name));
    dst.children.set(key(name), { name, node: src });
  }
}

function setData(f: MFile, pos: number, data: Uint8Array): void {
  const end = Math.max(f.data.length, pos + data.length);
  const next = new Uint8Array(end);
  next.set(f.data);
  next.set(data, pos);
  f.data = next;
}

function truncateData(f: MFile, size: number): void {
  const next = new Uint8Array(size);
  next.set(f.data.subarray(0, Math.min(size, f.data.length)));
  f.data = next;
}

type Op =
  | { op: 'create'; path: string; data: Uint8Array }
  | { op: 'write'; path: string; pos: number; data: Uint8Array }
  | { op: 'truncate'; path: string; size: number }
  | { op: 'rename'; from: string; to: string }
  | { op: 'unlink'; path: string }
  | { op: 'mkdir'; path: string }
  | { op: 'rmdir'; path: string }
  | { op: 'sync' }
  | { op: 'remount' };

const NAMES = ['a', 'A', 'b', 'Long Name.txt', 'LONG NAME.TXT', 'c.d', 'sub dir', 'x'];
const pathArb = fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }).map((p) => '/' + p.join('/'));
const dataArb = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc.integer({ min: 0, max: 40000 }).map((n) => new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff)),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('create' as const), path: pathArb, data: dataArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('write' as const), path: pathArb, pos: fc.integer({ min: 0, max: 20000 }), data: dataArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), path: pathArb, size: fc.integer({ min: 0, max: 30000 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('rename' as const), from: pathArb, to: pathArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('unlink' as const), path: pathArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('mkdir' as const), path: pathArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rmdir' as const), path: pathArb }) },
  { weight: 1, arbitrary: fc.constant({ op: 'sync' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'remount' as const }) },
);

const WR: OpenFlags = { read: true, write: true, create: false, exclusive: false, truncate: false };

async function applyFs(fs: FileSystem, o: Op): Promise<void> {
  switch (o.op) {
    case 'create': {
      const f = await fs.open(o.path, { ...WR, create: true, truncate: true });
      try {
        if (o.data.length) await f.write(0, o.data);
      } finally {
        await f.close();
      }
      return;
    }
    case 'write':
    case 'truncate': {
      const f = await fs.open(o.path, WR);
      try {
        if (o.op === 'write') {
          if (o.data.length) await f.write(o.pos, o.data);
        } else await f.truncate(o.size);
      } finally {
        await f.close();
      }
      return;
    }
    case 'rename': return fs.rename(o.from, o.to);
    case 'unlink': return fs.unlink(o.path);
    case 'mkdir': return fs.mkdir(o.path);
    case 'rmdir': return fs.rmdir(o.path);
    case 'sync': return fs.sync();
    case 'remount': return;
  }
}

function applyModel(m: Model, o: Op): void {
  switch (o.op) {
    case 'create': {
      const f = m.openWrite(o.path, true);
      f.data = new Uint8Array(o.data);
      return;
    }
    case 'write': {
      const f = m.openWrite(o.path, false);
      if (o.data.length) setData(f, o.pos, o.data);
      return;
    }
    case 'truncate': return truncateData(m.openWrite(o.path, false), o.size);
    case 'rename': return m.rename(o.from, o.to);
    case 'unlink': {
      const n = m.resolve(o.path);
      if (n.kind === 'dir') throw new ModelError('EISDIR');
      const { dir, name } = m.parent(o.path);
      dir.children.delete(key(name));
      return;
    }
    case 'mkdir': {
      const { dir, name } = m.parent(o.path);
      if (dir.children.has(key(name))) throw new ModelError('EEXIST');
      dir.children.set(key(name), { name, node: { kind: 'dir', children: new Map() } });
      return;
    }
    case 'rmdir': {
      const n = m.resolve(o.path);
      if (n.kind !== 'dir') throw new ModelError('ENOTDIR');
      if (n.children.size) throw new ModelError('ENOTEMPTY');
      const { dir, name } = m.parent(o.path);
      dir.children.delete(key(name));
      return;
    }
    case 'sync':
    case 'remount': return;
  }
}

async function result(fn: () => Promise<void> | void): Promise<Code> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    if (e instanceof ModelError) return e.code;
    if (e instanceof FsError) return e.code;
    throw e;
  }
}

async function dump(fs: FileSystem, dir = '/', out: string[] = []): Promise<string[]> {
  for (const e of await fs.readdir(dir)) {
    const p = dir === '/' ? `/${e.name}` : `${dir}/${e.name}`;
    if (e.type === 'directory') {
      out.push(`${p}/`);
      await dump(fs, p, out);
    } else {
      const f = await fs.open(p, { ...WR, write: false });
      const size = (await f.stat()).size;
      const b = new Uint8Array(size);
      for (let n = 0; n < size;) n += await f.read(n, b, n, size - n);
      await f.close();
      out.push(`${p} ${Buffer.from(b).toString('base64')}`);
    }
  }
  return out;
}

function dumpModel(d: MDir, dir = '/', out: string[] = []): string[] {
  for (const { name, node } of d.children.values()) {
    const p = dir === '/' ? `/${name}` : `${dir}/${name}`;
    if (node.kind === 'dir') {
      out.push(`${p}/`);
      dumpModel(node, p, out);
    } else out.push(`${p} ${Buffer.from(node.data).toString('base64')}`);
  }
  return out;
}

for (const [type, size] of [['fat12', 4], ['fat16', 8], ['fat32', 34]] as const) {
  test(`${type}_random_operations_match_the_model`, { timeout: 300_000 }, async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 60 }), async (ops) => {
      const dev = new MemoryBlockDevice(size * 1024 * 1024);
      await formatFat(dev, { type: type as FatType });
      let fs = await mountFat(dev);
      const m = new Model();
      for (const [i, o] of ops.entries()) {
        const want = await result(() => applyModel(m, o));
        const got = await result(() => applyFs(fs, o));
        assert.equal(got, want, `op ${i} ${JSON.stringify({ ...o, data: undefined })}`);
        if (o.op === 'remount') {
          await fs.unmount();
          fs = await mountFat(dev);
          assert.deepEqual((await dump(fs)).sort(), dumpModel(m.root).sort(), `after remount at op ${i}`);
        }
      }
      assert.deepEqual((await dump(fs)).sort(), dumpModel(m.root).sort());
      await fs.unmount();
      assert.deepEqual((await dump(await mountFat(dev))).sort(), dumpModel(m.root).sort(), 'after the final remount');
    }), { numRuns: type === 'fat32' ? 80 : 150 });
  });
}
